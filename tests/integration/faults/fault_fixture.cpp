// See fault_fixture.hpp.
#include "faults/fault_fixture.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <regex>
#include <thread>

#include "support/http_client.hpp"

namespace sluice::testing {
namespace {

const std::string kTitanic = std::string(SLUICE_SHARED_DATA_DIR) + "/titanic.csv";

/// One seed per test process: printed, so a failing point can be replayed.
uint64_t ProcessSeed() {
  static const uint64_t seed = [] {
    const char* fixed = std::getenv("SLUICE_FAULT_SEED");
    uint64_t s = fixed != nullptr ? std::strtoull(fixed, nullptr, 10) : std::random_device{}();
    std::cout << "[faults] seed " << s << " (SLUICE_FAULT_SEED=" << s << " repeats these fault points)\n";
    return s;
  }();
  return seed;
}

std::string JsonString(const std::string& json, const std::string& key) {
  std::smatch m;
  if (std::regex_search(json, m, std::regex("\"" + key + "\":\"([^\"]*)\""))) return m[1];
  if (std::regex_search(json, m, std::regex("\"" + key + "\":(-?[0-9]+|null|true|false)"))) return m[1];
  return "";
}

bool HasSanitizerReport(const std::string& log) {
  return log.find("ERROR: AddressSanitizer") != std::string::npos ||
         log.find("ERROR: LeakSanitizer") != std::string::npos || log.find("runtime error:") != std::string::npos;
}

}  // namespace

void FaultTest::SetUp() {
  auto db = MariadbFromEnv();
  auto s3 = S3FromEnv("SLUICE_TEST_RGW");
  if (!db || !s3) {
    if (ServicesRequired()) FAIL() << "MariaDB and RGW are required";
    GTEST_SKIP() << "no MariaDB/RGW";
  }
  db_ = *db;
  s3_ = *s3;
  suffix_ = std::to_string(::getpid()) + "_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 100000);
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  rng_.seed(ProcessSeed() ^ std::hash<std::string>{}(info->name()));
  services_ok_ = true;
}

void FaultTest::TearDown() {
  if (sluice_) {
    old_logs_.push_back(sluice_->Log());
    sluice_->Kill();
  }
  for (const auto& log : old_logs_) {
    EXPECT_FALSE(HasSanitizerReport(log)) << log;
    if (HasFailure()) std::cerr << "----- sluice log -----\n" << log;
  }
}

void FaultTest::UsePrivateMariadb() {
  private_db_ = std::make_unique<PrivateMariadb>();
  std::string error;
  ASSERT_TRUE(private_db_->Start(&error)) << error;
  db_ = private_db_->target();
}

void FaultTest::UsePrivateRgw() {
  private_rgw_ = std::make_unique<PrivateRgw>();
  std::string error;
  ASSERT_TRUE(private_rgw_->Start(&error)) << error;
  s3_ = private_rgw_->target();
}

void FaultTest::StartSluice(const std::string& server_keys) {
  server_keys_ = server_keys;
  RestartSluice();
}

void FaultTest::RestartSluice() {
  if (sluice_) {
    old_logs_.push_back(sluice_->Log());
    sluice_->Kill();
  }
  sluice_ = std::make_unique<SluiceProcess>();
  sluice_->WriteConf(server_keys_,
                     "[mariadb]\nhost = 127.0.0.1\nport = " + std::to_string(db_.port) + "\nuser = " + db_.user +
                         "\npassword = " + db_.password + "\ndatabase = " + db_.database +
                         "\nconnect_timeout = 2s\n[s3]\nendpoint = " + s3_.endpoint + "\nbucket = " + s3_.bucket +
                         "\npath_style = true\naccess_key = " + s3_.access_key + "\nsecret_key = " + s3_.secret_key +
                         "\npart_size = 5M\nretries = 2\n");
  std::string error;
  ASSERT_TRUE(sluice_->Start(&error)) << error;
  // The catalog initialises (and recovers) asynchronously: wait until uploads are accepted.
  for (int i = 0; i < 300; ++i) {
    if (Fetch(sluice_->Url("/v1/uploads?limit=1")).status == 200) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL() << "the catalog never became ready";
}

std::string FaultTest::Sql(const std::string& query) {
  return RunCommand("mariadb --no-defaults -S " + db_.root_socket + " -uroot -N -B " + db_.database + " -e \"" +
                    query + "\" 2>&1");
}

std::string FaultTest::S3Keys(const std::string& query) {
  // curl's own SigV4 (much quicker than starting awscli); it signs the query
  // as given, so the parameters are in sorted order and `uploads=` has its '='.
  std::string xml = RunCommand("curl -s -m 30 --aws-sigv4 aws:amz:us-east-1:s3 --user " + s3_.access_key + ":" +
                               s3_.secret_key +
                               " -H 'x-amz-content-sha256: "
                               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' '" +
                               s3_.endpoint + "/" + s3_.bucket + "?" + query + "'");
  if (xml.find("<Error>") != std::string::npos || xml.find("Result") == std::string::npos) return "S3 error: " + xml;
  std::string keys;
  std::regex key("<Key>([^<]*)</Key>");
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), key); it != std::sregex_iterator(); ++it) {
    keys += (*it)[1].str() + "\n";
  }
  return keys;
}

