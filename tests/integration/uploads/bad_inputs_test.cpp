// The bad-inputs catalogue (tests/bad_inputs.md): files and bodies a careless
// or hostile client sends, each uploaded over HTTP to the real `sluice serve`
// with a real MariaDB and s3rver, each with the answer it must get — the
// API's error shape (`{"error":{"code","message"}}`) with a 4xx when the file
// cannot be ingested, the documented record otherwise — and after each: no
// half-loaded table, no staging table (`_sluice…`) left, and the server still
// answering. One server serves the whole suite, as one would in production.
#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <memory>
#include <regex>
#include <string>
#include <thread>

#include "support/http_client.hpp"
#include "support/services.hpp"
#include "support/sluice_process.hpp"

namespace sluice::testing {
namespace {

std::string Field(const std::string& json, const std::string& key) {
  std::smatch m;
  if (std::regex_search(json, m, std::regex("\"" + key + "\":\"([^\"]*)\""))) return m[1];
  if (std::regex_search(json, m, std::regex("\"" + key + "\":(-?[0-9]+|null|true|false)"))) return m[1];
  return "";
}

/// The error code of an API error body ("" when it is not one).
std::string ErrorCode(const std::string& json) {
  std::smatch m;
  if (std::regex_search(json, m, std::regex(R"re("error":\{"code":"([a-z_]+)","message":"[^"]+)re"))) return m[1];
  return "";
}

std::string Gzip(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

/// Deterministic noise (xorshift), NULs and all.
std::string Garbage(std::size_t n) {
  std::string out(n, '\0');
  std::uint64_t x = 0x2545F4914F6CDD1DULL;
  for (auto& c : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x >> 56);
  }
  return out;
}

class BadInputsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto db = MariadbFromEnv();
    auto s3 = S3FromEnv("SLUICE_TEST_S3RVER");
    if (!db || !s3) return;
    db_ = *db;
    server_ = new SluiceProcess();
    server_->WriteConf("",
                       "[mariadb]\nhost = 127.0.0.1\nport = " + std::to_string(db_.port) + "\nuser = " + db_.user +
                           "\npassword = " + db_.password + "\ndatabase = " + db_.database +
                           "\n[s3]\nendpoint = " + s3->endpoint + "\nbucket = " + s3->bucket +
                           "\npath_style = true\naccess_key = " + s3->access_key +
                           "\nsecret_key = " + s3->secret_key + "\n[log]\nlevel = warn\n");
    std::string error;
    if (!server_->Start(&error)) {
      start_error_ = error;
      return;
    }
    for (int i = 0; i < 100; ++i) {
      if (Fetch(server_->Url("/v1/uploads?limit=1")).status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    start_error_ = "the catalog never became ready";
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (server_ == nullptr) {
      if (ServicesRequired()) FAIL() << "MariaDB and s3rver are required";
      GTEST_SKIP() << "no MariaDB/s3rver";
    }
    ASSERT_EQ(start_error_, "");
    prefix_ = "bad_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++);
  }
  void TearDown() override {
    // After every input: the server still answers, and no staging table is left.
    auto health = Fetch(server_->Url("/healthz"));
    EXPECT_EQ(health.status, 200) << health.error;
    EXPECT_EQ(Sql("SHOW TABLES LIKE '\\\\_sluice%'"), "") << "a staging table was left behind";
    if (HasFailure()) std::cerr << server_->Log();
  }

  struct Answer {
    int status = 0;
    std::string body;
  };
  /// POSTs `body` raw to /v1/uploads?table=<prefix>&<query> on a fresh connection.
  Answer Upload(const std::string& body, const std::string& query = "",
                const std::string& headers = "Content-Type: text/csv\r\n") {
    RawConnection c(server_->port());
    EXPECT_TRUE(c.connected());
    return UploadOn(c, body, query, headers);
  }
  Answer UploadOn(RawConnection& c, const std::string& body, const std::string& query = "",
                  const std::string& headers = "Content-Type: text/csv\r\n") {
    std::string target = "/v1/uploads?table=" + prefix_ + (query.empty() ? "" : "&" + query);
    EXPECT_TRUE(c.Send("POST " + target + " HTTP/1.1\r\nHost: x\r\n" + headers +
                       "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body));
    auto r = c.ReadResponse(std::chrono::seconds(60));
    if (!r) return {};
    return {r->status, r->body};
  }
  std::string Sql(const std::string& query) {
    return RunCommand("mariadb --no-defaults -S " + db_.root_socket + " -uroot -N -B " + db_.database + " -e \"" +
                      query + "\" 2>&1");
  }
  bool TableExists() { return Sql("SHOW TABLES LIKE '" + prefix_ + "'") != ""; }
  std::string Count() { return Sql("SELECT COUNT(*) FROM \\`" + prefix_ + "\\`"); }
  /// A 422 whose record says `failed` with `code`, and no table.
  void ExpectFailed(const Answer& a, const std::string& code) {
    EXPECT_EQ(a.status, 422) << a.body;
    EXPECT_EQ(Field(a.body, "state"), "failed") << a.body;
    EXPECT_EQ(Field(a.body, "code"), code) << a.body;
    EXPECT_FALSE(Field(a.body, "message").empty()) << a.body;
    EXPECT_FALSE(TableExists()) << "a failed upload left table " << prefix_;
  }

  static inline SluiceProcess* server_ = nullptr;
  static inline MariadbTarget db_;
  static inline std::string start_error_;
  static inline int counter_ = 0;
  std::string prefix_;
};

TEST_F(BadInputsTest, BinaryGarbage) {
  ExpectFailed(Upload(Garbage(64 * 1024)), "invalid_csv");
}

TEST_F(BadInputsTest, InvalidUtf8InTheHeaderFallsBackToLatin1) {
  auto a = Upload("caf\xe9,n\nx,1\n");
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_NE(a.body.find("\"name\":\"caf\xc3\xa9\""), std::string::npos) << a.body;
  EXPECT_EQ(Count(), "1\n");
}

TEST_F(BadInputsTest, InvalidUtf8InRowsOfAUtf8FileAreRejectedRows) {
  auto a = Upload("name,n\nok,1\nbad\xff\xfe,2\nalso ok,3\n", "encoding=utf-8");
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(Field(a.body, "rows_loaded"), "2");
  EXPECT_EQ(Field(a.body, "rows_rejected"), "1");
  EXPECT_EQ(Field(a.body, "line"), "3") << a.body;
  EXPECT_EQ(Count(), "2\n");
}

TEST_F(BadInputsTest, InvalidUtf8WithOnErrorAbortFails) {
  ExpectFailed(Upload("name,n\nok,1\nbad\xff,2\n", "encoding=utf-8&on_error=abort"), "bad_row");
}

TEST_F(BadInputsTest, NulBytesAreData) {
  auto a = Upload(std::string("a\0b,c\nx\0y,1\n", 13));
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(Field(a.body, "rows_loaded"), "1");
  EXPECT_EQ(Sql("SELECT LENGTH(c) FROM \\`" + prefix_ + "\\`"), "1\n");
}

TEST_F(BadInputsTest, OneMegabyteField) {
  auto a = Upload("id,blob\n1," + std::string(1 << 20, 'x') + "\n2,short\n");
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(Field(a.body, "rows_loaded"), "2");
  EXPECT_EQ(Sql("SELECT MAX(LENGTH(\\`blob\\`)) FROM \\`" + prefix_ + "\\`"), "1048576\n");
}

TEST_F(BadInputsTest, TenThousandColumnHeader) {
  std::string header, row;
  for (int i = 0; i < 10000; ++i) {
    header += (i ? ",c" : "c") + std::to_string(i);
    row += i ? ",1" : "1";
  }
  auto a = Upload(header + "\n" + row + "\n");
  ExpectFailed(a, "too_many_columns");
}

TEST_F(BadInputsTest, HeaderOnlyMakesAnEmptyTable) {
  auto a = Upload("a,b,c\n");
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(Field(a.body, "rows_loaded"), "0");
  EXPECT_EQ(Count(), "0\n");
}

TEST_F(BadInputsTest, EmptyFile) { ExpectFailed(Upload(""), "no_header"); }

TEST_F(BadInputsTest, OnlyNewlines) { ExpectFailed(Upload("\n\r\n\n\r\r\n"), "no_header"); }

TEST_F(BadInputsTest, QuoteOpenToTheEndOfTheFile) {
  auto a = Upload("a,b\n1,2\n3,\"never closed\n4,5\n6,7\n");
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(Field(a.body, "rows_loaded"), "1");
  EXPECT_EQ(Field(a.body, "rows_rejected"), "1");
  EXPECT_EQ(Field(a.body, "line"), "3") << a.body;
}

TEST_F(BadInputsTest, MixedLineEndings) {
  auto a = Upload("a,b\r\n1,2\n3,4\r5,6\r\n7,8");
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(Field(a.body, "rows_loaded"), "4");
  EXPECT_EQ(Sql("SELECT GROUP_CONCAT(b ORDER BY _row) FROM \\`" + prefix_ + "\\`"), "2,4,6,8\n");
}

TEST_F(BadInputsTest, ByteOrderMarkInTheMiddleIsData) {
  auto a = Upload("\xEF\xBB\xBF" "a,b\n1,\xEF\xBB\xBF" "2\n3,4\n");
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_NE(a.body.find("\"name\":\"a\""), std::string::npos) << a.body;  // the leading BOM is dropped
  EXPECT_EQ(Field(a.body, "rows_loaded"), "2");
  EXPECT_EQ(Sql("SELECT HEX(b) FROM \\`" + prefix_ + "\\` ORDER BY _row LIMIT 1"), "EFBBBF32\n");
}

TEST_F(BadInputsTest, Latin1NamedAsUtf8RejectsTheRows) {
  auto a = Upload("name,city\nJos\xe9,S\xe3o Paulo\nAnn,Oslo\n", "encoding=utf-8");
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(Field(a.body, "rows_loaded"), "1");
  EXPECT_EQ(Field(a.body, "rows_rejected"), "1");
}

TEST_F(BadInputsTest, Latin1WithAutoIsTranscoded) {
  auto a = Upload("name,city\nJos\xe9,S\xe3o Paulo\n");
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(Sql("SELECT name FROM \\`" + prefix_ + "\\`"), "Jos\xc3\xa9\n");
}

TEST_F(BadInputsTest, TruncatedGzip) {
  std::string csv = "a,b\n";
  for (int i = 0; i < 20000; ++i) csv += std::to_string(i) + ",row " + std::to_string(i) + "\n";
  std::string gz = Gzip(csv);
  ExpectFailed(Upload(gz.substr(0, gz.size() / 2), "filename=t.csv.gz"), "invalid_gzip");
}

TEST_F(BadInputsTest, GzipHeaderOnGarbage) {
  ExpectFailed(Upload("\x1f\x8b\x08\x00garbage that is not deflate", "filename=t.csv.gz"), "invalid_gzip");
}

TEST_F(BadInputsTest, MultipartWithoutClosingBoundary) {
  std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.csv\"\r\n"
      "Content-Type: text/csv\r\n\r\na,b\r\n1,2\r\n";
  auto a = Upload(body, "", "Content-Type: multipart/form-data; boundary=XyZ\r\n");
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_EQ(ErrorCode(a.body), "bad_request") << a.body;
  EXPECT_FALSE(TableExists());
}

/// True when `json` has `member` (e.g. `"rows_loaded":1`) not followed by
/// another digit: a cheap check for 10,000 answers (std::regex is not).
bool HasMember(const std::string& json, const std::string& member) {
  for (auto at = json.find(member); at != std::string::npos; at = json.find(member, at + 1)) {
    auto next = at + member.size();
    if (next >= json.size() || json[next] < '0' || json[next] > '9') return true;
  }
  return false;
}

/// How many tiny uploads: SLUICE_TEST_TINY_UPLOADS, else the catalogue's
/// 10,000 — 1,000 in a sanitizer build, where every upload costs several
/// times the CPU (the Release pass runs the full count).
int TinyUploadCount() {
#if defined(__SANITIZE_ADDRESS__)
  const char* fallback = "1000";
#else
  const char* fallback = "10000";
#endif
  return std::atoi(Env("SLUICE_TEST_TINY_UPLOADS", fallback).c_str());
}

// 10,000 tiny uploads in a row on one keep-alive connection, each with its
// documented answer: a one-row file appended to one table is 201 `done` with
// rows_loaded 1; mixed in, one in every 100 is each of a file with another
// column (422 columns_mismatch), a row whose value does not fit the BIGINT
// column (201, rows_rejected 1) and the bytes of the upload before it again
// (409 duplicate_upload). After: the table holds exactly the good rows, in
// upload order; the catalog's row count and records agree; no staging table
// is left (TearDown); the server still answers; it holds no more file
// descriptors than before, give or take a pooled connection; and (almost) no
// CREATE or DROP TABLE ran: small appends load straight into the target in
// one transaction, with no staging table, so 10,000 take about a minute, not
// the half hour a staging table's DDL per upload cost.
TEST_F(BadInputsTest, ManyTinyUploadsOnOneConnection) {
  const int n = TinyUploadCount();
  ASSERT_GE(n, 5);
  auto open_fds = [] {
    return std::distance(std::filesystem::directory_iterator("/proc/" + std::to_string(server_->pid()) + "/fd"),
                         std::filesystem::directory_iterator{});
  };
  RawConnection c(server_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_EQ(UploadOn(c, "a,b\n0,x\n").status, 201);
  // A few first, so the pools (MariaDB connections, curl's) are warm.
  for (int i = 1; i < 5; ++i) ASSERT_EQ(UploadOn(c, "a,b\n" + std::to_string(i) + ",x\n", "mode=append").status, 201);
  const auto fds_before = open_fds();
  // DDL statements the server ran (CREATE and DROP TABLE): a staging table per
  // upload would be two per upload.
  auto ddl_count = [this] {
    long long total = 0;
    std::string status = Sql("SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_create_table', 'Com_drop_table')");
    for (std::size_t at = status.find('\t'); at != std::string::npos; at = status.find('\t', at + 1)) {
      total += std::atoll(status.c_str() + at + 1);
    }
    return total;
  };
  const long long ddl_before = ddl_count();
  long long good = 5, good_sum = 0 + 1 + 2 + 3 + 4;
  int mismatched = 0, rejected = 0, duplicates = 0;
  std::string previous = "a,b\n4,x\n";
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 5; i < n; ++i) {
    std::string body;
    int status = 201;
    std::string expect;  // a member the answer must have
    switch (i % 100) {
      case 37:
        body = previous;
        status = 409;
        expect = R"("code":"duplicate_upload")";
        ++duplicates;
        break;
      case 61:
        body = "a,c\n" + std::to_string(i) + ",x\n";
        status = 422;
        expect = R"("code":"columns_mismatch")";
        ++mismatched;
        break;
      case 83:
        body = "a,b\nnot-a-number-" + std::to_string(i) + ",x\n";
        expect = R"("rows_rejected":1)";
        ++rejected;
        break;
      default:
        body = "a,b\n" + std::to_string(i) + ",x\n";
        expect = R"("rows_loaded":1)";
        previous = body;
        ++good;
        good_sum += i;
    }
    auto a = UploadOn(c, body, "mode=append");
    ASSERT_EQ(a.status, status) << "upload " << i << ": " << a.body;
    ASSERT_TRUE(HasMember(a.body, expect)) << "upload " << i << " lacks " << expect << ": " << a.body;
    if (status == 201) ASSERT_TRUE(HasMember(a.body, R"("state":"done")")) << "upload " << i << ": " << a.body;
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%d tiny uploads on one keep-alive connection in %lld ms (%d 422, %d with a rejected row, %d 409)\n", n,
              static_cast<long long>(ms), mismatched, rejected, duplicates);
  const std::string table = "\\`" + prefix_ + "\\`";
  EXPECT_EQ(Sql("SELECT COUNT(*), COUNT(DISTINCT a), SUM(a) FROM " + table),
            std::to_string(good) + "\t" + std::to_string(good) + "\t" + std::to_string(good_sum) + "\n");
  // In upload order: `_row` 1..good with `a` rising.
  EXPECT_EQ(Sql("SELECT MIN(_row), MAX(_row) FROM " + table), "1\t" + std::to_string(good) + "\n");
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM (SELECT a, LAG(a) OVER (ORDER BY _row) AS p FROM " + table +
                ") AS z WHERE a <= p"),
            "0\n");
  EXPECT_EQ(Sql("SELECT row_count FROM sluice_tables WHERE name = '" + prefix_ + "'"), std::to_string(good) + "\n");
  EXPECT_EQ(Sql("SELECT state, COUNT(*), SUM(rows_loaded) FROM sluice_uploads WHERE table_name = '" + prefix_ +
                "' GROUP BY state ORDER BY state"),
            "done\t" + std::to_string(good + rejected) + "\t" + std::to_string(good) + "\nfailed\t" +
                std::to_string(mismatched + duplicates) + "\t0\n");
  EXPECT_LE(open_fds(), fds_before + 4) << "file descriptors grew over " << n << " uploads";
  // Small appends load direct: no staging table, so (next to nothing) no DDL.
  EXPECT_LT(ddl_count() - ddl_before, n / 100 + 1) << "tiny appends ran CREATE/DROP TABLE";
}

}  // namespace
}  // namespace sluice::testing
