// MysqlConnection::LoadDataLocal and the multi-row INSERT path against a real
// mariadbd: rows with tabs, newlines, backslashes, NULs, control bytes,
// unicode, NULL and empty strings loaded from memory and read back byte for
// byte; a payload larger than max_allowed_packet (LOCAL INFILE streams it);
// the refusing handler back in place after the statement (a plain LOAD DATA
// LOCAL of /etc/passwd is still refused); a failed LOAD leaving the
// connection usable; warnings reported for values the server altered; INSERT
// statements cut to max_allowed_packet loading, and one over it failing.
// Every test ends with uv_loop_close() == 0 (LoopTest).
#include <errmsg.h>
#include <gtest/gtest.h>
#include <mysqld_error.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "db/table_ddl.hpp"
#include "db_test_support.hpp"
#include "ingest/load_encoder.hpp"
#include "mysql/mysql_async.hpp"

namespace sluice::dbtest {
namespace {

using glue::MysqlConnection;
using glue::QueryResult;
using ingest::Field;
using Row = std::vector<std::optional<std::string>>;

class MysqlLoadDataTest : public LoopTest {
 protected:
  void SetUp() override {
    LoopTest::SetUp();
    auto target = testing::MariadbFromEnv();
    if (!target) return;
    connection_ = std::make_unique<MysqlConnection>(&loop_);
    std::optional<core::Status> status;
    connection_->Connect(TcpParams(*target), [&](core::Status s) { status = std::move(s); });
    ASSERT_TRUE(RunUntil([&] { return status.has_value(); }));
    ASSERT_TRUE(status->ok()) << status->message();
  }

  void TearDown() override {
    if (connection_ != nullptr && connection_->open()) {
      for (const auto& table : tables_) (void)Sync(db::DropTableSql(table));
      bool closed = false;
      connection_->Close([&] { closed = true; });
      EXPECT_TRUE(RunUntil([&] { return closed; }));
    }
    connection_.reset();
    LoopTest::TearDown();
  }

  core::Result<QueryResult> Sync(std::string sql) {
    std::optional<core::Result<QueryResult>> result;
    connection_->Query(std::move(sql), [&](core::Result<QueryResult> r) { result.emplace(std::move(r)); });
    if (!RunUntil([&] { return result.has_value(); }, std::chrono::seconds(60))) {
      return core::Status::Internal("Query never completed");
    }
    return std::move(*result);
  }

  core::Result<QueryResult> LoadSync(std::string sql, std::shared_ptr<const std::string> data) {
    std::optional<core::Result<QueryResult>> result;
    connection_->LoadDataLocal(std::move(sql), std::move(data),
                               [&](core::Result<QueryResult> r) { result.emplace(std::move(r)); });
    if (!RunUntil([&] { return result.has_value(); }, std::chrono::seconds(60))) {
      return core::Status::Internal("LoadDataLocal never completed");
    }
    return std::move(*result);
  }

  /// Creates `name` (dropped first, and again in TearDown).
  void MakeTable(const std::string& name, const std::vector<db::ColumnDef>& columns) {
    tables_.push_back(name);
    ASSERT_TRUE(Sync(db::DropTableSql(name)));
    auto sql = db::CreateTableSql(name, columns);
    ASSERT_TRUE(sql) << sql.error().message();
    auto created = Sync(*sql);
    ASSERT_TRUE(created) << created.error().message();
  }

  std::unique_ptr<MysqlConnection> connection_;
  std::vector<std::string> tables_;
};

/// Values no text format likes, each a row of its own.
std::vector<std::optional<std::string>> HostileValues() {
  return {std::string("plain"),
          std::string(""),
          std::nullopt,
          std::string("tab\there"),
          std::string("line\nbreak"),
          std::string("cr\rlf\r\n"),
          std::string("back\\slash\\"),
          std::string("\\N"),
          std::string("NULL"),
          std::string("nul\0byte\0", 9),
          std::string("\\0\\t\\n"),
          std::string("\x01\x02\x1a\x7f"),
          std::string("quotes ' \" `"),
          std::string("unicode: héllo wörld ☃ 日本語 😀"),
          std::string("\t\n\\\0", 4),
          std::string(70000, 'x') + "\t\n\\",  // longer than TEXT: the column is LONGTEXT
          std::string("   spaces kept   ")};
}

TEST_F(MysqlLoadDataTest, LoadsHostileBytesFromMemory) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture connected in SetUp
  MakeTable("ld_hostile", {{"v", "LONGTEXT"}, {"w", "TEXT"}});
  auto values = HostileValues();
  ingest::EncoderOptions options;
  options.column_count = 2;
  ingest::BlockEncoder encoder(options);
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::string w = "w" + std::to_string(i);
    std::vector<Field> fields = {values[i] ? Field{*values[i]} : Field{{}, true}, Field{w}};
    encoder.Add(i + 1, fields);
  }
  ingest::EncodedBlock block = encoder.Finish();
  auto loaded = LoadSync(db::LoadDataSql("ld_hostile", std::vector<std::string>{"v", "w"}), block.data);
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(loaded->affected_rows, values.size());
  EXPECT_EQ(loaded->warnings, 0u) << loaded->info;
  EXPECT_NE(loaded->info.find("Records: " + std::to_string(values.size())), std::string::npos) << loaded->info;

