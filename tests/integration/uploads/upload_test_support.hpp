// What the upload tests share: a fixture that runs the real `sluice serve`
// against the test MariaDB and Ceph RGW (skipping, or failing under
// SLUICE_TEST_REQUIRE_SERVICES=1, without them), and the ways a test looks at
// the outcome from outside — SQL as root over the socket, the S3 object read
// back with curl's own SigV4 signing (awscli's start-up costs a second of CPU
// per call), open multipart uploads listed on RGW with awscli, fields of a JSON
// record — plus simple CSV files whose every row can be compared with the
// table's (values that print back from their inferred types unchanged).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "support/http_client.hpp"
#include "support/services.hpp"
#include "support/sluice_process.hpp"

namespace sluice::testing::uploads {

inline const std::string kTitanicCsv = std::string(SLUICE_SHARED_DATA_DIR) + "/titanic.csv";

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void WriteWholeFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

/// A string, number, boolean or null field of a JSON text ("" when absent);
/// the first match, which for a record is the record's own field.
inline std::string JsonValue(const std::string& json, const std::string& key) {
  std::smatch m;
  std::regex string_field("\"" + key + "\":\"([^\"]*)\"");
  if (std::regex_search(json, m, string_field)) return m[1];
  std::regex other_field("\"" + key + "\":(-?[0-9]+|null|true|false)");
  if (std::regex_search(json, m, other_field)) return m[1];
  return "";
}

/// `rows` rows of id,name,amount,day — BIGINT, TEXT (with UTF-8 and spaces),
/// DECIMAL(…,2), DATE once inferred — that MariaDB prints back exactly as
/// written; `seed` makes files of the same size differ. Header included.
inline std::string SimpleCsv(int rows, int seed) {
  std::string out = "id,name,amount,day\n";
  char line[160];
  for (int i = 1; i <= rows; ++i) {
    unsigned v = static_cast<unsigned>(i) * 2654435761u + static_cast<unsigned>(seed) * 40503u;
    std::snprintf(line, sizeof line, "%d,Zoë %d-%u Ñame,%u.%02u,2024-%02u-%02u\n", i, seed, v % 9973, v % 100000,
                  (v >> 7) % 100, 1 + (v >> 3) % 12, 1 + (v >> 11) % 28);
    out += line;
  }
  return out;
}

/// A CSV text without its header line.
inline std::string DataRows(const std::string& csv) { return csv.substr(csv.find('\n') + 1); }

class UploadServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = MariadbFromEnv();
    auto s3 = S3FromEnv("SLUICE_TEST_RGW");
    if (!db || !s3) {
      if (ServicesRequired()) FAIL() << "MariaDB and RGW are required";
      GTEST_SKIP() << "no MariaDB/RGW";
    }
    db_ = *db;
    s3_ = *s3;
    suffix_ = std::to_string(::getpid()) + "_" + std::to_string(counter_++);
  }
  void TearDown() override {
    if (HasFailure() && server_) std::cerr << server_->Log();
  }

  /// Starts `sluice serve` with `server_keys` in [server]; returns once the
  /// catalog accepts uploads.
  /// `more_sections` (e.g. an [auth] section) is appended to the conf;
  /// `ready_headers` go with the readiness probe (a token when auth is on).
  void StartServer(const std::string& server_keys = "", const std::string& more_sections = "",
                   const std::vector<std::string>& ready_headers = {}) {
    server_ = std::make_unique<SluiceProcess>();
    server_->WriteConf(server_keys, more_sections +
                       "[mariadb]\nhost = 127.0.0.1\nport = " + std::to_string(db_.port) + "\nuser = " + db_.user +
                           "\npassword = " + db_.password + "\ndatabase = " + db_.database + "\n[s3]\nendpoint = " +
                           s3_.endpoint + "\nbucket = " + s3_.bucket + "\npath_style = true\naccess_key = " +
                           s3_.access_key + "\nsecret_key = " + s3_.secret_key + "\npart_size = 5M\n");
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
    for (int i = 0; i < 100; ++i) {
      if (Fetch(server_->Url("/v1/uploads?limit=1"), {.headers = ready_headers}).status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "the catalog never became ready";
  }

  std::string Url(const std::string& path) const { return server_->Url(path); }
  /// A table name of this test run (tests share the database).
  std::string Table(const std::string& base) const { return base + "_" + suffix_; }
  /// A path in the server's temp dir (removed with it).
  std::string TempPath(const std::string& name) const { return server_->dir() + "/" + name; }

  /// Runs SQL as root; the output of `mariadb -N -B -r` (raw: no escaping).
  std::string Sql(const std::string& query) {
    std::string path = TempPath("query.sql");
    WriteWholeFile(path, query);
    return RunCommand("mariadb --no-defaults -S " + db_.root_socket + " -uroot -N -B -r " + db_.database + " < " +
                      path + " 2>&1");
  }
  /// The rows of a SimpleCsv() table in file order, as CSV lines.
  std::string SimpleCsvRows(const std::string& table) {
    return Sql("SELECT CONCAT_WS(',', id, name, amount, day) FROM `" + table + "` ORDER BY _row");
  }
  bool TableExists(const std::string& table) { return Sql("SHOW TABLES LIKE '" + table + "'") == table + "\n"; }

  std::string Aws(const std::string& args, int* rc = nullptr) {
    return RunCommand("AWS_ACCESS_KEY_ID=" + s3_.access_key + " AWS_SECRET_ACCESS_KEY=" + s3_.secret_key +
                          " AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null "
                          "AWS_SHARED_CREDENTIALS_FILE=/dev/null /usr/bin/aws --endpoint-url " +
                          s3_.endpoint + " " + args + " 2>&1",
                      rc);
  }
  /// curl signing its request for RGW (RGW wants x-amz-content-sha256 too).
  std::string SignedCurl(const std::string& args, const std::string& key) {
    return "curl -sS --aws-sigv4 aws:amz:us-east-1:s3 --user '" + s3_.access_key + ":" + s3_.secret_key +
           "' -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' " + args + " '" + s3_.endpoint + "/" + s3_.bucket + "/" +
           key + "'";
  }
  /// The object's bytes ("" and a test failure when it cannot be read).
  std::string S3Object(const std::string& key) {
    std::string path = TempPath("from-s3.bin");
    ::unlink(path.c_str());
    std::string status = RunCommand(SignedCurl("-o " + path + " -w '%{http_code}'", key));
    EXPECT_EQ(status, "200") << "GET " << key << ": " << ReadWholeFile(path);
    return status == "200" ? ReadWholeFile(path) : "";
  }
  bool S3ObjectExists(const std::string& key) {
    std::string status = RunCommand(SignedCurl("-I -o /dev/null -w '%{http_code}'", key));
    EXPECT_TRUE(status == "200" || status == "404") << "HEAD " << key << ": " << status;
    return status == "200";
  }
  /// Keys of the multipart uploads open in the bucket.
  std::string OpenMultipartUploads() {
    return Aws("s3api list-multipart-uploads --bucket " + s3_.bucket + " --query 'Uploads[].Key' --output text");
  }

  MariadbTarget db_;
  S3Target s3_;
  std::string suffix_;
  std::unique_ptr<SluiceProcess> server_;
  static inline int counter_ = 0;
};

}  // namespace sluice::testing::uploads
