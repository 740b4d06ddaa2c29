// The uploads API end to end: the real `sluice serve`, a real MariaDB and
// Ceph RGW, driven with libcurl (multipart like `curl -F`, raw, chunked, gzip)
// and raw sockets (a client that disappears mid-body). Checks the answers,
// the table in MariaDB, the S3 object byte for byte, and that failures leave
// no table, no staging table and no open multipart upload.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "support/http_client.hpp"
#include "uploads/upload_test_support.hpp"

namespace sluice::testing::uploads {
namespace {

using std::chrono::seconds;

const std::string& kTitanic = kTitanicCsv;

class UploadApiTest : public UploadServerTest {};

TEST_F(UploadApiTest, TitanicWithCurlFormEndToEnd) {
  StartServer();
  std::string table = Table("titanic");
  auto result = Fetch(server_->Url("/v1/uploads?table=" + table),
                      {.method = "POST", .form = {{.name = "file", .file_path = kTitanic}}});
  ASSERT_EQ(result.status, 201) << result.body;
  EXPECT_EQ(JsonValue(result.body, "state"), "done");
  EXPECT_EQ(JsonValue(result.body, "rows_loaded"), "891");
  EXPECT_EQ(JsonValue(result.body, "rows_rejected"), "0");
  EXPECT_EQ(JsonValue(result.body, "filename"), "titanic.csv");
  std::string id = JsonValue(result.body, "id");
  EXPECT_NE(result.headers.find("Location: /v1/uploads/" + id), std::string::npos);
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM `" + table + "`"), "891\n");
  EXPECT_EQ(Sql("SELECT Name FROM `" + table + "` WHERE PassengerId = 1"), "Braund, Mr. Owen Harris\n");
  // The original bytes in S3, and their SHA-256 in the record.
  std::string key = JsonValue(result.body, "key");
  ASSERT_FALSE(key.empty()) << result.body;
  EXPECT_TRUE(S3Object(key) == ReadWholeFile(kTitanic));
  std::string sha = RunCommand("sha256sum " + kTitanic + " | cut -c1-64");
  EXPECT_EQ(JsonValue(result.body, "sha256") + "\n", sha);
  // The record is kept.
  auto record = Fetch(server_->Url("/v1/uploads/" + id));
  EXPECT_EQ(record.status, 200);
  EXPECT_EQ(JsonValue(record.body, "state"), "done");
  auto list = Fetch(server_->Url("/v1/uploads?limit=5"));
  EXPECT_NE(list.body.find(id), std::string::npos);
}

TEST_F(UploadApiTest, RawChunkedGzipBody) {
  StartServer();
  std::string gz = server_->dir() + "/titanic.csv.gz";
  RunCommand("gzip -c " + kTitanic + " > " + gz);
  std::string table = Table("titanic_gz");
  auto result = Fetch(server_->Url("/v1/uploads?filename=titanic.csv.gz&table=" + table),
                      {.method = "POST", .headers = {"Content-Type: text/csv"}, .chunked = true, .body_file = gz});
  ASSERT_EQ(result.status, 201) << result.body;
  EXPECT_EQ(JsonValue(result.body, "rows_loaded"), "891");
  EXPECT_TRUE(S3Object(JsonValue(result.body, "key")) == ReadWholeFile(gz));  // S3 keeps the original (compressed) bytes
}

TEST_F(UploadApiTest, ConflictsAndBadRequests) {
  StartServer("max_upload_bytes = 200K\n");
  std::string table = Table("conflicts");
  auto first = Fetch(server_->Url("/v1/uploads?table=" + table),
                     {.method = "POST", .headers = {"Content-Type: text/csv"}, .body_file = kTitanic});
  ASSERT_EQ(first.status, 201) << first.body;
  auto again = Fetch(server_->Url("/v1/uploads?table=" + table),
                     {.method = "POST", .headers = {"Content-Type: text/csv"}, .body_file = kTitanic});
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_NE(again.body.find("\"code\":\"table_exists\""), std::string::npos) << again.body;
  // The same bytes again with Content-Digest: 409 duplicate_upload before the body.
  std::string digest = RunCommand("openssl dgst -sha256 -binary " + kTitanic + " | base64 -w0");
  RawConnection c(server_->port());
  ASSERT_TRUE(c.Send("POST /v1/uploads?mode=append&table=" + table +
                     " HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 60301\r\n"
                     "Expect: 100-continue\r\nContent-Digest: sha-256=:" + digest + ":\r\n\r\n"));
  auto duplicate = c.ReadResponse(seconds(10));
  ASSERT_TRUE(duplicate);
  EXPECT_EQ(duplicate->status, 409) << duplicate->body;
  EXPECT_NE(duplicate->body.find("\"code\":\"duplicate_upload\""), std::string::npos) << duplicate->body;
  EXPECT_NE(duplicate->body.find("\"upload_id\":\"" + JsonValue(first.body, "id") + "\""), std::string::npos);
  // 415, 413, 400.
  EXPECT_EQ(Fetch(server_->Url("/v1/uploads?table=x" + suffix_),
                  {.method = "POST", .body = "a,b\n1,2\n", .headers = {"Content-Type: application/pdf"}})
                .status,
            415);
  EXPECT_EQ(Fetch(server_->Url("/v1/uploads?table=big" + suffix_),
                  {.method = "POST", .body = std::string(300000, 'a'), .headers = {"Content-Type: text/csv"}})
                .status,
            413);
  auto bad_mode = Fetch(server_->Url("/v1/uploads?mode=upsert"),
                        {.method = "POST", .body = "a\n1\n", .headers = {"Content-Type: text/csv"}});
  EXPECT_EQ(bad_mode.status, 400);
  EXPECT_NE(bad_mode.body.find("\"param\":\"mode\""), std::string::npos) << bad_mode.body;
}

TEST_F(UploadApiTest, FileThatCannotBeIngestedIs422AndLeavesNothing) {
  StartServer();
  std::string table = Table("empty");
  auto result = Fetch(server_->Url("/v1/uploads?filename=empty.csv&table=" + table),
                      {.method = "POST", .body = "\n\n", .headers = {"Content-Type: text/csv"}});
  EXPECT_EQ(result.status, 422) << result.body;
  EXPECT_EQ(JsonValue(result.body, "state"), "failed");
  EXPECT_EQ(Sql("SHOW TABLES LIKE '" + table + "'"), "");
  EXPECT_EQ(Sql("SHOW TABLES LIKE '\\_sluice%'"), "");
}

TEST_F(UploadApiTest, ClientGoneMidBodyFailsCleanly) {
  StartServer();
  std::string table = Table("gone");
  {
    RawConnection c(server_->port());
    ASSERT_TRUE(c.Send("POST /v1/uploads?filename=gone.csv&table=" + table +
                       " HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 50000000\r\n\r\n"));
    std::string rows = "id,name\n";
    while (rows.size() < 7000000) rows += "1,some name here\n";
    ASSERT_TRUE(c.Send(rows));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }  // closes the socket mid-body
  std::string state;
  std::string list;
  for (int i = 0; i < 100 && state != "failed"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    list = Fetch(server_->Url("/v1/uploads?limit=1")).body;
    state = JsonValue(list, "state");
  }
  EXPECT_EQ(state, "failed") << list;
  EXPECT_NE(list.find("client_gone"), std::string::npos) << list;
  // "failed" shows at once; ?wait returns once the cleanup is over too.
  auto final_record = Fetch(server_->Url("/v1/uploads/" + JsonValue(list, "id") + "?wait=10"));
  EXPECT_NE(JsonValue(final_record.body, "finished_at"), "null") << final_record.body;
  EXPECT_EQ(Sql("SHOW TABLES LIKE '" + table + "'"), "");
  EXPECT_EQ(Sql("SHOW TABLES LIKE '\\_sluice%'"), "");
  EXPECT_EQ(OpenMultipartUploads().find("gone.csv"), std::string::npos);
}

TEST_F(UploadApiTest, RespondAsyncThenWaitAndEvents) {
  StartServer();
  std::string table = Table("async");
  auto accepted = Fetch(server_->Url("/v1/uploads?table=" + table),
                        {.method = "POST", .headers = {"Content-Type: text/csv", "Prefer: respond-async"},
                         .body_file = kTitanic});
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  std::string id = JsonValue(accepted.body, "id");
  auto waited = Fetch(server_->Url("/v1/uploads/" + id + "?wait=30"));
  EXPECT_EQ(waited.status, 200);
  EXPECT_EQ(JsonValue(waited.body, "state"), "done") << waited.body;
  auto events = Fetch(server_->Url("/v1/uploads/" + id + "/events"));
  EXPECT_EQ(events.status, 200);
  EXPECT_NE(events.body.find("event: done\ndata: {"), std::string::npos) << events.body;
  EXPECT_EQ(Fetch(server_->Url("/v1/uploads/01NOSUCHUPLOAD0000000000000")).status, 404);
}

}  // namespace
}  // namespace sluice::testing::uploads
