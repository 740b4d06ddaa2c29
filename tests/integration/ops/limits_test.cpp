// The ingest and query limits through the real binary (MariaDB + RGW): a file
// with more columns than a MariaDB table can hold is a 422 naming the limit,
// decided from the header before any DDL (no table, no staging table); a row
// too wide for InnoDB's row size is the same 422; a field over
// [server] max_field_bytes makes its row bad (skipped and reported, or a 422
// with on_error=abort, or a 422 when it is in the header); a page over
// [server] max_page_rows is a 400 naming `limit`. The HTTP limits (413, 414,
// 431, 408, max_connections) are in http/http_server_test.cpp.
#include <gtest/gtest.h>

#include "ops_fixture.hpp"

namespace sluice::testing {
namespace {

std::string Header(int columns, const std::string& prefix = "col") {
  std::string line;
  for (int i = 1; i <= columns; ++i) line += (i > 1 ? "," : "") + prefix + std::to_string(i);
  return line + "\n";
}

std::string Row(int columns, const std::string& value) {
  std::string line;
  for (int i = 1; i <= columns; ++i) line += (i > 1 ? "," : "") + value;
  return line + "\n";
}

class OpsLimitsTest : public OpsFixture {};

TEST_F(OpsLimitsTest, FiveThousandColumnsIsAClear422BeforeAnyDdl) {
  StartServer();
  std::string table = Table("wide");
  auto result = UploadCsv("table=" + table, Header(5000) + Row(5000, "1") + Row(5000, "2"));
  EXPECT_EQ(result.status, 422) << result.body;
  EXPECT_EQ(JsonValue(result.body, "state"), "failed") << result.body;
  EXPECT_EQ(JsonValue(result.body, "code"), "too_many_columns") << result.body;
  std::string message = JsonValue(result.body, "message");
  EXPECT_NE(message.find("5000 columns"), std::string::npos) << message;
  EXPECT_NE(message.find("at most 1016"), std::string::npos) << message;  // the limit, named
  EXPECT_EQ(Sql("SHOW TABLES LIKE '" + table + "'"), "");
  EXPECT_EQ(Sql("SHOW TABLES LIKE '\\_sluice\\_stage%'"), "");
  EXPECT_EQ(server_->Log().find("CREATE TABLE"), std::string::npos);  // nothing was tried on MariaDB
}

TEST_F(OpsLimitsTest, ARowTooWideForInnoDbIsA422NamingTheRowSizeLimit) {
  StartServer();
  std::string table = Table("wide_text");
  auto result = UploadCsv("types=text&table=" + table, Header(600) + Row(600, "x"));
  EXPECT_EQ(result.status, 422) << result.body;
  EXPECT_EQ(JsonValue(result.body, "code"), "too_many_columns") << result.body;
  EXPECT_NE(JsonValue(result.body, "message").find("row too large"), std::string::npos) << result.body;
  EXPECT_EQ(Sql("SHOW TABLES LIKE '" + table + "'"), "");
  // Well under the limits: loads.
  auto fine = UploadCsv("table=" + Table("fine_wide"), Header(300) + Row(300, "7"));
  EXPECT_EQ(fine.status, 201) << fine.body;
}

TEST_F(OpsLimitsTest, AFieldOverMaxFieldBytesMakesItsRowBad) {
  StartServer("max_field_bytes = 1K\n");
  const std::string body = "id,text\n1," + std::string(2000, 'x') + "\n2,short\n";
  auto skipped = UploadCsv("table=" + Table("long_field"), body);
  ASSERT_EQ(skipped.status, 201) << skipped.body;
  EXPECT_EQ(JsonValue(skipped.body, "rows_loaded"), "1");
  EXPECT_EQ(JsonValue(skipped.body, "rows_rejected"), "1");
  EXPECT_NE(skipped.body.find("field 2 is 2000 bytes, over max_field_bytes (1024)"), std::string::npos)
      << skipped.body;
  EXPECT_NE(skipped.body.find("\"line\":2"), std::string::npos) << skipped.body;

  auto aborted = UploadCsv("on_error=abort&table=" + Table("long_abort"), body);
  EXPECT_EQ(aborted.status, 422) << aborted.body;
  EXPECT_EQ(JsonValue(aborted.body, "state"), "failed") << aborted.body;
  EXPECT_NE(aborted.body.find("max_field_bytes"), std::string::npos) << aborted.body;
  EXPECT_EQ(Sql("SHOW TABLES LIKE '" + Table("long_abort") + "'"), "");

  auto header = UploadCsv("table=" + Table("long_header"), "id," + std::string(1500, 'h') + "\n1,2\n");
  EXPECT_EQ(header.status, 422) << header.body;
  EXPECT_NE(header.body.find("max_field_bytes"), std::string::npos) << header.body;

  // JSON Lines: the same limit on a value.
  auto jsonl = Fetch(server_->Url("/v1/uploads?table=" + Table("long_json")),
                     {.method = "POST",
                      .body = "{\"a\":1,\"b\":\"" + std::string(2000, 'j') + "\"}\n{\"a\":2,\"b\":\"ok\"}\n",
                      .headers = {"Content-Type: application/x-ndjson"}});
  ASSERT_EQ(jsonl.status, 201) << jsonl.body;
  EXPECT_EQ(JsonValue(jsonl.body, "rows_rejected"), "1") << jsonl.body;
  EXPECT_NE(jsonl.body.find("max_field_bytes (1024)"), std::string::npos) << jsonl.body;
}

TEST_F(OpsLimitsTest, APageOverMaxPageRowsIs400NamingLimit) {
  StartServer("max_page_rows = 5\n");
  std::string table = Table("paged");
  std::string body = "n\n";
  for (int i = 1; i <= 20; ++i) body += std::to_string(i) + "\n";
  ASSERT_EQ(UploadCsv("table=" + table, body).status, 201);
  auto over = Fetch(server_->Url("/v1/tables/" + table + "/rows?limit=6"));
  EXPECT_EQ(over.status, 400) << over.body;
  EXPECT_EQ(JsonValue(over.body, "code"), "invalid_parameter") << over.body;
  EXPECT_EQ(JsonValue(over.body, "param"), "limit") << over.body;
  EXPECT_NE(over.body.find("max_page_rows"), std::string::npos) << over.body;
  auto at = Fetch(server_->Url("/v1/tables/" + table + "/rows?limit=5"));
  EXPECT_EQ(at.status, 200) << at.body;
  EXPECT_EQ(Fetch(server_->Url("/v1/tables/" + table + "/aggregate?group_by=n&limit=6")).status, 400);
  Fetch(server_->Url("/v1/tables/" + table), {.method = "DELETE"});
}

}  // namespace
}  // namespace sluice::testing
