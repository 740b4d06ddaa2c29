// The uploads API end to end: the real `sluice serve`, a real MariaDB and
// Ceph RGW, driven with libcurl (multipart like `curl -F`, raw, chunked, gzip)
// and raw sockets (a client that disappears mid-body). Checks the answers,
// the table in MariaDB, the S3 object byte for byte, and that failures leave
// no table, no staging table and no open multipart upload.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "support/http_client.hpp"
#include "support/services.hpp"
#include "support/sluice_process.hpp"

namespace sluice::testing {
namespace {

using std::chrono::seconds;

const std::string kTitanic = std::string(SLUICE_SHARED_DATA_DIR) + "/titanic.csv";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string JsonField(const std::string& json, const std::string& key) {
  std::smatch m;
  std::regex string_field("\"" + key + "\":\"([^\"]*)\"");
  if (std::regex_search(json, m, string_field)) return m[1];
  std::regex number_field("\"" + key + "\":(-?[0-9]+|null|true|false)");
  if (std::regex_search(json, m, number_field)) return m[1];
  return "";
}

class UploadApiTest : public ::testing::Test {
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
    if (HasFailure() && server_) std::cerr << server_->Log();
  }

  void StartServer(const std::string& server_keys = "") {
    server_ = std::make_unique<SluiceProcess>();
    server_->WriteConf(server_keys,
                       "[mariadb]\nhost = 127.0.0.1\nport = " + std::to_string(db_.port) + "\nuser = " + db_.user +
                           "\npassword = " + db_.password + "\ndatabase = " + db_.database + "\n[s3]\nendpoint = " +
                           s3_.endpoint + "\nbucket = " + s3_.bucket + "\npath_style = true\naccess_key = " +
                           s3_.access_key + "\nsecret_key = " + s3_.secret_key + "\npart_size = 5M\n");
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
    // The catalog initialises asynchronously: wait until uploads are accepted.
    for (int i = 0; i < 100; ++i) {
      auto r = Fetch(server_->Url("/v1/uploads?limit=1"));
      if (r.status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "the catalog never became ready";
  }

  std::string Sql(const std::string& query) {
    return RunCommand("mariadb --no-defaults -S " + db_.root_socket + " -uroot -N -B " + db_.database + " -e \"" +
                      query + "\" 2>&1");
  }
  std::string S3Get(const std::string& key, const std::string& to) {
    int rc = 0;
    std::string out = RunCommand("AWS_ACCESS_KEY_ID=" + s3_.access_key + " AWS_SECRET_ACCESS_KEY=" + s3_.secret_key +
                                     " AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true "
                                     "AWS_CONFIG_FILE=/dev/null /usr/bin/aws --endpoint-url " +
                                     s3_.endpoint + " s3api get-object --bucket " + s3_.bucket + " --key '" + key +
                                     "' " + to + " 2>&1",
                                 &rc);
    return rc == 0 ? "" : out;
  }
  std::string OpenMultipartUploads() {
    return RunCommand("AWS_ACCESS_KEY_ID=" + s3_.access_key + " AWS_SECRET_ACCESS_KEY=" + s3_.secret_key +
                      " AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null "
                      "/usr/bin/aws --endpoint-url " +
                      s3_.endpoint + " s3api list-multipart-uploads --bucket " + s3_.bucket +
                      " --query 'Uploads[].Key' --output text 2>&1");
  }
  std::string Table(const std::string& base) { return base + "_" + suffix_; }

  MariadbTarget db_;
  S3Target s3_;
  std::string suffix_;
  std::unique_ptr<SluiceProcess> server_;
  static inline int counter_ = 0;
};

TEST_F(UploadApiTest, TitanicWithCurlFormEndToEnd) {
  StartServer();
  std::string table = Table("titanic");
  auto result = Fetch(server_->Url("/v1/uploads?table=" + table),
                      {.method = "POST", .form = {{.name = "file", .file_path = kTitanic}}});
  ASSERT_EQ(result.status, 201) << result.body;
  EXPECT_EQ(JsonField(result.body, "state"), "done");
  EXPECT_EQ(JsonField(result.body, "rows_loaded"), "891");
  EXPECT_EQ(JsonField(result.body, "rows_rejected"), "0");
  EXPECT_EQ(JsonField(result.body, "filename"), "titanic.csv");
  std::string id = JsonField(result.body, "id");
  EXPECT_NE(result.headers.find("Location: /v1/uploads/" + id), std::string::npos);
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM \\`" + table + "\\`"), "891\n");
  EXPECT_EQ(Sql("SELECT Name FROM \\`" + table + "\\` WHERE PassengerId = 1"), "Braund, Mr. Owen Harris\n");
  // The original bytes in S3, and their SHA-256 in the record.
  std::string key = JsonField(result.body, "key");
  ASSERT_FALSE(key.empty()) << result.body;
  std::string copy = server_->dir() + "/from-s3.csv";
  ASSERT_EQ(S3Get(key, copy), "");
  EXPECT_TRUE(ReadFile(copy) == ReadFile(kTitanic));
  std::string sha = RunCommand("sha256sum " + kTitanic + " | cut -c1-64");
  EXPECT_EQ(JsonField(result.body, "sha256") + "\n", sha);
  // The record is kept.
  auto record = Fetch(server_->Url("/v1/uploads/" + id));
  EXPECT_EQ(record.status, 200);
  EXPECT_EQ(JsonField(record.body, "state"), "done");
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
  EXPECT_EQ(JsonField(result.body, "rows_loaded"), "891");
  std::string copy = server_->dir() + "/from-s3.gz";
  ASSERT_EQ(S3Get(JsonField(result.body, "key"), copy), "");
  EXPECT_TRUE(ReadFile(copy) == ReadFile(gz));  // S3 keeps the original (compressed) bytes
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
  EXPECT_NE(duplicate->body.find("\"upload_id\":\"" + JsonField(first.body, "id") + "\""), std::string::npos);
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
  EXPECT_EQ(JsonField(result.body, "state"), "failed");
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
    state = JsonField(list, "state");
  }
  EXPECT_EQ(state, "failed") << list;
  EXPECT_NE(list.find("client_gone"), std::string::npos) << list;
  // "failed" shows at once; ?wait returns once the cleanup is over too.
  auto final_record = Fetch(server_->Url("/v1/uploads/" + JsonField(list, "id") + "?wait=10"));
  EXPECT_NE(JsonField(final_record.body, "finished_at"), "null") << final_record.body;
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
  std::string id = JsonField(accepted.body, "id");
  auto waited = Fetch(server_->Url("/v1/uploads/" + id + "?wait=30"));
  EXPECT_EQ(waited.status, 200);
  EXPECT_EQ(JsonField(waited.body, "state"), "done") << waited.body;
  auto events = Fetch(server_->Url("/v1/uploads/" + id + "/events"));
  EXPECT_EQ(events.status, 200);
  EXPECT_NE(events.body.find("event: done\ndata: {"), std::string::npos) << events.body;
  EXPECT_EQ(Fetch(server_->Url("/v1/uploads/01NOSUCHUPLOAD0000000000000")).status, 404);
}

}  // namespace
}  // namespace sluice::testing
