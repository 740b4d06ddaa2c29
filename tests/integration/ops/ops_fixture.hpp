// OpsFixture: SluiceServerTest (the real `sluice serve` against the test
// MariaDB and Ceph RGW) started optionally through an S3 endpoint of the
// test's choosing (e.g. a FaultProxy), with what the metrics and limits tests
// add: a CSV upload in one call and a checked /metrics scrape.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "support/http_client.hpp"
#include "support/prometheus_text.hpp"
#include "support/services.hpp"
#include "support/sluice_process.hpp"
#include "support/sluice_server_test.hpp"

namespace sluice::testing {

class OpsFixture : public SluiceServerTest {
 protected:
  /// Starts sluice with extra [server] keys and [s3] keys; `s3_endpoint`
  /// replaces RGW's own (a proxy in front of it).
  void StartServer(const std::string& server_keys = "", const std::string& s3_endpoint = "",
                   const std::string& s3_keys = "") {
    StartSluice({.server_keys = server_keys, .s3_endpoint = s3_endpoint, .s3_keys = s3_keys});
  }

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
};

}  // namespace sluice::testing
