// Faults during uploads and queries, with real processes: a client that
// drops the connection half-way through a 200 MB body, radosgw killed
// (SIGKILL) mid-upload, mariadbd killed mid-upload and during queries. The
// killed service is a private instance of the test's own (the shared ones
// are never touched); the moment of the kill is drawn from a seeded
// generator (the seed is printed). After each fault: the record says why,
// no table, staging table, object or open multipart upload is left, and
// the server answers and takes the next upload once the service is back.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "faults/fault_fixture.hpp"
#include "faults/upload_driver.hpp"
#include "support/http_client.hpp"

namespace sluice::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string kTitanic = std::string(SLUICE_SHARED_DATA_DIR) + "/titanic.csv";

class UploadFaultTest : public FaultTest {};

TEST_F(UploadFaultTest, ClientGoneAtHalfOf200MBLeavesNothing) {
  StartSluice();
  std::string table = Table("gone_half");
  auto file = GeneratedCsv::OfSize(uint64_t{200} << 20);
  UploadDriver upload(sluice_->port(), UploadTarget(table, "gone_half.csv"), file);
  ASSERT_TRUE(upload.connected());
  ASSERT_TRUE(upload.SendUntil(file.size() / 2, seconds(300))) << "sent " << upload.sent();
  upload.Close();  // half-way: the client goes away
  CatalogRecord record = WaitFinished(table);
  EXPECT_EQ(record.state, "failed");
  EXPECT_EQ(record.error_code, "client_gone");
  ExpectNothingLeft(record, table);
  ExpectServing();
}

TEST_F(UploadFaultTest, ClientGoneAtSeededRandomPointsLeavesNothing) {
  StartSluice();
  // Three more clients that go away, each at a point drawn from the seeded
  // generator anywhere in the body (1%–99%): in the first part, mid-part,
  // while blocks are loading — wherever the draw falls.
  auto file = GeneratedCsv::OfSize(uint64_t{12} << 20);
  for (int i = 0; i < 3; ++i) {
    std::string table = Table("gone_at_" + std::to_string(i));
    const uint64_t point = RandomPoint(file.size(), 0.01, 0.99);
    SCOPED_TRACE("client gone after " + std::to_string(point) + " of " + std::to_string(file.size()) + " bytes");
    UploadDriver upload(sluice_->port(), UploadTarget(table, table + ".csv"), file);
    ASSERT_TRUE(upload.connected());
    ASSERT_TRUE(upload.SendUntil(point, seconds(120))) << "sent " << upload.sent();
    upload.Close();
    CatalogRecord record = WaitFinished(table);
    EXPECT_EQ(record.state, "failed");
    EXPECT_EQ(record.error_code, "client_gone");
    ExpectNothingLeft(record, table);
  }
  ExpectServing();
}

TEST_F(UploadFaultTest, RadosgwKilledMidUploadFailsCleanly) {
  UsePrivateRgw();
  StartSluice();
  std::string table = Table("rgw_killed");
  auto file = GeneratedCsv::OfSize(uint64_t{24} << 20);
  UploadDriver upload(sluice_->port(), UploadTarget(table, "rgw_killed.csv"), file);
  ASSERT_TRUE(upload.connected());
  ASSERT_TRUE(upload.SendUntil(RandomPoint(file.size()), seconds(120))) << "sent " << upload.sent();
  private_rgw_->Kill9();
  DriverResponse answer = upload.Finish(seconds(120));
  EXPECT_EQ(answer.status, 422) << answer.body;
  EXPECT_NE(answer.body.find("\"code\":\"s3_error\""), std::string::npos) << answer.body;
  std::string error;
  ASSERT_TRUE(private_rgw_->Restart(&error)) << error;
  CatalogRecord record = WaitFinished(table);
  EXPECT_EQ(record.state, "failed");
  EXPECT_EQ(record.error_code, "s3_error");
  ExpectNothingLeft(record, table);
  ExpectServing();
}

