// catalog_records: the upload record's JSON exactly as API.md shows it (nulls
// for what is unknown), the JSON columns round-tripping through simdjson with
// awkward text, UTC timestamps both ways, and the SQL that writes records
// (golden, with hostile strings escaped) read back through UploadFromRow.
#include "db/catalog_records.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::db {
namespace {

UploadRecord FullRecord() {
  UploadRecord r;
  r.id = "01J0000000000000000000000A";
  r.state = UploadState::kDone;
  r.table = "titanic";
  r.mode = "create";
  r.filename = "titanic.csv";
  r.bytes_received = 61194;
  r.sha256 = std::string(64, 'a');
  r.rows_total = 892;
  r.rows_loaded = 891;
  r.rows_rejected = 1;
  r.columns = {{"PassengerId", "PassengerId", "BIGINT"}, {"Name \"q\"", " Name \"q\" ", "TEXT"}};
  r.rejected = {{17, "expected 12 fields, found 11"}};
  r.s3_bucket = "sluice";
  r.s3_key = "uploads/01J/titanic.csv";
  r.s3_etag = "\"abc-2\"";
  r.created_at_ms = 1700000000123;
  r.finished_at_ms = 1700000000277;
  r.duration_ms = 154;
  return r;
}

TEST(CatalogRecordsTest, UploadRecordJsonAsApiShowsIt) {
  EXPECT_EQ(UploadRecordJson(FullRecord()),
            "{\"id\":\"01J0000000000000000000000A\",\"state\":\"done\",\"table\":\"titanic\",\"mode\":\"create\","
            "\"filename\":\"titanic.csv\",\"bytes_received\":61194,\"sha256\":\"" + std::string(64, 'a') +
                "\",\"rows_total\":892,\"rows_loaded\":891,\"rows_rejected\":1,"
                "\"columns\":[{\"name\":\"PassengerId\",\"header\":\"PassengerId\",\"type\":\"BIGINT\"},"
                "{\"name\":\"Name \\\"q\\\"\",\"header\":\" Name \\\"q\\\" \",\"type\":\"TEXT\"}],"
                "\"rejected\":[{\"line\":17,\"reason\":\"expected 12 fields, found 11\"}],"
                "\"s3\":{\"bucket\":\"sluice\",\"key\":\"uploads/01J/titanic.csv\",\"etag\":\"\\\"abc-2\\\"\"},"
                "\"error\":null,\"created_at\":\"2023-11-14T22:13:20.123Z\","
                "\"finished_at\":\"2023-11-14T22:13:20.277Z\",\"duration_ms\":154}");
  UploadRecord running;
  running.id = "x";
  running.state = UploadState::kFailed;
  running.error_code = "interrupted";
  running.error_message = "stopped";
  std::string json = UploadRecordJson(running);
  EXPECT_NE(json.find("\"sha256\":null"), std::string::npos) << json;
  EXPECT_NE(json.find("\"s3\":null"), std::string::npos) << json;
  EXPECT_NE(json.find("\"error\":{\"code\":\"interrupted\",\"message\":\"stopped\"}"), std::string::npos) << json;
  EXPECT_NE(json.find("\"finished_at\":null,\"duration_ms\":null"), std::string::npos) << json;
  EXPECT_NE(json.find("\"columns\":[],\"rejected\":[]"), std::string::npos) << json;
}

TEST(CatalogRecordsTest, JsonColumnsRoundTrip) {
  std::vector<CatalogColumn> columns = {{"a", "", "TEXT"}, {"ünï \t\n\\\"", "😀 x", "DECIMAL(10,2)"}};
  auto parsed = ParseColumnsJson(ColumnsJson(columns));
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(*parsed, columns);
  std::vector<RejectedRow> rejected = {{1, "a"}, {18446744073709551615ull, "bad \"utf\""}};
  auto rows = ParseRejectedJson(RejectedJson(rejected));
  ASSERT_TRUE(rows) << rows.error().message();
  EXPECT_EQ(*rows, rejected);
  std::vector<std::string> header = {"", " x ", std::string("nul\0", 4)};
  auto cells = ParseStringsJson(StringsJson(header));
  ASSERT_TRUE(cells) << cells.error().message();
  EXPECT_EQ(*cells, header);
  EXPECT_FALSE(ParseColumnsJson("{}"));
  EXPECT_FALSE(ParseColumnsJson("[{\"name\":1}]"));
  EXPECT_FALSE(ParseRejectedJson("[{\"line\":\"x\",\"reason\":\"r\"}]"));
  EXPECT_FALSE(ParseStringsJson("not json"));
}

TEST(CatalogRecordsTest, Timestamps) {
  EXPECT_EQ(SqlTimestamp(0), "1970-01-01 00:00:00.000");
  EXPECT_EQ(SqlTimestamp(1700000000123), "2023-11-14 22:13:20.123");
  EXPECT_EQ(Rfc3339(1700000000123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(*ParseSqlTimestamp("2023-11-14 22:13:20.123"), 1700000000123);
  EXPECT_EQ(*ParseSqlTimestamp("2023-11-14 22:13:20"), 1700000000000);
  EXPECT_EQ(*ParseSqlTimestamp("2023-11-14 22:13:20.5"), 1700000000500);
  EXPECT_EQ(*ParseSqlTimestamp("2023-11-14 22:13:20.123456"), 1700000000123);
  EXPECT_FALSE(ParseSqlTimestamp("2023-11-14T22:13:20"));
  EXPECT_FALSE(ParseSqlTimestamp("yesterday"));
  std::int64_t now = NowMs();
  EXPECT_EQ(*ParseSqlTimestamp(SqlTimestamp(now)), now);
}

TEST(CatalogRecordsTest, StatesByName) {
  for (auto state : {UploadState::kReceiving, UploadState::kLoading, UploadState::kDone, UploadState::kFailed,
                     UploadState::kCancelled}) {
    EXPECT_EQ(*ParseUploadState(UploadStateName(state)), state);
  }
  EXPECT_FALSE(ParseUploadState("DONE"));
}

TEST(CatalogRecordsTest, SqlEscapesAndReadsBack) {
  UploadRecord r = FullRecord();
  r.filename = "x'); DROP TABLE sluice_uploads; --.csv";
  std::string sql = InsertUploadSql(r);
  EXPECT_NE(sql.find("'x\\'); DROP TABLE sluice_uploads; --.csv'"), std::string::npos) << sql;
  UploadProgress progress{"id'1", UploadState::kLoading, 10, 9, 8, 7};
  EXPECT_EQ(UpdateProgressSql(progress),
            "UPDATE sluice_uploads SET state = 'loading', bytes_received = 10, rows_total = 9, rows_loaded = 8, "
            "rows_rejected = 7 WHERE id = 'id\\'1'");
  EXPECT_EQ(AddTableRowsSql("t'x", 5, "U", 0),
            "UPDATE sluice_tables SET row_count = row_count + 5, upload_id = 'U', updated_at = "
            "'1970-01-01 00:00:00.000' WHERE name = 't\\'x'");
  // A row as the server returns it reads back into the same record.
  std::vector<std::optional<std::string>> row = {r.id, "done", r.table, r.mode, r.filename, "61194", r.sha256,
                                                 "892", "891", "1", ColumnsJson(r.columns),
                                                 RejectedJson(r.rejected), r.s3_bucket, r.s3_key, r.s3_etag,
                                                 std::nullopt, std::nullopt, "2023-11-14 22:13:20.123",
                                                 "2023-11-14 22:13:20.277", "154"};
  auto back = UploadFromRow(row);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, r);
  row[1] = "weird";
  EXPECT_FALSE(UploadFromRow(row));
}

TEST(CatalogRecordsTest, TableEntryRoundTrip) {
  TableEntry e;
  e.name = "plays";
  e.header = {"Song", "Number of Plays"};
  e.columns = {{"Song", "Song", "TEXT"}, {"Number of Plays", "Number of Plays", "BIGINT"}};
  e.row_count = 3;
  e.upload_id = "01J";
  e.created_at_ms = 1000;
  e.updated_at_ms = 2000;
  std::vector<std::optional<std::string>> row = {e.name, StringsJson(e.header), ColumnsJson(e.columns), "3", "01J",
                                                 SqlTimestamp(1000), SqlTimestamp(2000)};
  auto back = TableFromRow(row);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, e);
  EXPECT_EQ(TableEntryJson(e),
            "{\"name\":\"plays\",\"rows\":3,\"columns\":[{\"name\":\"Song\",\"header\":\"Song\",\"type\":\"TEXT\"},"
            "{\"name\":\"Number of Plays\",\"header\":\"Number of Plays\",\"type\":\"BIGINT\"}],"
            "\"upload_id\":\"01J\",\"created_at\":\"1970-01-01T00:00:01.000Z\","
            "\"updated_at\":\"1970-01-01T00:00:02.000Z\"}");
  EXPECT_NE(PutTableSql(e).find("ON DUPLICATE KEY UPDATE"), std::string::npos);
}

}  // namespace
}  // namespace sluice::db
