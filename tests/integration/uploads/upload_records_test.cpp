// The upload records API.md promises besides POST: the list newest first and
// paged with limit/cursor; GET ?wait on a running upload; DELETE cancelling a
// running upload (record `cancelled`, no table, no staging table, no S3
// object or open multipart upload); and the events stream of a running
// upload — progress events while the body comes, then the final record.
#include <gtest/gtest.h>

#include "uploads/upload_test_support.hpp"

namespace sluice::testing::uploads {
namespace {

using std::chrono::seconds;

class UploadRecordsTest : public UploadServerTest {
 protected:
  /// Opens a raw upload of `length` bytes into `table` and sends `first`
  /// bytes of it; returns the connection and, once the job runs, its id.
  std::unique_ptr<RawConnection> HoldUpload(const std::string& table, size_t length, const std::string& first,
                                            std::string* id) {
    auto c = std::make_unique<RawConnection>(server_->port());
    EXPECT_TRUE(c->Send("POST /v1/uploads?filename=held.csv&table=" + table +
                        " HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: " + std::to_string(length) +
                        "\r\n\r\n" + first));
    for (int i = 0; i < 100 && id->empty(); ++i) {
      std::string list = Fetch(Url("/v1/uploads?limit=1")).body;
      if (JsonValue(list, "table") == table) *id = JsonValue(list, "id");
      if (id->empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_FALSE(id->empty()) << "the held upload never started";
    return c;
  }
};

TEST_F(UploadRecordsTest, ListIsNewestFirstAndPagesWithACursor) {
  StartServer();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto r = Fetch(Url("/v1/uploads?table=" + Table("listed" + std::to_string(i))),
                   {.method = "POST", .body = SimpleCsv(10, i), .headers = {"Content-Type: text/csv"}});
    ASSERT_EQ(r.status, 201) << r.body;
    ids.push_back(JsonValue(r.body, "id"));
  }
  auto page1 = Fetch(Url("/v1/uploads?limit=2"));
  ASSERT_EQ(page1.status, 200);
  size_t newest = page1.body.find(ids[2]), middle = page1.body.find(ids[1]);
  EXPECT_NE(newest, std::string::npos) << page1.body;
  EXPECT_NE(middle, std::string::npos) << page1.body;
  EXPECT_LT(newest, middle) << "newest first";
  EXPECT_EQ(page1.body.find(ids[0]), std::string::npos) << "limit=2";
  std::string cursor = JsonValue(page1.body, "next_cursor");
  ASSERT_FALSE(cursor.empty() || cursor == "null") << page1.body;
  auto page2 = Fetch(Url("/v1/uploads?limit=2&cursor=" + cursor));
  ASSERT_EQ(page2.status, 200);
  EXPECT_EQ(page2.body.find("\"id\":\"" + ids[0] + "\""), page2.body.find("\"id\":\"")) << "the next one comes first";
  EXPECT_EQ(page2.body.find(ids[1]), std::string::npos);
  EXPECT_EQ(Fetch(Url("/v1/uploads?limit=0")).status, 400);
  EXPECT_EQ(Fetch(Url("/v1/uploads?cursor=not-a-cursor")).status, 400);
}

TEST_F(UploadRecordsTest, DeleteCancelsARunningUploadAndLeavesNothing) {
  StartServer();
  std::string table = Table("cancelled");
  std::string csv = SimpleCsv(200000, 9);  // > 5 MiB: a multipart upload is open on S3
  std::string id;
  auto held = HoldUpload(table, csv.size() + 1000, csv, &id);
  ASSERT_FALSE(id.empty());
  // Wait until the body sent so far is in (the multipart upload has parts).
  for (int i = 0; i < 200; ++i) {
    auto r = Fetch(Url("/v1/uploads/" + id));
    if (JsonValue(r.body, "bytes_received") == std::to_string(csv.size())) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto cancel = Fetch(Url("/v1/uploads/" + id), {.method = "DELETE"});
  EXPECT_EQ(cancel.status, 202) << cancel.body;
  // The uploading client gets the final record.
  auto answer = held->ReadResponse(seconds(30));
  ASSERT_TRUE(answer);
  EXPECT_EQ(JsonValue(answer->body, "state"), "cancelled") << answer->body;
  auto record = Fetch(Url("/v1/uploads/" + id + "?wait=30"));
  EXPECT_EQ(JsonValue(record.body, "state"), "cancelled") << record.body;
  EXPECT_EQ(JsonValue(record.body, "code"), "cancelled") << record.body;
  EXPECT_NE(JsonValue(record.body, "finished_at"), "null") << record.body;
  EXPECT_FALSE(TableExists(table));
  EXPECT_EQ(Sql("SHOW TABLES LIKE '\\_sluice%'"), "");
  EXPECT_EQ(OpenMultipartUploads().find(id), std::string::npos);
  EXPECT_FALSE(S3ObjectExists("uploads/" + id + "/held.csv"));
  // A second DELETE: it is over.
  EXPECT_EQ(Fetch(Url("/v1/uploads/" + id), {.method = "DELETE"}).status, 409);
}

TEST_F(UploadRecordsTest, WaitAndEventsFollowARunningUpload) {
  StartServer();
  std::string table = Table("followed");
  std::string csv = SimpleCsv(20000, 10);
  size_t half = csv.size() / 2;
  std::string id;
  auto held = HoldUpload(table, csv.size(), csv.substr(0, half), &id);
  ASSERT_FALSE(id.empty());
  // ?wait=1 on a running upload: answers with the running record when the time is up.
  auto waited = Fetch(Url("/v1/uploads/" + id + "?wait=1"));
  EXPECT_EQ(waited.status, 200);
  EXPECT_EQ(JsonValue(waited.body, "state"), "receiving") << waited.body;
  EXPECT_EQ(Fetch(Url("/v1/uploads/" + id + "?wait=soon")).status, 400);
  // The events stream of the running upload, then the rest of the body.
  RawConnection events(server_->port());
  ASSERT_TRUE(events.Send("GET /v1/uploads/" + id + "/events HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(held->Send(csv.substr(half)));
  auto stream = events.ReadResponse(seconds(30));  // the whole stream: it ends with the final record
  ASSERT_TRUE(stream);
  EXPECT_EQ(stream->status, 200);
  EXPECT_EQ(stream->Header("Content-Type").rfind("text/event-stream", 0), 0u) << stream->Header("Content-Type");
  ASSERT_EQ(stream->body.rfind("event: progress\ndata: {", 0), 0u) << stream->body;
  size_t done = stream->body.find("event: done\ndata: {");
  ASSERT_NE(done, std::string::npos) << stream->body;
  std::string final_record = stream->body.substr(done);
  EXPECT_EQ(JsonValue(final_record, "state"), "done") << final_record;
  EXPECT_EQ(JsonValue(final_record, "rows_loaded"), "20000") << final_record;
  EXPECT_EQ(stream->body.find("event: ", done + 1), std::string::npos) << "nothing after the final record";
  auto answer = held->ReadResponse(seconds(30));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 201) << answer->body;
  EXPECT_EQ(SimpleCsvRows(table), DataRows(csv));
}

}  // namespace
}  // namespace sluice::testing::uploads
