// /metrics through the real binary, with Ceph RGW behind FaultProxy: the
// exposition passes the strict text-format check at every scrape, and the
// counters move by exactly what happened — bytes and rows ingested and
// uploads by state after a good, a bad and a cancelled upload; S3 retries
// after an injected 503 SlowDown, and an S3 error (plus its retries) after a
// PUT that keeps failing. Needs SLUICE_TEST_MARIADB_* and SLUICE_TEST_RGW_*.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "../s3/fault_proxy.hpp"
#include "ops_fixture.hpp"

namespace sluice::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string kTitanic = std::string(SLUICE_SHARED_DATA_DIR) + "/titanic.csv";

class OpsMetricsTest : public OpsFixture {
 protected:
  void SetUp() override {
    OpsFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    const int port = std::atoi(s3_.endpoint.substr(s3_.endpoint.rfind(':') + 1).c_str());
    proxy_ = std::make_unique<s3::FaultProxy>("127.0.0.1", port);
    ASSERT_TRUE(proxy_->ok());
    StartServer("", proxy_->Endpoint(), "retries = 2\n");
  }
  static double Get(const PromExposition& e, const std::string& name,
                    const std::vector<std::pair<std::string, std::string>>& labels = {}) {
    return e.Value(name, labels).value_or(-1);
  }
  std::unique_ptr<s3::FaultProxy> proxy_;
};

TEST_F(OpsMetricsTest, EveryFamilyIsThereAndWellFormed) {
  PromExposition m = Scrape();
  for (const char* family :
       {"sluice_http_requests_total", "sluice_http_request_duration_seconds", "sluice_http_connections_open",
        "sluice_http_connections_accepted_total", "sluice_db_pool_connections", "sluice_db_pool_connections_max",
        "sluice_db_pool_waiting", "sluice_db_connects_total", "sluice_db_connections_dropped_total",
        "sluice_db_errors_total", "sluice_s3_requests_total", "sluice_s3_retries_total", "sluice_s3_errors_total",
        "sluice_uploads_running", "sluice_uploads_total", "sluice_ingest_received_bytes_total",
        "sluice_ingest_rows_total", "sluice_worker_queue_depth", "sluice_worker_items_running",
        "sluice_worker_items_total", "sluice_memory_budget_bytes", "sluice_memory_budget_used_bytes",
        "sluice_memory_budget_reserved_bytes", "sluice_uploads_waiting_for_memory",
        "process_resident_memory_bytes", "process_cpu_seconds_total", "process_start_time_seconds",
        "sluice_build_info"}) {
    EXPECT_EQ(m.types.count(family), 1u) << family;
  }
  EXPECT_EQ(Get(m, "sluice_db_pool_connections_max"), 4);
  EXPECT_GE(Get(m, "sluice_db_connects_total"), 1);  // the catalog's start-up queries
  EXPECT_EQ(Get(m, "sluice_worker_queue_depth"), 0);
  EXPECT_EQ(Get(m, "sluice_uploads_running"), 0);
}

