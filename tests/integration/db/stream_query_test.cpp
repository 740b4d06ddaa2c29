// MysqlConnection::StreamQuery against a real mariadbd: 200k rows arrive in
// order with their field types (OnStall between bursts); a sink that pauses gets no row until it
// resumes (and the rows all arrive); NULLs and binary cells; a statement with
// no result set; an SQL error (the connection stays usable); a statement
// killed by max_statement_time before and after the first rows (503 material:
// IsStatementTimeout); abandoning a stream while paused and from inside OnRow
// (the connection is broken, nothing leaks, nothing blocks); destroying a
// connection with a paused stream. Every test ends with uv_loop_close() == 0.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "db_test_support.hpp"
#include "mysql/mysql_async.hpp"

namespace sluice::dbtest {
namespace {

using glue::FieldInfo;
using glue::MysqlConnection;
using glue::RowSink;
using std::chrono::milliseconds;
using Row = std::vector<std::optional<std::string>>;

/// Collects everything; can pause every N rows and abandon at row K.
class CollectingSink : public RowSink {
 public:
  void OnFields(const std::vector<FieldInfo>& received) override {
    EXPECT_FALSE(fields_called) << "OnFields twice";
    fields_called = true;
    fields = received;
  }
  bool OnRow(const char* const* cells, const unsigned long* lengths) override {
    EXPECT_TRUE(fields_called);
    EXPECT_FALSE(paused) << "a row arrived while paused";
    Row row;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (cells[i] == nullptr) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::in_place, cells[i], lengths[i]);
      }
    }
    rows.push_back(std::move(row));
    if (abandon_at != 0 && rows.size() == abandon_at) {
      connection->AbandonStream();
      return true;  // ignored: abandoned
    }
    if (pause_every != 0 && rows.size() % pause_every == 0) {
      paused = true;
      ++pauses;
      return false;
    }
    return true;
  }
  bool OnStall() override {
    ++stalls;
    return true;
  }
  void OnEnd(core::Status s) override {
    EXPECT_FALSE(status.has_value()) << "OnEnd twice";
    status = std::move(s);
  }

  MysqlConnection* connection = nullptr;
  std::vector<FieldInfo> fields;
  bool fields_called = false;
  std::vector<Row> rows;
  std::optional<core::Status> status;
  std::size_t pause_every = 0;
  std::size_t abandon_at = 0;
  bool paused = false;
  int pauses = 0;
  int stalls = 0;
};

class StreamQueryTest : public LoopTest {
 protected:
  void Connect(MysqlConnection& connection, const MariadbTarget& db) {
    std::optional<core::Status> status;
    connection.Connect(TcpParams(db), [&](core::Status s) { status = std::move(s); });
    ASSERT_TRUE(RunUntil([&] { return status.has_value(); }));
    ASSERT_TRUE(status->ok()) << status->message();
  }

  std::string Scalar(MysqlConnection& connection, std::string sql) {
    std::optional<core::Result<glue::QueryResult>> result;
    connection.Query(std::move(sql), [&](core::Result<glue::QueryResult> r) { result.emplace(std::move(r)); });
    if (!RunUntil([&] { return result.has_value(); })) return "(no answer)";
    if (!*result) return "error: " + result->error().message();
    if ((*result)->rows.empty() || !(*result)->rows[0][0]) return "(null)";
    return *(*result)->rows[0][0];
  }

  void Close(MysqlConnection& connection) {
    bool closed = false;
    connection.Close([&] { closed = true; });
    EXPECT_TRUE(RunUntil([&] { return closed; }));
  }
};

TEST_F(StreamQueryTest, StreamsManyRowsInOrderWithFieldTypes) {
  SLUICE_REQUIRE_MARIADB(db);
  MysqlConnection connection(&loop_);
  Connect(connection, db);
  CollectingSink sink;
  sink.connection = &connection;
  connection.StreamQuery("SELECT seq, CONCAT('row ', seq) AS name, seq / 4 AS quarter, seq * 1e0 AS d, "
                         "DATE('2020-01-01') AS day FROM seq_1_to_200000",
                         &sink);
  EXPECT_FALSE(sink.fields_called) << "called inside StreamQuery()";
  EXPECT_TRUE(connection.busy());
  ASSERT_TRUE(RunUntil([&] { return sink.status.has_value(); }, std::chrono::seconds(60)));
  ASSERT_TRUE(sink.status->ok()) << sink.status->message();
  ASSERT_EQ(sink.fields.size(), 5u);
  EXPECT_EQ(sink.fields[0].name, "seq");
  EXPECT_TRUE(sink.fields[0].numeric);
  EXPECT_FALSE(sink.fields[1].numeric);
  EXPECT_TRUE(sink.fields[2].numeric);  // DECIMAL
  EXPECT_TRUE(sink.fields[3].numeric);  // DOUBLE
  EXPECT_FALSE(sink.fields[4].numeric);
  ASSERT_EQ(sink.rows.size(), 200000u);
  for (std::size_t i = 0; i < sink.rows.size(); ++i) {
    ASSERT_EQ(*sink.rows[i][0], std::to_string(i + 1)) << i;
  }
  EXPECT_EQ(*sink.rows[41][1], "row 42");
  EXPECT_EQ(*sink.rows[1][2], "0.5000");
  EXPECT_FALSE(connection.busy());
  EXPECT_FALSE(connection.broken());
  EXPECT_EQ(Scalar(connection, "SELECT 7"), "7");  // in sync afterwards
  Close(connection);
}

