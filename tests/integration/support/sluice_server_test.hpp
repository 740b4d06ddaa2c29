// SluiceServerTest: the fixture the end-to-end suites share — the real
// `sluice serve` against the test MariaDB and Ceph RGW (skipping without them,
// failing under SLUICE_TEST_REQUIRE_SERVICES=1), started with a conf the test
// extends and awaited until the catalog accepts requests; SQL as root over the
// socket; a table name unique to the test; a field of a JSON answer. Suites
// derive from it and add what only they look at (S3 objects, /metrics, …).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/services.hpp"
#include "support/sluice_process.hpp"

namespace sluice::testing {

/// A string (escapes kept as written), number, boolean or null field of a JSON
/// text ("" when absent); the first match, which for a record is its own field.
inline std::string JsonValue(const std::string& json, const std::string& key) {
  std::smatch m;
  std::regex string_field("\"" + key + "\":\"((?:[^\"\\\\]|\\\\.)*)\"");
  if (std::regex_search(json, m, string_field)) return m[1];
  std::regex other_field("\"" + key + "\":(-?[0-9]+|null|true|false)");
  if (std::regex_search(json, m, other_field)) return m[1];
  return "";
}

class SluiceServerTest : public ::testing::Test {
 protected:
  /// What a test adds to the generated conf.
  struct ServeOptions {
    std::string server_keys;    ///< lines of [server]
    std::string more_sections;  ///< whole sections, e.g. [auth]
    std::string s3_endpoint;    ///< instead of RGW's own (a proxy in front of it)
    std::string s3_keys;        ///< more lines of [s3]
    std::vector<std::string> ready_headers;  ///< for the readiness probe (a token when auth is on)
  };

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
    if (HasFailure() && server_) std::cerr << "---- sluice log ----\n" << server_->Log();
  }

  /// Starts `sluice serve`; returns once the catalog accepts uploads.
  void StartSluice(const ServeOptions& options) {
    server_ = std::make_unique<SluiceProcess>();
    server_->WriteConf(options.server_keys,
                       options.more_sections + "[mariadb]\nhost = 127.0.0.1\nport = " + std::to_string(db_.port) +
                           "\nuser = " + db_.user + "\npassword = " + db_.password + "\ndatabase = " + db_.database +
                           "\n[s3]\nendpoint = " + (options.s3_endpoint.empty() ? s3_.endpoint : options.s3_endpoint) +
                           "\nbucket = " + s3_.bucket + "\npath_style = true\naccess_key = " + s3_.access_key +
                           "\nsecret_key = " + s3_.secret_key + "\npart_size = 5M\n" + options.s3_keys);
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
    for (int i = 0; i < 100; ++i) {  // the catalog initialises asynchronously
      if (Fetch(server_->Url("/v1/uploads?limit=1"), {.headers = options.ready_headers}).status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "the catalog never became ready";
  }

  std::string Url(const std::string& path) const { return server_->Url(path); }
  /// A table name of this test run (tests share the database).
  std::string Table(const std::string& base) const { return base + "_" + suffix_; }

  /// Runs SQL as root (from a file, so no shell quoting); the output of
  /// `mariadb -N -B -r` (tab-separated, no escaping).
  std::string Sql(const std::string& query) {
    const std::string path = ::testing::TempDir() + "sluice-sql-" + std::to_string(::getpid()) + ".sql";
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << query;
    }
    return RunCommand("mariadb --no-defaults -S " + db_.root_socket + " -uroot -N -B -r " + db_.database + " < " +
                      path + " 2>&1");
  }
  bool TableExists(const std::string& table) { return Sql("SHOW TABLES LIKE '" + table + "'") == table + "\n"; }

  MariadbTarget db_;
  S3Target s3_;
  std::string suffix_;
  std::unique_ptr<SluiceProcess> server_;
  static inline int counter_ = 0;
};

}  // namespace sluice::testing
