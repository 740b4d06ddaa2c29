// OpsFixture: the real `sluice serve` against the test MariaDB and Ceph RGW
// (optionally through an S3 endpoint of the test's choosing, e.g. a
// FaultProxy), with helpers the metrics and limits tests share: start and
// wait for the catalog, SQL as root, a unique table name per test, JSON
// fields, and a checked /metrics scrape.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <thread>

#include "support/http_client.hpp"
#include "support/prometheus_text.hpp"
#include "support/services.hpp"
#include "support/sluice_process.hpp"

namespace sluice::testing {

inline std::string OpsJsonField(const std::string& json, const std::string& key) {
  std::smatch m;
  std::regex string_field("\"" + key + "\":\"((?:[^\"\\\\]|\\\\.)*)\"");
  if (std::regex_search(json, m, string_field)) return m[1];
  std::regex number_field("\"" + key + "\":(-?[0-9]+|null|true|false)");
  if (std::regex_search(json, m, number_field)) return m[1];
  return "";
}

class OpsFixture : public ::testing::Test {
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
    if (HasFailure() && server_) std::cerr << "---- sluice log ----\n" << server_->Log();
  }

  /// Starts sluice with extra [server] keys and [s3] keys; `s3_endpoint`
  /// replaces RGW's own (a proxy in front of it).
  void StartServer(const std::string& server_keys = "", const std::string& s3_endpoint = "",
                   const std::string& s3_keys = "") {
    server_ = std::make_unique<SluiceProcess>();
    server_->WriteConf(server_keys,
                       "[mariadb]\nhost = 127.0.0.1\nport = " + std::to_string(db_.port) + "\nuser = " + db_.user +
                           "\npassword = " + db_.password + "\ndatabase = " + db_.database + "\n[s3]\nendpoint = " +
                           (s3_endpoint.empty() ? s3_.endpoint : s3_endpoint) + "\nbucket = " + s3_.bucket +
                           "\npath_style = true\naccess_key = " + s3_.access_key + "\nsecret_key = " +
                           s3_.secret_key + "\npart_size = 5M\n" + s3_keys);
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
    for (int i = 0; i < 100; ++i) {  // the catalog initialises asynchronously
      if (Fetch(server_->Url("/v1/uploads?limit=1")).status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "the catalog never became ready";
  }

  std::string Sql(const std::string& query) {
    return RunCommand("mariadb --no-defaults -S " + db_.root_socket + " -uroot -N -B " + db_.database + " -e \"" +
                      query + "\" 2>&1");
  }
  std::string Table(const std::string& base) { return base + "_" + suffix_; }

  /// POST `body` as text/csv to /v1/uploads with `query` (table=… etc.).
  FetchResult UploadCsv(const std::string& query, const std::string& body) {
    return Fetch(server_->Url("/v1/uploads?" + query),
                 {.method = "POST", .body = body, .headers = {"Content-Type: text/csv"}});
  }

  /// GET /metrics, parsed; every format error is a test failure.
  PromExposition Scrape() {
    auto result = Fetch(server_->Url("/metrics"));
    EXPECT_EQ(result.status, 200) << result.body;
    EXPECT_NE(result.headers.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << result.headers;
    PromExposition parsed = ParsePrometheusText(result.body);
    for (const auto& error : parsed.errors) ADD_FAILURE() << "/metrics: " << error;
    if (!parsed.errors.empty()) std::cerr << result.body;
    return parsed;
  }

  MariadbTarget db_;
  S3Target s3_;
  std::string suffix_;
  std::unique_ptr<SluiceProcess> server_;
  static inline int counter_ = 0;
};

}  // namespace sluice::testing