TEST_F(StreamQueryTest, APausedStreamGetsNoRowsUntilResumed) {
  SLUICE_REQUIRE_MARIADB(db);
  MysqlConnection connection(&loop_);
  Connect(connection, db);
  CollectingSink sink;
  sink.connection = &connection;
  sink.pause_every = 5000;
  connection.StreamQuery("SELECT seq, REPEAT('x', 100) FROM seq_1_to_50000", &sink);
  while (!sink.status.has_value()) {
    ASSERT_TRUE(RunUntil([&] { return sink.paused || sink.status.has_value(); }, std::chrono::seconds(30)));
    if (sink.status.has_value()) break;
    std::size_t at_pause = sink.rows.size();
    EXPECT_TRUE(connection.stream_paused());
    EXPECT_TRUE(connection.busy());
    RunFor(milliseconds(30));  // the server waits; nothing reaches the sink
    EXPECT_EQ(sink.rows.size(), at_pause);
    sink.paused = false;
    connection.ResumeStream();
    EXPECT_EQ(sink.rows.size(), at_pause) << "a row inside ResumeStream()";
  }
  ASSERT_TRUE(sink.status->ok()) << sink.status->message();
  EXPECT_EQ(sink.rows.size(), 50000u);
  EXPECT_EQ(sink.pauses, 10);
  EXPECT_EQ(*sink.rows.back()[0], "50000");
  EXPECT_EQ(Scalar(connection, "SELECT 8"), "8");
  Close(connection);
}

TEST_F(StreamQueryTest, OnStallComesWhileTheNextRowsAreOnTheirWay) {
  SLUICE_REQUIRE_MARIADB(db);
  MysqlConnection connection(&loop_);
  Connect(connection, db);
  CollectingSink sink;
  // Rows bigger than the server's network buffer go out one by one, 20 ms apart.
  connection.StreamQuery("SELECT seq, REPEAT('x', 40000), SLEEP(0.02) FROM seq_1_to_6", &sink);
  ASSERT_TRUE(RunUntil([&] { return sink.status.has_value(); }));
  ASSERT_TRUE(sink.status->ok()) << sink.status->message();
  EXPECT_EQ(sink.rows.size(), 6u);
  EXPECT_GE(sink.stalls, 3);
  EXPECT_LE(sink.stalls, 6);  // never twice without a row between
  Close(connection);
}

TEST_F(StreamQueryTest, NullsBinaryCellsAndStatementsWithoutRows) {
  SLUICE_REQUIRE_MARIADB(db);
  MysqlConnection connection(&loop_);
  Connect(connection, db);
  CollectingSink sink;
  connection.StreamQuery("SELECT NULL AS a, X'00FF0A27' AS b, '' AS c", &sink);
  ASSERT_TRUE(RunUntil([&] { return sink.status.has_value(); }));
  ASSERT_TRUE(sink.status->ok());
  ASSERT_EQ(sink.rows.size(), 1u);
  EXPECT_FALSE(sink.rows[0][0].has_value());
  EXPECT_EQ(*sink.rows[0][1], std::string("\0\xff\n'", 4));
  EXPECT_EQ(*sink.rows[0][2], "");

  CollectingSink none;
  connection.StreamQuery("DO 1", &none);
  ASSERT_TRUE(RunUntil([&] { return none.status.has_value(); }));
  EXPECT_TRUE(none.status->ok());
  EXPECT_TRUE(none.fields_called);
  EXPECT_TRUE(none.fields.empty());
  EXPECT_TRUE(none.rows.empty());

  CollectingSink empty;
  connection.StreamQuery("SELECT seq FROM seq_1_to_10 WHERE seq > 10", &empty);
  ASSERT_TRUE(RunUntil([&] { return empty.status.has_value(); }));
  EXPECT_TRUE(empty.status->ok());
  EXPECT_EQ(empty.fields.size(), 1u);
  EXPECT_TRUE(empty.rows.empty());
  Close(connection);
}

TEST_F(StreamQueryTest, AnSqlErrorEndsTheStreamAndTheConnectionStaysUsable) {
  SLUICE_REQUIRE_MARIADB(db);
  MysqlConnection connection(&loop_);
  Connect(connection, db);
  CollectingSink sink;
  connection.StreamQuery("SELECT * FROM no_such_table_here", &sink);
  ASSERT_TRUE(RunUntil([&] { return sink.status.has_value(); }));
  EXPECT_FALSE(sink.status->ok());
  EXPECT_EQ(sink.status->code(), 1146);
  EXPECT_FALSE(sink.fields_called);
  EXPECT_FALSE(connection.broken());
  EXPECT_EQ(Scalar(connection, "SELECT 9"), "9");
  Close(connection);
}

