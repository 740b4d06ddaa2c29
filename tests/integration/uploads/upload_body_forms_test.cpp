// Every body form of POST /v1/uploads (API.md "Uploads") through the real
// server into MariaDB and Ceph RGW: multipart from libcurl's `curl -F` with
// option fields before the file part, a raw body with Content-Length, a raw
// chunked body behind `Expect: 100-continue`, `Content-Encoding: gzip`, a
// `.gz` file part, TSV, and JSON Lines. Each test compares every row of the
// table with the file and the S3 object with the bytes sent.
#include <gtest/gtest.h>

#include <algorithm>

#include "uploads/upload_test_support.hpp"

namespace sluice::testing::uploads {
namespace {

using std::chrono::seconds;

class UploadBodyFormsTest : public UploadServerTest {
 protected:
  /// The checks every successful upload of SimpleCsv `csv` into `table` gets.
  void ExpectLanded(const FetchResult& result, const std::string& table, const std::string& sent,
                    const std::string& csv) {
    ASSERT_EQ(result.status, 201) << result.body;
    EXPECT_EQ(JsonValue(result.body, "state"), "done");
    EXPECT_EQ(JsonValue(result.body, "table"), table);
    EXPECT_EQ(JsonValue(result.body, "bytes_received"), std::to_string(sent.size()));
    EXPECT_EQ(JsonValue(result.body, "rows_rejected"), "0");
    EXPECT_EQ(SimpleCsvRows(table), DataRows(csv));
    EXPECT_TRUE(S3Object(JsonValue(result.body, "key")) == sent) << "the S3 object differs from the bytes sent";
  }
};

TEST_F(UploadBodyFormsTest, MultipartOptionFieldsBeforeTheFilePart) {
  StartServer();
  std::string csv = SimpleCsv(2000, 1);
  std::string path = TempPath("form.csv");
  WriteWholeFile(path, csv);
  std::string table = Table("form_fields");
  // Like: curl -F table=… -F types=text -F file=@form.csv;filename=people.csv
  auto result = Fetch(Url("/v1/uploads"), {.method = "POST",
                                           .form = {{.name = "table", .value = table},
                                                    {.name = "types", .value = "text"},
                                                    {.name = "file", .file_path = path, .filename = "people.csv"}}});
  ExpectLanded(result, table, csv, csv);
  EXPECT_EQ(JsonValue(result.body, "filename"), "people.csv");
  EXPECT_NE(JsonValue(result.body, "key").find("/people.csv"), std::string::npos) << result.body;
  // types=text from the form field: no column was inferred.
  EXPECT_EQ(result.body.find("BIGINT"), std::string::npos) << result.body;
  EXPECT_EQ(Sql("SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '" +
                table + "' AND COLUMN_NAME = 'id'"),
            "text\n");
}

TEST_F(UploadBodyFormsTest, RawBodyWithContentLength) {
  StartServer();
  std::string csv = SimpleCsv(3000, 2);
  std::string path = TempPath("raw.csv");
  WriteWholeFile(path, csv);
  std::string table = Table("raw_length");
  auto result = Fetch(Url("/v1/uploads?filename=raw.csv&table=" + table),
                      {.method = "POST", .headers = {"Content-Type: text/csv"}, .body_file = path});
  ExpectLanded(result, table, csv, csv);
  EXPECT_EQ(JsonValue(result.body, "filename"), "raw.csv");
  EXPECT_EQ(JsonValue(result.body, "rows_loaded"), "3000");
  EXPECT_EQ(JsonValue(result.body, "sha256") + "\n", RunCommand("sha256sum " + path + " | cut -c1-64"));
  EXPECT_NE(result.body.find(R"("name":"amount","header":"amount","type":"DECIMAL)"), std::string::npos)
      << result.body;
}

TEST_F(UploadBodyFormsTest, RawChunkedBodyAfter100Continue) {
  StartServer();
  std::string csv = SimpleCsv(1500, 3);
  std::string table = Table("chunked_continue");
  RawConnection c(server_->port());
  ASSERT_TRUE(c.Send("POST /v1/uploads?filename=c.csv&table=" + table +
                     " HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n"
                     "Expect: 100-continue\r\n\r\n"));
  auto interim = c.ReadResponse(seconds(10));
  ASSERT_TRUE(interim);
  ASSERT_EQ(interim->status, 100);  // the upload may start: now the body
  std::string body;
  for (size_t at = 0; at < csv.size(); at += 7000) {
    std::string piece = csv.substr(at, 7000);
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    body += size + piece + "\r\n";
  }
  ASSERT_TRUE(c.Send(body + "0\r\n\r\n"));
  auto response = c.ReadResponse(seconds(30));
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 201) << response->body;
  EXPECT_EQ(JsonValue(response->body, "rows_loaded"), "1500");
  EXPECT_EQ(SimpleCsvRows(table), DataRows(csv));
  EXPECT_TRUE(S3Object(JsonValue(response->body, "key")) == csv);
}

TEST_F(UploadBodyFormsTest, ContentEncodingGzipKeepsTheCompressedBytesInS3) {
  StartServer();
  std::string csv = SimpleCsv(4000, 4);
  std::string plain = TempPath("enc.csv");
  WriteWholeFile(plain, csv);
  RunCommand("gzip -c " + plain + " > " + plain + ".gz");
  std::string gz = ReadWholeFile(plain + ".gz");
  ASSERT_GT(gz.size(), 20u);
  std::string table = Table("content_encoding");
  // The name says .csv: only the header tells that the body is compressed.
  auto result = Fetch(Url("/v1/uploads?filename=enc.csv&table=" + table),
                      {.method = "POST",
                       .headers = {"Content-Type: text/csv", "Content-Encoding: gzip"},
                       .body_file = plain + ".gz"});
  ExpectLanded(result, table, gz, csv);
  EXPECT_EQ(JsonValue(result.body, "rows_loaded"), "4000");
}

TEST_F(UploadBodyFormsTest, MultipartGzFilePart) {
  StartServer();
  std::string csv = SimpleCsv(2500, 5);
  std::string plain = TempPath("part.csv");
  WriteWholeFile(plain, csv);
  RunCommand("gzip -c " + plain + " > " + plain + ".gz");
  std::string gz = ReadWholeFile(plain + ".gz");
  std::string table = Table("form_gz");
  auto result = Fetch(Url("/v1/uploads?table=" + table),
                      {.method = "POST", .form = {{.name = "file", .file_path = plain + ".gz"}}});
  ExpectLanded(result, table, gz, csv);
  EXPECT_EQ(JsonValue(result.body, "filename"), "part.csv.gz");
}

TEST_F(UploadBodyFormsTest, TabSeparatedBody) {
  StartServer();
  std::string csv = SimpleCsv(1200, 6);
  std::string tsv = csv;
  std::replace(tsv.begin(), tsv.end(), ',', '\t');
  std::string table = Table("tsv_body");
  auto result = Fetch(Url("/v1/uploads?filename=t.tsv&table=" + table),
                      {.method = "POST", .body = tsv, .headers = {"Content-Type: text/tab-separated-values"}});
  ExpectLanded(result, table, tsv, csv);
}

TEST_F(UploadBodyFormsTest, JsonLinesColumnsAreTheUnionOfKeysInFirstSeenOrder) {
  StartServer();
  std::string jsonl =
      "{\"id\":1,\"name\":\"Ann \\\"A\\\" Lee\",\"tags\":[\"x\",\"y\"]}\n"
      "{\"id\":2,\"extra\":{\"k\":1},\"name\":\"Bo\"}\n"
      "{\"name\":\"Cy\",\"id\":3,\"tags\":null}\n";
  std::string table = Table("jsonl_body");
  auto result = Fetch(Url("/v1/uploads?filename=events.ndjson&table=" + table),
                      {.method = "POST", .body = jsonl, .headers = {"Content-Type: application/x-ndjson"}});
  ASSERT_EQ(result.status, 201) << result.body;
  EXPECT_EQ(JsonValue(result.body, "rows_loaded"), "3");
  EXPECT_EQ(Sql("SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION) FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '" + table + "' AND COLUMN_NAME <> '_row'"),
            "id,name,tags,extra\n");
  EXPECT_EQ(Sql("SELECT CONCAT_WS('|', id, name, IFNULL(tags, 'NULL'), IFNULL(extra, 'NULL')) FROM `" + table +
                "` ORDER BY _row"),
            "1|Ann \"A\" Lee|[\"x\",\"y\"]|NULL\n2|Bo|NULL|{\"k\":1}\n3|Cy|NULL|NULL\n");
  EXPECT_TRUE(S3Object(JsonValue(result.body, "key")) == jsonl);
  // format=jsonl as a form field also works for a name that does not say so.
  std::string path = TempPath("lines.txt");
  WriteWholeFile(path, jsonl);
  auto form = Fetch(Url("/v1/uploads"), {.method = "POST",
                                         .form = {{.name = "format", .value = "jsonl"},
                                                  {.name = "table", .value = table + "_2"},
                                                  {.name = "file", .file_path = path}}});
  ASSERT_EQ(form.status, 201) << form.body;
  EXPECT_EQ(JsonValue(form.body, "rows_loaded"), "3");
}

}  // namespace
}  // namespace sluice::testing::uploads
