// [server] memory_budget is a real bound (issue 9). With part_size 5M an
// upload's working set (its floor) is 21 MiB, so a 48M budget admits two at
// once: eight uploads sent together must all land — the others wait for room
// before their body is read — while /metrics, scraped all along, never shows
// sluice_memory_budget_used_bytes (or the reserved bytes) above the limit,
// and shows 0 of both once they are done. And an upload that finds no room
// within [server] upload_queue_wait is answered 503 busy with Retry-After
// (the first upload holds the budget by not finishing its body).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "support/prometheus_text.hpp"
#include "uploads/upload_test_support.hpp"

namespace sluice::testing::uploads {
namespace {

constexpr double kBudget = 48.0 * 1024 * 1024;

class UploadMemoryBudgetTest : public UploadServerTest {
 protected:
  /// A gauge from /metrics; nullopt when the scrape failed.
  std::optional<double> Gauge(const std::string& name) {
    FetchResult r = Fetch(Url("/metrics"));
    if (r.status != 200) return std::nullopt;
    return ParsePrometheusText(r.body).Value(name);
  }
  /// Waits (bounded, not timed: the assertion is on the value) until `name` is `want`.
  double GaugeSettles(const std::string& name, double want) {
    double got = -1;
    for (int i = 0; i < 200; ++i) {
      got = Gauge(name).value_or(-1);
      if (got == want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return got;
  }
};

TEST_F(UploadMemoryBudgetTest, EightUploadsShareABudgetOfTwoWorkingSetsAndAllLand) {
  StartServer("memory_budget = 48M\nupload_queue_wait = 10m\n");
  constexpr int kUploads = 8;
  const int rows[kUploads] = {150000, 20000, 120000, 5000, 140000, 60000, 1000, 100000};
  struct Upload {
    std::string table, csv, path;
    FetchOptions options;
    FetchResult result;
  };
  std::vector<Upload> uploads(kUploads);
  for (int i = 0; i < kUploads; ++i) {
    Upload& u = uploads[i];
    u.table = Table("budget" + std::to_string(i));
    u.csv = SimpleCsv(rows[i], 200 + i);
    u.path = TempPath("budget" + std::to_string(i) + ".csv");
    WriteWholeFile(u.path, u.csv);
    u.options.method = "POST";
    if (i % 2 == 0) {
      u.options.headers = {"Content-Type: text/csv"};
      u.options.body_file = u.path;
    } else {
      u.options.form = {{.name = "table", .value = u.table}, {.name = "file", .file_path = u.path}};
    }
    u.options.timeout_ms = 300000;
  }
  ASSERT_GT(uploads[0].csv.size(), 5u << 20);  // multipart S3 uploads among them

  std::atomic<bool> running{true};
  double max_used = 0, max_reserved = 0;
  int scrapes = 0;
  std::thread sampler([&] {
    while (running) {
      auto used = Gauge("sluice_memory_budget_used_bytes");
      auto reserved = Gauge("sluice_memory_budget_reserved_bytes");
      if (used && reserved) {
        ++scrapes;
        max_used = std::max(max_used, *used);
        max_reserved = std::max(max_reserved, *reserved);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::vector<std::thread> clients;
  for (int i = 0; i < kUploads; ++i) {
    clients.emplace_back([&, i] {
      Upload& u = uploads[i];
      std::string query = i % 2 == 0 ? "?filename=budget" + std::to_string(i) + ".csv&table=" + u.table : "";
      u.result = Fetch(Url("/v1/uploads" + query), u.options);
    });
  }
  for (auto& client : clients) client.join();
  running = false;
  sampler.join();

  for (int i = 0; i < kUploads; ++i) {
    SCOPED_TRACE("upload " + std::to_string(i));
    const Upload& u = uploads[i];
    ASSERT_EQ(u.result.status, 201) << u.result.error << u.result.body;
    EXPECT_EQ(JsonValue(u.result.body, "rows_loaded"), std::to_string(rows[i]));
    EXPECT_TRUE(SimpleCsvRows(u.table) == DataRows(u.csv)) << "the table's rows differ from the file's";
  }
  EXPECT_GT(scrapes, 0);
  EXPECT_GT(max_used, 0);
  EXPECT_LE(max_used, kBudget);
  EXPECT_LE(max_reserved, kBudget);
  EXPECT_EQ(GaugeSettles("sluice_memory_budget_used_bytes", 0), 0);
  EXPECT_EQ(GaugeSettles("sluice_memory_budget_reserved_bytes", 0), 0);
  EXPECT_EQ(Gauge("sluice_uploads_waiting_for_memory"), 0);
  EXPECT_EQ(Sql("SHOW TABLES LIKE '\\_sluice%'"), "");
}

TEST_F(UploadMemoryBudgetTest, AnUploadThatFindsNoRoomInTimeGets503WithRetryAfter) {
  StartServer("memory_budget = 24M\nupload_queue_wait = 0s\n");  // room for one working set (21 MiB)
  const std::string first = Table("holder");
  const std::string csv = SimpleCsv(2000, 7);
  RawConnection holder(server_->port());
  ASSERT_TRUE(holder.connected());
  // Headers and half the body: the upload runs, and holds its grant until the rest comes.
  ASSERT_TRUE(holder.Send("POST /v1/uploads?filename=h.csv&table=" + first +
                          " HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: " +
                          std::to_string(csv.size()) + "\r\n\r\n" + csv.substr(0, csv.size() / 2)));
  ASSERT_EQ(GaugeSettles("sluice_memory_budget_reserved_bytes", 21.0 * 1024 * 1024), 21.0 * 1024 * 1024);

  FetchOptions second;
  second.method = "POST";
  second.headers = {"Content-Type: text/csv"};
  second.body = SimpleCsv(10, 8);
  FetchResult refused = Fetch(Url("/v1/uploads?filename=s.csv&table=" + Table("second")), second);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(JsonValue(refused.body, "code"), "busy");
  EXPECT_NE(refused.headers.find("Retry-After:"), std::string::npos) << refused.headers;
  EXPECT_FALSE(TableExists(Table("second")));

  ASSERT_TRUE(holder.Send(csv.substr(csv.size() / 2)));
  auto done = holder.ReadResponse(std::chrono::seconds(120));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->status, 201) << done->body;
  EXPECT_TRUE(SimpleCsvRows(first) == DataRows(csv));
  // The grant is back: the next upload is admitted at once.
  EXPECT_EQ(GaugeSettles("sluice_memory_budget_reserved_bytes", 0), 0);
  FetchResult admitted = Fetch(Url("/v1/uploads?filename=s.csv&table=" + Table("second")), second);
  EXPECT_EQ(admitted.status, 201) << admitted.body;
}

}  // namespace
}  // namespace sluice::testing::uploads