  auto rows = Sync("SELECT _row, v, w FROM ld_hostile ORDER BY _row");
  ASSERT_TRUE(rows) << rows.error().message();
  ASSERT_EQ(rows->rows.size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(rows->rows[i][0], std::to_string(i + 1));
    EXPECT_EQ(rows->rows[i][1], values[i]) << "row " << i + 1;
    EXPECT_EQ(rows->rows[i][2], "w" + std::to_string(i));
  }
  // The connection is an ordinary one afterwards.
  auto one = Sync("SELECT 1");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->rows[0][0], "1");
}

TEST_F(MysqlLoadDataTest, StreamsPayloadLargerThanMaxAllowedPacket) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture connected in SetUp
  MakeTable("ld_big", {{"n", "BIGINT"}, {"s", "TEXT"}});
  auto packet = Sync("SELECT @@max_allowed_packet");
  ASSERT_TRUE(packet);
  std::size_t max_packet = std::stoull(*packet->rows[0][0]);
  ingest::EncoderOptions options;
  options.column_count = 2;
  ingest::BlockEncoder encoder(options);
  std::string filler(200, 'f');
  std::uint64_t rows = 0;
  while (true) {
    std::string n = std::to_string(rows * 7);
    std::vector<Field> fields = {Field{n}, Field{filler}};
    encoder.Add(++rows, fields);
    if (rows % 1000 == 0 && rows * 215 > max_packet + (1u << 20)) break;
  }
  ingest::EncodedBlock block = encoder.Finish();
  ASSERT_GT(block.data->size(), max_packet);
  auto loaded = LoadSync(db::LoadDataSql("ld_big", std::vector<std::string>{"n", "s"}), block.data);
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(loaded->affected_rows, rows);
  auto check = Sync("SELECT COUNT(*), SUM(n), MIN(_row), MAX(_row), SUM(LENGTH(s)) FROM ld_big");
  ASSERT_TRUE(check);
  EXPECT_EQ(check->rows[0][0], std::to_string(rows));
  EXPECT_EQ(check->rows[0][1], std::to_string(7 * (rows - 1) * rows / 2));
  EXPECT_EQ(check->rows[0][2], "1");
  EXPECT_EQ(check->rows[0][3], std::to_string(rows));
  EXPECT_EQ(check->rows[0][4], std::to_string(rows * 200));
}

TEST_F(MysqlLoadDataTest, RefusingHandlerIsBackAfterTheStatement) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture connected in SetUp
  MakeTable("ld_refuse", {{"line", "TEXT"}});
  auto data = std::make_shared<const std::string>("1\tfrom memory\n");
  auto loaded = LoadSync(db::LoadDataSql("ld_refuse", std::vector<std::string>{"line"}), data);
  ASSERT_TRUE(loaded) << loaded.error().message();
  // A LOAD DATA LOCAL through Query() asks for a real file: refused.
  auto refused = Sync(
      "LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE ld_refuse FIELDS TERMINATED BY '\\t' (_row, line)");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("refused"), std::string::npos) << refused.error().message();
  EXPECT_FALSE(connection_->broken());
  auto count = Sync("SELECT COUNT(*) FROM ld_refuse");
  ASSERT_TRUE(count) << count.error().message();
  EXPECT_EQ(count->rows[0][0], "1");
}

