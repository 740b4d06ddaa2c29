// What the upload tests share: SluiceServerTest (the real `sluice serve`
// against the test MariaDB and Ceph RGW, SQL as root, JSON fields) plus the
// ways an upload test looks at the outcome from outside — the S3 object read
// back with curl's own SigV4 signing (awscli's start-up costs a second of CPU
// per call), open multipart uploads listed on RGW with awscli — plus simple CSV files whose every row can be compared with the
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
#include "support/sluice_server_test.hpp"

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

using ::sluice::testing::JsonValue;

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

class UploadServerTest : public SluiceServerTest {
 protected:
  /// Starts `sluice serve` with `server_keys` in [server]; returns once the
  /// catalog accepts uploads.
  /// `more_sections` (e.g. an [auth] section) is appended to the conf;
  /// `ready_headers` go with the readiness probe (a token when auth is on).
  void StartServer(const std::string& server_keys = "", const std::string& more_sections = "",
                   const std::vector<std::string>& ready_headers = {}) {
    StartSluice({.server_keys = server_keys, .more_sections = more_sections, .ready_headers = ready_headers});
  }

  /// A path in the server's temp dir (removed with it).
  std::string TempPath(const std::string& name) const { return server_->dir() + "/" + name; }

  /// The rows of a SimpleCsv() table in file order, as CSV lines.
  std::string SimpleCsvRows(const std::string& table) {
    return Sql("SELECT CONCAT_WS(',', id, name, amount, day) FROM `" + table + "` ORDER BY _row");
  }

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
};

}  // namespace sluice::testing::uploads