TEST_F(UploadFaultTest, MariadbKilledMidUploadFailsCleanly) {
  UsePrivateMariadb();
  StartSluice();
  std::string table = Table("db_killed");
  auto file = GeneratedCsv::OfSize(uint64_t{24} << 20);
  UploadDriver upload(sluice_->port(), UploadTarget(table, "db_killed.csv"), file);
  ASSERT_TRUE(upload.connected());
  ASSERT_TRUE(upload.SendUntil(RandomPoint(file.size()), seconds(120))) << "sent " << upload.sent();
  private_db_->Kill9();
  DriverResponse answer = upload.Finish(seconds(120));
  EXPECT_TRUE(answer.status == 422 || answer.status == 503) << answer.status << " " << answer.body;
  EXPECT_NE(answer.body.find("\"error\":{\"code\":\""), std::string::npos) << answer.body;
  EXPECT_EQ(Fetch(sluice_->Url("/healthz")).status, 200);  // serving while the database is away
  std::string error;
  ASSERT_TRUE(private_db_->Restart(&error)) << error;
  CatalogRecord record = WaitFinished(table);
  EXPECT_EQ(record.state, "failed");
  EXPECT_EQ(record.error_code, "db_error");
  ExpectNothingLeft(record, table);
  ExpectServing();
}

TEST_F(UploadFaultTest, MariadbKilledDuringQueriesAnswers503ThenRecovers) {
  UsePrivateMariadb();
  StartSluice();
  std::string table = Table("queried");
  auto loaded = Fetch(sluice_->Url("/v1/uploads?table=" + table),
                      {.method = "POST", .headers = {"Content-Type: text/csv"}, .body_file = kTitanic});
  ASSERT_EQ(loaded.status, 201) << loaded.body;
  const std::vector<std::string> queries = {
      "/rows?Sex=female&sort=Name:desc&limit=50", "/rows?Age=gt:30&sort=Fare:desc,Name&limit=20&count=exact",
      "/aggregate?group_by=Pclass,Sex&avg=Age&sum=Fare&count=true", "/rows?Name=like:Mr&select=Name,Age&limit=100"};
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::mutex mutex;
  std::vector<std::string> bad;  // answers that are neither 200 nor a clean 5xx error
  int unavailable = 0;
  std::vector<std::thread> clients;
  // Stops and joins the clients on every way out (an ASSERT returns early).
  struct JoinAll {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~JoinAll() {
      stop = true;
      for (auto& t : threads) {
        if (t.joinable()) t.join();
      }
    }
  } join_all{stop, clients};
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      for (size_t i = c; !stop; ++i) {
        auto r = Fetch(sluice_->Url("/v1/tables/" + table + queries[i % queries.size()]), {.timeout_ms = 60000});
        if (r.status == 200) {
          ++ok;
          continue;
        }
        std::lock_guard lock(mutex);
        bool clean = (r.status == 503 || r.status == 500) && r.body.rfind("{\"error\":{\"code\":\"", 0) == 0;
        if (r.status == 503 && r.headers.find("Retry-After:") == std::string::npos) clean = false;
        if (clean) {
          ++unavailable;
        } else {
          bad.push_back(std::to_string(r.status) + " " + r.error + " " + r.body);
        }
      }
    });
  }
  std::uniform_int_distribution<int> delay(20, 400);
  std::this_thread::sleep_for(milliseconds(delay(rng_)));
  int ok_before = ok;
  private_db_->Kill9();
  // The queries now fail; let them for a moment, then bring the database back.
  for (int i = 0; i < 100 && unavailable == 0; ++i) std::this_thread::sleep_for(milliseconds(50));
  std::string error;
  ASSERT_TRUE(private_db_->Restart(&error)) << error;
  int ok_after_restart = ok;
  for (int i = 0; i < 600 && ok == ok_after_restart; ++i) std::this_thread::sleep_for(milliseconds(100));
  stop = true;
  for (auto& t : clients) t.join();
  clients.clear();
  std::cout << "[faults] queries: " << ok_before << " ok before the kill, " << unavailable << " clean 5xx, "
            << ok - ok_before << " ok after\n";
  EXPECT_GT(unavailable, 0);
  EXPECT_GT(ok, ok_after_restart) << "the pool never recovered";
  EXPECT_TRUE(bad.empty()) << bad.size() << " bad answers, first: " << (bad.empty() ? "" : bad.front());
  ExpectServing();
}

}  // namespace
}  // namespace sluice::testing
