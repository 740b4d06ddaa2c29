// The query routes keep table entries in memory (db/table_cache.hpp); these
// tests make sure that never shows an old table. On the real `sluice serve`
// (MariaDB + s3rver): a table created, replaced (other columns), appended to
// and dropped through the API is answered right by the very next query; a
// table replaced by another process (`sluice ingest`) or dropped behind the
// server's back is answered right too (the query that trips over the change
// reads the entry again).
#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/services.hpp"
#include "support/sluice_process.hpp"

namespace sluice::testing {
namespace {

/// What a JSON page says: total, column names, rows as text.
struct CachePage {
  int status = 0;
  std::optional<std::uint64_t> total;
  std::vector<std::string> keys;
  std::vector<std::vector<std::string>> rows;
  std::string body;
};

class QueryCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = MariadbFromEnv();
    auto s3 = S3FromEnv("SLUICE_TEST_S3RVER");
    if (!db || !s3) {
      if (ServicesRequired()) FAIL() << "MariaDB and s3rver are required";
      GTEST_SKIP() << "no MariaDB/s3rver";
    }
    db_ = *db;
    server_ = std::make_unique<SluiceProcess>();
    mariadb_section_ = "[mariadb]\nhost = 127.0.0.1\nport = " + std::to_string(db_.port) + "\nuser = " + db_.user +
                       "\npassword = " + db_.password + "\ndatabase = " + db_.database + "\n";
    server_->WriteConf("", mariadb_section_ + "[s3]\nendpoint = " + s3->endpoint + "\nbucket = " + s3->bucket +
                               "\npath_style = true\naccess_key = " + s3->access_key +
                               "\nsecret_key = " + s3->secret_key + "\n");
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
    for (int i = 0; i < 100; ++i) {
      if (Fetch(server_->Url("/v1/tables")).status == 200) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    table_ = "qcache_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++);
  }
  void TearDown() override {
    if (HasFailure() && server_) std::cerr << server_->Log();
  }

  /// POST /v1/uploads with `csv` as the raw body; the upload's HTTP status.
  int Upload(const std::string& csv, const std::string& mode) {
    auto result = Fetch(server_->Url("/v1/uploads?table=" + table_ + "&mode=" + mode + "&filename=t.csv"),
                        {.method = "POST", .body = csv, .headers = {"Content-Type: text/csv"}});
    EXPECT_EQ(result.status, 201) << result.body;
    return result.status;
  }

  CachePage Rows(const std::string& query = "") {
    CachePage page;
    auto result = Fetch(server_->Url("/v1/tables/" + table_ + "/rows?" + query));
    page.status = result.status;
    page.body = result.body;
    if (result.status != 200) return page;
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    EXPECT_EQ(parser.parse(result.body).get(root), simdjson::SUCCESS) << result.body;
    std::uint64_t total = 0;
    if (root["total"].get(total) == simdjson::SUCCESS) page.total = total;
    bool first = true;
    for (simdjson::dom::object row : root["rows"].get_array()) {
      std::vector<std::string> cells;
      for (auto field : row) {
        if (first) page.keys.emplace_back(field.key);
        cells.push_back(simdjson::to_string(field.value));
      }
      first = false;
      page.rows.push_back(std::move(cells));
    }
    return page;
  }

  /// `sluice ingest` of `csv` into the table: another process writing the catalog.
  void IngestElsewhere(const std::string& csv) {
    std::string file = server_->dir() + "/elsewhere.csv", conf = server_->dir() + "/ingest.conf";
    std::ofstream(file, std::ios::binary) << csv;
    std::ofstream(conf) << mariadb_section_ << "[s3]\nendpoint = http://127.0.0.1:9\n";
    int rc = 0;
    std::string out = RunCommand(std::string(SLUICE_BINARY) + " ingest " + file + " --table " + table_ +
                                     " --mode replace --no-s3 -c " + conf + " 2>&1",
                                 &rc);
    ASSERT_EQ(rc, 0) << out;
  }

  std::string Sql(const std::string& query) {
    return RunCommand("mariadb --no-defaults -S " + db_.root_socket + " -uroot -N -B " + db_.database + " -e \"" +
                      query + "\" 2>&1");
  }