namespace {
std::string EncodePrefix(const std::string& prefix) {
  std::string out;
  for (char c : prefix) out += c == '/' ? std::string("%2F") : std::string(1, c);
  return out;
}
}  // namespace

std::string FaultTest::ObjectsUnder(const std::string& prefix) {
  return S3Keys("list-type=2&prefix=" + EncodePrefix(prefix));
}

std::string FaultTest::MultipartUploadsUnder(const std::string& prefix) {
  return S3Keys("prefix=" + EncodePrefix(prefix) + "&uploads=");
}

CatalogRecord FaultTest::RecordOf(const std::string& table) {
  std::string row = Sql("SELECT id, state, IFNULL(error_code, '-') FROM sluice_uploads WHERE table_name = '" + table +
                        "' ORDER BY created_at DESC LIMIT 1");
  CatalogRecord record;
  std::smatch m;
  if (std::regex_search(row, m, std::regex("^(\\S+)\\t(\\S+)\\t(\\S+)\\n$"))) {
    record.id = m[1];
    record.state = m[2];
    record.error_code = m[3];
  }
  return record;
}

CatalogRecord FaultTest::WaitFinished(const std::string& table) {
  CatalogRecord record;
  for (int i = 0; i < 600; ++i) {
    record = RecordOf(table);
    if (!record.id.empty() && record.state != "receiving" && record.state != "loading") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return record;
}

void FaultTest::ExpectNothingLeft(const CatalogRecord& record, const std::string& table) {
  ASSERT_FALSE(record.id.empty()) << "no upload record for " << table;
  // The record explains itself, in the catalog and through the API.
  EXPECT_TRUE(record.state == "failed" || record.state == "cancelled") << record.state;
  EXPECT_NE(record.error_code, "-");
  auto api = Fetch(sluice_->Url("/v1/uploads/" + record.id + "?wait=30"));
  EXPECT_EQ(api.status, 200) << api.body;
  EXPECT_EQ(JsonString(api.body, "state"), record.state) << api.body;
  EXPECT_NE(api.body.find("\"code\":\"" + record.error_code + "\""), std::string::npos) << api.body;
  EXPECT_EQ(JsonString(api.body, "rows_loaded"), "0") << api.body;
  // No table, no staging table, nothing in S3.
  EXPECT_EQ(Sql("SHOW TABLES LIKE '" + table + "'"), "");
  EXPECT_EQ(Sql("SHOW TABLES LIKE '\\_sluice\\_%'"), "");
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM sluice_tables WHERE name = '" + table + "'"), "0\n");
  // S3 steps that failed while S3 was away are retried every 2 s once it is
  // back (ingest/leftovers): give them up to 30 s.
  std::string prefix = "uploads/" + record.id + "/";
  std::string objects, multipart;
  for (int i = 0; i < 60; ++i) {
    objects = ObjectsUnder(prefix);
    multipart = MultipartUploadsUnder(prefix);
    if (objects.empty() && multipart.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_EQ(objects, "");
  EXPECT_EQ(multipart, "");
}

void FaultTest::ExpectServing() {
  EXPECT_EQ(Fetch(sluice_->Url("/healthz")).status, 200);
  auto tables = Fetch(sluice_->Url("/v1/tables"));
  EXPECT_EQ(tables.status, 200) << tables.body;
  std::string table = Table("after");
  auto next = Fetch(sluice_->Url("/v1/uploads?table=" + table),
                    {.method = "POST", .headers = {"Content-Type: text/csv"}, .body_file = kTitanic});
  ASSERT_EQ(next.status, 201) << next.body;
  EXPECT_EQ(JsonString(next.body, "rows_loaded"), "891");
  auto rows = Fetch(sluice_->Url("/v1/tables/" + table + "/rows?Sex=female&sort=Name:desc&limit=3"));
  EXPECT_EQ(rows.status, 200) << rows.body;
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM \\`" + table + "\\`"), "891\n");
  EXPECT_NE(ObjectsUnder("uploads/" + JsonString(next.body, "id") + "/"), "");
}

uint64_t FaultTest::RandomPoint(uint64_t total, double lo, double hi) {
  std::uniform_real_distribution<double> fraction(lo, hi);
  double f = fraction(rng_);
  std::cout << "[faults] fault at " << static_cast<int>(f * 100) << "% of " << total << " bytes\n";
  return static_cast<uint64_t>(f * static_cast<double>(total));
}

std::string FaultTest::UploadTarget(const std::string& table, const std::string& filename) const {
  return "/v1/uploads?filename=" + filename + "&table=" + table;
}

}  // namespace sluice::testing