TEST_F(StreamQueryTest, MaxStatementTimeEndsASlowStatement) {
  SLUICE_REQUIRE_MARIADB(db);
  MysqlConnection connection(&loop_);
  Connect(connection, db);
  // Before any row: the sort needs every row first.
  CollectingSink sorted;
  auto start = std::chrono::steady_clock::now();
  connection.StreamQuery("SELECT seq, SLEEP(0.01) FROM seq_1_to_1000 ORDER BY 2, seq DESC", &sorted,
                         {milliseconds(300)});
  ASSERT_TRUE(RunUntil([&] { return sorted.status.has_value(); }, std::chrono::seconds(20)));
  EXPECT_LT(MillisSince(start), 5000);
  ASSERT_FALSE(sorted.status->ok());
  EXPECT_TRUE(glue::IsStatementTimeout(*sorted.status)) << sorted.status->message();
  EXPECT_TRUE(sorted.rows.empty());
  EXPECT_EQ(Scalar(connection, "SELECT 10"), "10");

  // After some rows: the error takes the place of the next row.
  CollectingSink streaming;
  connection.StreamQuery("SELECT seq, SLEEP(0.01) FROM seq_1_to_1000", &streaming, {milliseconds(300)});
  ASSERT_TRUE(RunUntil([&] { return streaming.status.has_value(); }, std::chrono::seconds(20)));
  ASSERT_FALSE(streaming.status->ok());
  EXPECT_TRUE(glue::IsStatementTimeout(*streaming.status)) << streaming.status->message();
  EXPECT_GT(streaming.rows.size(), 0u);
  EXPECT_LT(streaming.rows.size(), 1000u);
  EXPECT_EQ(Scalar(connection, "SELECT 11"), "11");
  Close(connection);

  EXPECT_EQ(glue::WithStatementTimeLimit("SELECT 1", milliseconds(30000)),
            "SET STATEMENT max_statement_time=30.000 FOR SELECT 1");
  EXPECT_EQ(glue::WithStatementTimeLimit("SELECT 1", milliseconds(1500)),
            "SET STATEMENT max_statement_time=1.500 FOR SELECT 1");
  EXPECT_EQ(glue::WithStatementTimeLimit("SELECT 1", milliseconds(0)), "SELECT 1");
}

TEST_F(StreamQueryTest, AbandoningWhilePausedBreaksTheConnectionWithoutReadingTheRest) {
  SLUICE_REQUIRE_MARIADB(db);
  MysqlConnection connection(&loop_);
  Connect(connection, db);
  CollectingSink sink;
  sink.pause_every = 1000;
  // Far more than fits in socket buffers: reading the rest would take a while.
  connection.StreamQuery("SELECT seq, REPEAT('y', 1000) FROM seq_1_to_2000000", &sink);
  ASSERT_TRUE(RunUntil([&] { return sink.paused; }));
  auto start = std::chrono::steady_clock::now();
  connection.AbandonStream();
  EXPECT_LT(MillisSince(start), 1000);
  EXPECT_TRUE(connection.broken());
  EXPECT_FALSE(connection.busy());
  RunFor(milliseconds(50));
  EXPECT_FALSE(sink.status.has_value()) << "OnEnd after AbandonStream";
  EXPECT_EQ(sink.rows.size(), 1000u);
  Close(connection);
}

TEST_F(StreamQueryTest, AbandoningInsideOnRow) {
  SLUICE_REQUIRE_MARIADB(db);
  MysqlConnection connection(&loop_);
  Connect(connection, db);
  CollectingSink sink;
  sink.connection = &connection;
  sink.abandon_at = 10;
  connection.StreamQuery("SELECT seq FROM seq_1_to_1000000", &sink);
  ASSERT_TRUE(RunUntil([&] { return connection.broken(); }));
  RunFor(milliseconds(50));
  EXPECT_EQ(sink.rows.size(), 10u);
  EXPECT_FALSE(sink.status.has_value());
  EXPECT_FALSE(connection.busy());
  Close(connection);
}

TEST_F(StreamQueryTest, DestroyingAConnectionWithAPausedStream) {
  SLUICE_REQUIRE_MARIADB(db);
  CollectingSink sink;
  sink.pause_every = 100;
  auto connection = std::make_unique<MysqlConnection>(&loop_);
  Connect(*connection, db);
  connection->StreamQuery("SELECT seq, REPEAT('z', 1000) FROM seq_1_to_2000000", &sink);
  ASSERT_TRUE(RunUntil([&] { return sink.paused; }));
  auto start = std::chrono::steady_clock::now();
  connection.reset();  // the fallback teardown must not read the rest
  EXPECT_LT(MillisSince(start), 1000);
  RunFor(milliseconds(20));
  EXPECT_EQ(sink.rows.size(), 100u);
  EXPECT_FALSE(sink.status.has_value());
}

}  // namespace
}  // namespace sluice::dbtest