  MariadbTarget db_;
  std::string mariadb_section_;
  std::unique_ptr<SluiceProcess> server_;
  std::string table_;
  static inline int counter_ = 0;
};

using Cells = std::vector<std::vector<std::string>>;

TEST_F(QueryCacheTest, ChangesThroughTheApiAreSeenByTheNextQuery) {
  ASSERT_EQ(Upload("a,b\n1,x\n2,y\n", "create"), 201);
  for (int i = 0; i < 3; ++i) {  // the first reads the catalog, the others its memory
    CachePage page = Rows();
    EXPECT_EQ(page.keys, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(page.total, 2u);
  }
  // Replaced, with other columns.
  ASSERT_EQ(Upload("c,d\n10,p\n20,q\n30,r\n", "replace"), 201);
  CachePage replaced = Rows();
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(replaced.keys, (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(replaced.total, 3u);
  EXPECT_EQ(Rows("c=gt:15").rows, (Cells{{"20", "\"q\""}, {"30", "\"r\""}}));
  EXPECT_EQ(Rows("a=1").status, 400);  // the old column is gone
  // Appended to: the total (the catalog's count) follows at once.
  ASSERT_EQ(Upload("c,d\n40,s\n", "append"), 201);
  CachePage appended = Rows();
  EXPECT_EQ(appended.total, 4u);
  ASSERT_EQ(appended.rows.size(), 4u);
  EXPECT_EQ(appended.rows[3], (std::vector<std::string>{"40", "\"s\""}));
  auto count = Fetch(server_->Url("/v1/tables/" + table_ + "/aggregate?count=true"));
  EXPECT_NE(count.body.find("\"count\":4"), std::string::npos) << count.body;
  // An index changes nothing a query sees.
  auto index = Fetch(server_->Url("/v1/tables/" + table_ + "/indexes"),
                     {.method = "POST", .body = R"({"columns":["c"]})", .headers = {"Content-Type: application/json"}});
  EXPECT_EQ(index.status, 201) << index.body;
  EXPECT_EQ(Rows("sort=c:desc&limit=1").rows, (Cells{{"40", "\"s\""}}));
  // Dropped: 404 at once; created again: the new one at once.
  EXPECT_EQ(Fetch(server_->Url("/v1/tables/" + table_), {.method = "DELETE"}).status, 204);
  EXPECT_EQ(Rows().status, 404);
  EXPECT_EQ(Fetch(server_->Url("/v1/tables/" + table_ + "/aggregate?count=true")).status, 404);
  ASSERT_EQ(Upload("e\n5\n", "create"), 201);
  CachePage again = Rows();
  EXPECT_EQ(again.keys, (std::vector<std::string>{"e"}));
  EXPECT_EQ(again.total, 1u);
  Fetch(server_->Url("/v1/tables/" + table_), {.method = "DELETE"});
}

TEST_F(QueryCacheTest, ChangesByAnotherProcessAreSeenToo) {
  ASSERT_EQ(Upload("a,b\n1,x\n2,y\n", "create"), 201);
  ASSERT_EQ(Rows().total, 2u);  // kept in memory now
  // Another process replaces it with other columns: a query built from the
  // kept entry trips over the change and reads the entry again (or the entry
  // has aged out already); either way the answer is the new table's.
  IngestElsewhere("f,g\n7,u\n8,v\n9,w\n");
  CachePage page = Rows();
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.keys, (std::vector<std::string>{"f", "g"}));
  EXPECT_EQ(page.total, 3u);
  EXPECT_EQ(Rows("sort=f:desc&limit=1").rows, (Cells{{"9", "\"w\""}}));
  // Dropped behind the server's back (its catalog entry left): 404, not 500.
  ASSERT_EQ(Rows().status, 200);
  Sql("DROP TABLE \\`" + table_ + "\\`");
  CachePage gone = Rows();
  EXPECT_EQ(gone.status, 404) << gone.body;
  Sql("DELETE FROM sluice_tables WHERE name = '" + table_ + "'");
}

}  // namespace
}  // namespace sluice::testing