TEST_F(MysqlLoadDataTest, FailedLoadLeavesConnectionUsable) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture connected in SetUp
  auto data = std::make_shared<const std::string>("1\tx\n");
  auto missing = LoadSync(db::LoadDataSql("ld_no_such_table", std::vector<std::string>{"a"}), data);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().domain(), core::ErrorDomain::kDb);
  EXPECT_EQ(missing.error().code(), ER_NO_SUCH_TABLE) << missing.error().message();
  EXPECT_FALSE(connection_->broken());

  MakeTable("ld_after_fail", {{"a", "TEXT"}});
  // Duplicate keys: LOCAL implies IGNORE, so the server skips with a warning.
  auto dup = std::make_shared<const std::string>("1\tfirst\n1\tsecond\n");
  auto loaded = LoadSync(db::LoadDataSql("ld_after_fail", std::vector<std::string>{"a"}), dup);
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(loaded->affected_rows, 1u);
  EXPECT_EQ(loaded->warnings, 1u);
  EXPECT_NE(loaded->info.find("Skipped: 1"), std::string::npos) << loaded->info;
}

TEST_F(MysqlLoadDataTest, ReportsWarningsForAlteredValues) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture connected in SetUp
  MakeTable("ld_warn", {{"n", "BIGINT"}, {"d", "DECIMAL(5,2)"}});
  auto data = std::make_shared<const std::string>("1\tabc\t1.005\n2\t\\N\t1.25\n");
  auto loaded = LoadSync(db::LoadDataSql("ld_warn", std::vector<std::string>{"n", "d"}), data);
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(loaded->affected_rows, 2u);
  EXPECT_GE(loaded->warnings, 2u) << loaded->info;  // 'abc' → 0, 1.005 → 1.01 (or 1.00)
}

TEST_F(MysqlLoadDataTest, EmptyPayloadLoadsNothing) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture connected in SetUp
  MakeTable("ld_empty", {{"a", "TEXT"}});
  auto loaded = LoadSync(db::LoadDataSql("ld_empty", std::vector<std::string>{"a"}),
                         std::make_shared<const std::string>());
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(loaded->affected_rows, 0u);
}

TEST_F(MysqlLoadDataTest, MultiRowInsertsSizedToMaxAllowedPacket) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture connected in SetUp
  MakeTable("ld_insert", {{"v", "LONGTEXT"}, {"n", "BIGINT"}});
  auto packet = Sync("SELECT @@max_allowed_packet");
  ASSERT_TRUE(packet);
  std::size_t max_packet = std::stoull(*packet->rows[0][0]);

  ingest::EncoderOptions options;
  options.method = ingest::LoadMethod::kInsert;
  options.column_count = 2;
  options.insert_prefix = db::InsertPrefixSql("ld_insert", std::vector<std::string>{"v", "n"});
  options.max_statement_bytes = max_packet - 1024;
  ingest::BlockEncoder encoder(options);
  auto values = HostileValues();
  std::string filler(1000, 'i');
  std::uint64_t rows = 0;
  for (int round = 0; round < 1200; ++round) {  // ≈ 25 MB: two statements at least
    for (const auto& value : values) {
      std::string n = std::to_string(rows);
      std::vector<Field> fields = {value ? Field{*value} : Field{{}, true}, Field{n}};
      if (round % 2 == 1 && value) fields[0].value = filler;
      encoder.Add(++rows, fields);
    }
  }
  ingest::EncodedBlock block = encoder.Finish();
  ASSERT_GE(block.statements.size(), 2u);
  for (auto& statement : block.statements) {
    ASSERT_LE(statement.size(), max_packet);
    auto inserted = Sync(std::move(statement));
    ASSERT_TRUE(inserted) << inserted.error().message();
    EXPECT_EQ(inserted->warnings, 0u);
  }
  auto count = Sync("SELECT COUNT(*), COUNT(v), MAX(_row) FROM ld_insert");
  ASSERT_TRUE(count);
  EXPECT_EQ(count->rows[0][0], std::to_string(rows));
  EXPECT_EQ(count->rows[0][2], std::to_string(rows));
  // The first round's values came back exactly.
  auto first = Sync("SELECT v FROM ld_insert WHERE _row <= " + std::to_string(values.size()) + " ORDER BY _row");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->rows.size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(first->rows[i][0], values[i]) << "row " << i + 1;

  // A statement over max_allowed_packet is refused by the server.
  std::string huge = db::InsertPrefixSql("ld_insert", std::vector<std::string>{"v", "n"});
  std::vector<Field> big = {Field{std::string_view(filler)}, Field{"1"}};
  std::string too_long(max_packet + 10, 'z');
  big[0].value = too_long;
  ingest::AppendInsertRow(huge, rows + 1, big);
  auto refused = Sync(std::move(huge));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().domain(), core::ErrorDomain::kDb);
}

}  // namespace
}  // namespace sluice::dbtest
