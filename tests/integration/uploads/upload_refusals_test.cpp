// The uploads the server refuses, each with API.md's status and error shape,
// and each leaving nothing behind: 409 table_exists answered before a byte of
// the body is asked for; 409 duplicate_upload both before the body (sent
// Content-Digest) and after it (no digest: found from the body's SHA-256),
// with the earlier upload's id and the table unchanged; a wrong
// Content-Digest; 409 for DELETE of a failed upload; 413 from
// Content-Length (no 100 Continue) and from a chunked body counted past the
// limit; 415 for a media type, a Content-Encoding and a text encoding; and
// 503 with Retry-After once max_concurrent_uploads uploads are open.
#include <gtest/gtest.h>

#include "uploads/upload_test_support.hpp"

namespace sluice::testing::uploads {
namespace {

using std::chrono::seconds;

class UploadRefusalsTest : public UploadServerTest {
 protected:
  /// Sends a raw upload's head (Content-Length, optional extra header lines)
  /// on `c` and returns the first response, interim or final.
  std::optional<RawResponse> SendHead(RawConnection& c, const std::string& target, size_t length,
                                      const std::string& extra = "") {
    EXPECT_TRUE(c.Send("POST " + target + " HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: " +
                       std::to_string(length) + "\r\n" + extra + "\r\n"));
    return c.ReadResponse(seconds(10));
  }
};

TEST_F(UploadRefusalsTest, TableExistsIs409BeforeTheBody) {
  StartServer();
  std::string table = Table("exists");
  Sql("CREATE TABLE `" + table + "` (a INT)");
  RawConnection c(server_->port());
  auto response = SendHead(c, "/v1/uploads?table=" + table, 1000, "Expect: 100-continue\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 409) << "no 100 Continue before the refusal";
  EXPECT_NE(response->body.find(R"({"error":{"code":"table_exists")"), std::string::npos) << response->body;
  EXPECT_NE(response->body.find(R"("param":"table")"), std::string::npos) << response->body;
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM `" + table + "`"), "0\n");
}

TEST_F(UploadRefusalsTest, DuplicateFoundAfterTheBodyIs409AndChangesNothing) {
  StartServer();
  std::string table = Table("dup_after");
  auto first = Fetch(Url("/v1/uploads?table=" + table),
                     {.method = "POST", .form = {{.name = "file", .file_path = kTitanicCsv}}});
  ASSERT_EQ(first.status, 201) << first.body;
  std::string first_id = JsonValue(first.body, "id");
  for (const std::string mode : {"append", "replace"}) {
    SCOPED_TRACE(mode);
    // No Content-Digest: the server learns the SHA-256 from the body itself.
    auto again = Fetch(Url("/v1/uploads?mode=" + mode + "&table=" + table),
                       {.method = "POST", .form = {{.name = "file", .file_path = kTitanicCsv}}});
    EXPECT_EQ(again.status, 409) << again.body;
    EXPECT_NE(again.body.find(R"({"error":{"code":"duplicate_upload")"), std::string::npos) << again.body;
    EXPECT_NE(again.body.find(R"("upload_id":")" + first_id + "\""), std::string::npos) << again.body;
    // The refused upload's own record says why, and its S3 copy is gone.
    auto location = again.headers.find("Location: /v1/uploads/");
    ASSERT_NE(location, std::string::npos) << again.headers;
    std::string refused_id = again.headers.substr(location + 22, 26);
    auto record = Fetch(Url("/v1/uploads/" + refused_id + "?wait=10"));
    EXPECT_EQ(JsonValue(record.body, "state"), "failed") << record.body;
    EXPECT_EQ(JsonValue(record.body, "code"), "duplicate_upload") << record.body;
    EXPECT_NE(JsonValue(record.body, "finished_at"), "null") << record.body;
    EXPECT_FALSE(S3ObjectExists("uploads/" + refused_id + "/titanic.csv"));
  }
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM `" + table + "`"), "891\n");
  EXPECT_EQ(Sql("SELECT upload_id FROM sluice_tables WHERE name = '" + table + "'"), first_id + "\n");
  EXPECT_EQ(Sql("SHOW TABLES LIKE '\\_sluice%'"), "");
}

TEST_F(UploadRefusalsTest, DuplicateWithContentDigestIs409BeforeTheBody) {
  StartServer();
  std::string table = Table("dup_before");
  auto first = Fetch(Url("/v1/uploads?table=" + table),
                     {.method = "POST", .headers = {"Content-Type: text/csv"}, .body_file = kTitanicCsv});
  ASSERT_EQ(first.status, 201) << first.body;
  std::string digest = RunCommand("openssl dgst -sha256 -binary " + kTitanicCsv + " | base64 -w0");
  RawConnection c(server_->port());
  auto response = SendHead(c, "/v1/uploads?mode=replace&table=" + table, 60301,
                           "Expect: 100-continue\r\nContent-Digest: sha-256=:" + digest + ":\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 409) << "no 100 Continue before the refusal";
  EXPECT_NE(response->body.find(R"("upload_id":")" + JsonValue(first.body, "id") + "\""), std::string::npos)
      << response->body;
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM `" + table + "`"), "891\n");
}

TEST_F(UploadRefusalsTest, WrongContentDigestFailsTheUpload) {
  StartServer();
  std::string table = Table("bad_digest");
  std::string other = RunCommand("printf other | openssl dgst -sha256 -binary | base64 -w0");
  auto result = Fetch(Url("/v1/uploads?table=" + table),
                      {.method = "POST",
                       .headers = {"Content-Type: text/csv", "Content-Digest: sha-256=:" + other + ":"},
                       .body_file = kTitanicCsv});
  EXPECT_EQ(result.status, 422) << result.body;
  EXPECT_EQ(JsonValue(result.body, "code"), "digest_mismatch") << result.body;
  EXPECT_FALSE(TableExists(table));
  EXPECT_EQ(Sql("SHOW TABLES LIKE '\\_sluice%'"), "");
}

TEST_F(UploadRefusalsTest, DeleteOfAFailedUploadIs409) {
  StartServer();
  auto failed = Fetch(Url("/v1/uploads?filename=empty.csv&table=" + Table("failed")),
                      {.method = "POST", .body = "", .headers = {"Content-Type: text/csv"}});
  ASSERT_EQ(failed.status, 422) << failed.body;
  auto again = Fetch(Url("/v1/uploads/" + JsonValue(failed.body, "id")), {.method = "DELETE"});
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(JsonValue(again.body, "code"), "upload_finished") << again.body;
  EXPECT_EQ(Fetch(Url("/v1/uploads/01NOSUCHUPLOAD0000000000000"), {.method = "DELETE"}).status, 404);
}

TEST_F(UploadRefusalsTest, TooLargeIs413FromContentLengthAndFromAChunkedBody) {
  StartServer("max_upload_bytes = 100K\n");
  // Known from Content-Length: refused before any 100 Continue.
  RawConnection c(server_->port());
  auto early = SendHead(c, "/v1/uploads?table=" + Table("big_length"), 200000, "Expect: 100-continue\r\n");
  ASSERT_TRUE(early);
  EXPECT_EQ(early->status, 413);
  EXPECT_NE(early->body.find("\"error\":{\"code\":"), std::string::npos) << early->body;
  // Chunked: counted as it comes; the upload that began fails and leaves nothing.
  std::string table = Table("big_chunked");
  auto chunked = Fetch(Url("/v1/uploads?filename=big.csv&table=" + table),
                       {.method = "POST", .body = SimpleCsv(6000, 7), .headers = {"Content-Type: text/csv"},
                        .chunked = true});
  EXPECT_EQ(chunked.status, 413) << chunked.body;
  std::string record;
  for (int i = 0; i < 100; ++i) {
    record = Fetch(Url("/v1/uploads?limit=1")).body;
    if (JsonValue(record, "finished_at") != "null" && !JsonValue(record, "finished_at").empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(JsonValue(record, "table"), table) << record;
  EXPECT_EQ(JsonValue(record, "state"), "failed") << record;
  EXPECT_EQ(JsonValue(record, "code"), "too_large") << record;
  EXPECT_FALSE(TableExists(table));
  EXPECT_EQ(Sql("SHOW TABLES LIKE '\\_sluice%'"), "");
  EXPECT_EQ(OpenMultipartUploads().find("big.csv"), std::string::npos);
  // Under the limit is fine.
  auto small = Fetch(Url("/v1/uploads?table=" + Table("small")),
                     {.method = "POST", .body = SimpleCsv(100, 8), .headers = {"Content-Type: text/csv"},
                      .chunked = true});
  EXPECT_EQ(small.status, 201) << small.body;
}

TEST_F(UploadRefusalsTest, UnsupportedTypeOrEncodingIs415) {
  StartServer();
  auto post = [&](const std::string& query, std::vector<std::string> headers) {
    return Fetch(Url("/v1/uploads?table=" + Table("u415") + query),
                 {.method = "POST", .body = "a,b\n1,2\n", .headers = std::move(headers)});
  };
  auto pdf = post("", {"Content-Type: application/pdf"});
  EXPECT_EQ(pdf.status, 415);
  EXPECT_EQ(JsonValue(pdf.body, "code"), "unsupported_media_type") << pdf.body;
  auto brotli = post("", {"Content-Type: text/csv", "Content-Encoding: br"});
  EXPECT_EQ(brotli.status, 415);
  EXPECT_EQ(JsonValue(brotli.body, "code"), "unsupported_encoding") << brotli.body;
  auto ebcdic = post("&encoding=ebcdic", {"Content-Type: text/csv"});
  EXPECT_EQ(ebcdic.status, 415);
  EXPECT_EQ(JsonValue(ebcdic.body, "param"), "encoding") << ebcdic.body;
  EXPECT_FALSE(TableExists(Table("u415")));
}

TEST_F(UploadRefusalsTest, BusyIs503WithRetryAfterAtMaxConcurrentUploads) {
  StartServer("max_concurrent_uploads = 2\n");
  // Two uploads held open: their heads and a first row sent, the rest never.
  std::vector<std::unique_ptr<RawConnection>> open;
  for (int i = 0; i < 2; ++i) {
    open.push_back(std::make_unique<RawConnection>(server_->port()));
    ASSERT_TRUE(open.back()->Send("POST /v1/uploads?filename=held.csv&table=" + Table("held" + std::to_string(i)) +
                                  " HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 100000\r\n\r\n"
                                  "a,b\n1,2\n"));
  }
  int receiving = 0;
  for (int i = 0; i < 100 && receiving < 2; ++i) {
    std::string list = Fetch(Url("/v1/uploads?limit=2")).body;
    receiving = 0;
    for (size_t at = 0; (at = list.find("\"state\":\"receiving\"", at)) != std::string::npos; ++at) ++receiving;
    if (receiving < 2) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(receiving, 2);
  auto busy = Fetch(Url("/v1/uploads?table=" + Table("third")),
                    {.method = "POST", .body = "a,b\n1,2\n", .headers = {"Content-Type: text/csv"}});
  EXPECT_EQ(busy.status, 503) << busy.body;
  EXPECT_EQ(JsonValue(busy.body, "code"), "busy") << busy.body;
  EXPECT_NE(busy.headers.find("Retry-After: "), std::string::npos) << busy.headers;
  EXPECT_FALSE(TableExists(Table("third")));
  // The intended 503 is a warning in the log, not an error that pages someone.
  const std::string log = server_->Log();
  EXPECT_NE(log.find("warning [http] req="), std::string::npos) << log;
  EXPECT_EQ(log.find("error [http] req="), std::string::npos) << log;
  // Once the held uploads are gone, uploads are accepted again.
  open.clear();
  long status = 0;
  for (int i = 0; i < 100 && status != 201; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = Fetch(Url("/v1/uploads?table=" + Table("after")),
                   {.method = "POST", .body = "a,b\n1,2\n", .headers = {"Content-Type: text/csv"}})
                 .status;
    ASSERT_TRUE(status == 201 || status == 503) << status;
  }
  EXPECT_EQ(status, 201);
}

}  // namespace
}  // namespace sluice::testing::uploads
