// Eight uploads of different files at once, each on its own libcurl client
// thread and in a mix of body forms (multipart, raw, chunked, gzip), two of
// them larger than the 5 MiB part size so their S3 copies are multipart
// uploads running side by side. All must land: every table holds exactly its
// own file's rows in file order, every S3 object is byte-identical to what
// its client sent, and no staging table or open multipart upload is left.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "uploads/upload_test_support.hpp"

namespace sluice::testing::uploads {
namespace {

class UploadConcurrencyTest : public UploadServerTest {};

TEST_F(UploadConcurrencyTest, EightConcurrentUploadsOfDifferentFilesAllLand) {
  StartServer();
  constexpr int kUploads = 8;
  const int rows[kUploads] = {150000, 40000, 9000, 1, 25000, 3000, 130000, 500};
  struct Upload {
    std::string table, csv, sent_path, sent;
    FetchOptions options;
    FetchResult result;
  };
  std::vector<Upload> uploads(kUploads);
  for (int i = 0; i < kUploads; ++i) {
    Upload& u = uploads[i];
    u.table = Table("concurrent" + std::to_string(i));
    u.csv = SimpleCsv(rows[i], 100 + i);
    std::string path = TempPath("file" + std::to_string(i) + ".csv");
    WriteWholeFile(path, u.csv);
    u.sent_path = path;
    u.options.method = "POST";
    switch (i % 4) {
      case 0: u.options.form = {{.name = "table", .value = u.table}, {.name = "file", .file_path = path}}; break;
      case 1: u.options.headers = {"Content-Type: text/csv"}; u.options.body_file = path; break;
      case 2: u.options.headers = {"Content-Type: text/csv"}; u.options.body_file = path; u.options.chunked = true; break;
      case 3:
        RunCommand("gzip -1 -c " + path + " > " + path + ".gz");
        u.sent_path = path + ".gz";
        u.options.headers = {"Content-Type: text/csv", "Content-Encoding: gzip"};
        u.options.body_file = u.sent_path;
        break;
    }
    u.options.timeout_ms = 120000;
    u.sent = ReadWholeFile(u.sent_path);
  }
  ASSERT_GT(uploads[0].sent.size(), 5u << 20);  // multipart S3 uploads among them
  ASSERT_GT(uploads[6].sent.size(), 5u << 20);
  std::vector<std::thread> clients;
  for (int i = 0; i < kUploads; ++i) {
    clients.emplace_back([&, i] {
      Upload& u = uploads[i];
      std::string query = i % 4 == 0 ? "" : "?filename=file" + std::to_string(i) + ".csv&table=" + u.table;
      u.result = Fetch(Url("/v1/uploads" + query), u.options);
    });
  }
  for (auto& client : clients) client.join();
  for (int i = 0; i < kUploads; ++i) {
    SCOPED_TRACE("upload " + std::to_string(i));
    const Upload& u = uploads[i];
    ASSERT_EQ(u.result.status, 201) << u.result.error << u.result.body;
    EXPECT_EQ(JsonValue(u.result.body, "table"), u.table);
    EXPECT_EQ(JsonValue(u.result.body, "rows_loaded"), std::to_string(rows[i]));
    EXPECT_TRUE(SimpleCsvRows(u.table) == DataRows(u.csv)) << "the table's rows differ from the file's";
    EXPECT_TRUE(S3Object(JsonValue(u.result.body, "key")) == u.sent) << "the S3 object differs from the bytes sent";
  }
  EXPECT_EQ(Sql("SHOW TABLES LIKE '\\_sluice%'"), "");
  EXPECT_EQ(OpenMultipartUploads().find("file"), std::string::npos);
}

}  // namespace
}  // namespace sluice::testing::uploads