TEST_F(OpsMetricsTest, UploadsMoveBytesRowsAndStates) {
  PromExposition before = Scrape();
  const auto size = static_cast<double>(std::filesystem::file_size(kTitanic));

  auto good = Fetch(server_->Url("/v1/uploads?table=" + Table("m_titanic")),
                    {.method = "POST", .headers = {"Content-Type: text/csv"}, .body_file = kTitanic});
  ASSERT_EQ(good.status, 201) << good.body;
  auto bad = UploadCsv("filename=empty.csv&table=" + Table("m_empty"), "\n\n");
  ASSERT_EQ(bad.status, 422) << bad.body;
  const std::string with_bad_row = "a,b\n1,2\n3\n4,5\n";
  auto skipped = UploadCsv("table=" + Table("m_skip"), with_bad_row);  // one bad row, skipped
  ASSERT_EQ(skipped.status, 201) << skipped.body;

  // Cancelled: a body that stops half-way, then DELETE of the running upload.
  const std::string kPartial = "id,name\n1,first\n";
  {
    RawConnection c(server_->port());
    ASSERT_TRUE(c.Send("POST /v1/uploads?filename=cancel.csv&table=" + Table("m_cancel") +
                       " HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 10000000\r\n\r\n" +
                       kPartial));
    std::string id;
    for (int i = 0; i < 100 && id.empty(); ++i) {
      std::string list = Fetch(server_->Url("/v1/uploads?limit=1")).body;
      if (JsonValue(list, "table") == Table("m_cancel") && JsonValue(list, "state") == "receiving") {
        id = JsonValue(list, "id");
      } else {
        std::this_thread::sleep_for(milliseconds(50));
      }
    }
    ASSERT_FALSE(id.empty()) << "the upload never showed as receiving";
    PromExposition running = Scrape();
    EXPECT_EQ(Get(running, "sluice_uploads_running"), 1);
    auto cancelled = Fetch(server_->Url("/v1/uploads/" + id), {.method = "DELETE"});
    EXPECT_TRUE(cancelled.status == 200 || cancelled.status == 202 || cancelled.status == 204) << cancelled.body;
    auto final_record = Fetch(server_->Url("/v1/uploads/" + id + "?wait=10"));
    EXPECT_EQ(JsonValue(final_record.body, "state"), "cancelled") << final_record.body;
  }
  // The last upload's end also queues work (malloc_trim on a worker): wait
  // for the pool to drain as well as for the uploads to end.
  for (int i = 0; i < 100; ++i) {
    PromExposition now = Scrape();
    if (Get(now, "sluice_uploads_running") == 0 && Get(now, "sluice_worker_queue_depth") == 0 &&
        Get(now, "sluice_worker_items_running") == 0) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }

  PromExposition after = Scrape();
  auto delta = [&](const std::string& name, const std::vector<std::pair<std::string, std::string>>& labels = {}) {
    return after.Value(name, labels).value_or(0) - before.Value(name, labels).value_or(0);
  };
  // Bytes: titanic, "\n\n", the small file and what was sent before the cancel.
  EXPECT_EQ(delta("sluice_ingest_received_bytes_total"),
            size + 2 + static_cast<double>(with_bad_row.size() + kPartial.size()));
  EXPECT_EQ(delta("sluice_ingest_rows_total", {{"result", "loaded"}}), 891 + 2);
  EXPECT_EQ(delta("sluice_ingest_rows_total", {{"result", "rejected"}}), 1);
  EXPECT_EQ(delta("sluice_uploads_total", {{"state", "done"}}), 2);
  EXPECT_EQ(delta("sluice_uploads_total", {{"state", "failed"}}), 1);
  EXPECT_EQ(delta("sluice_uploads_total", {{"state", "cancelled"}}), 1);
  EXPECT_EQ(Get(after, "sluice_uploads_running"), 0);
  EXPECT_GE(delta("sluice_s3_requests_total", {{"operation", "PutObject"}}), 2);  // two small files: single PUTs
  EXPECT_EQ(delta("sluice_s3_retries_total", {{"operation", "PutObject"}}), 0);
  EXPECT_GT(delta("sluice_worker_items_total"), 0);  // hashing and parsing ran on the pool
  EXPECT_EQ(Get(after, "sluice_worker_queue_depth"), 0);
  EXPECT_EQ(Get(after, "sluice_memory_budget_used_bytes"), 0);
  EXPECT_EQ(delta("sluice_http_requests_total", {{"route", "uploads.create"}, {"method", "POST"}, {"status", "201"}}),
            2);
  EXPECT_GE(Get(after, "sluice_db_connects_total"), 1);
}

TEST_F(OpsMetricsTest, S3RetriesAndFinalErrorsAreCountedByOperation) {
  PromExposition before = Scrape();
  auto delta = [&before](const PromExposition& after, const std::string& name, const std::string& op) {
    return after.Value(name, {{"operation", op}}).value_or(0) - before.Value(name, {{"operation", op}}).value_or(0);
  };
  // One 503 SlowDown on the PUT: retried once, the upload succeeds.
  proxy_->RespondTo("PUT /", 503, "SlowDown", 1);
  auto ok = UploadCsv("table=" + Table("m_retry"), "a,b\n1,2\n");
  ASSERT_EQ(ok.status, 201) << ok.body;
  PromExposition after_retry = Scrape();
  EXPECT_EQ(delta(after_retry, "sluice_s3_retries_total", "PutObject"), 1);
  EXPECT_EQ(delta(after_retry, "sluice_s3_errors_total", "PutObject"), 0);
  EXPECT_EQ(delta(after_retry, "sluice_s3_requests_total", "PutObject"), 1);

  // Every PUT answered 500: [s3] retries = 2, so three attempts, then one error; the upload fails.
  proxy_->ClearRules();
  proxy_->RespondTo("PUT /", 500, "InternalError", -1);
  auto failed = UploadCsv("table=" + Table("m_s3fail"), "a,b\n1,2\n");
  EXPECT_NE(failed.status, 201) << failed.body;
  EXPECT_EQ(JsonValue(failed.body, "state"), "failed") << failed.body;
  proxy_->ClearRules();
  PromExposition after_fail = Scrape();
  EXPECT_EQ(delta(after_fail, "sluice_s3_retries_total", "PutObject"), 1 + 2);
  EXPECT_EQ(delta(after_fail, "sluice_s3_errors_total", "PutObject"), 1);
  EXPECT_EQ(delta(after_fail, "sluice_s3_requests_total", "PutObject"), 2);
  EXPECT_EQ(after_fail.Value("sluice_uploads_total", {{"state", "failed"}}).value_or(0) -
                before.Value("sluice_uploads_total", {{"state", "failed"}}).value_or(0),
            1);
  EXPECT_EQ(Sql("SHOW TABLES LIKE '" + Table("m_s3fail") + "'"), "");
}

}  // namespace
}  // namespace sluice::testing
