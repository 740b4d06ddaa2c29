// MysqlConnection against a real mariadbd (SLUICE_TEST_MARIADB_*): connecting
// over TCP, over the unix socket and through name resolution; rows with NULLs
// and binary values; counts of DML; errors as kDb statuses; a closed port, a
// silent server and an unknown host failing fast; a connection killed
// mid-query; destruction mid-query; the rules (no callback inside the call,
// no destruction inside the own callback chain). Every test runs a real
// uv_loop_t and ends with uv_loop_close() == 0 (LoopTest).
#include <errmsg.h>
#include <gtest/gtest.h>
#include <mysqld_error.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "db_test_support.hpp"
#include "mysql/mysql_async.hpp"

namespace sluice::dbtest {
namespace {

using glue::IsConnectionLost;
using glue::MysqlConnection;
using glue::QueryResult;
using std::chrono::milliseconds;
using Row = std::vector<std::optional<std::string>>;

class MysqlConnectionTest : public LoopTest {
 protected:
  core::Status ConnectSync(MysqlConnection& connection, const MysqlConnection::ConnectParams& params) {
    std::optional<core::Status> status;
    connection.Connect(params, [&](core::Status s) { status = std::move(s); });
    if (!RunUntil([&] { return status.has_value(); })) return core::Status::Internal("Connect never completed");
    return *status;
  }

  core::Result<QueryResult> QuerySync(MysqlConnection& connection, std::string sql) {
    std::optional<core::Result<QueryResult>> result;
    connection.Query(std::move(sql), [&](core::Result<QueryResult> r) { result.emplace(std::move(r)); });
    if (!RunUntil([&] { return result.has_value(); })) return core::Status::Internal("Query never completed");
    return std::move(*result);
  }

  /// The single value of a one-row, one-column query ("" on any failure).
  std::string Scalar(MysqlConnection& connection, std::string sql) {
    auto result = QuerySync(connection, std::move(sql));
    if (!result) {
      ADD_FAILURE() << result.error().message();
      return {};
    }
    if (result->rows.size() != 1 || result->rows[0].size() != 1 || !result->rows[0][0]) {
      ADD_FAILURE() << "not a single non-NULL value";
      return {};
    }
    return *result->rows[0][0];
  }

  void CloseSync(MysqlConnection& connection) {
    bool closed = false;
    connection.Close([&] { closed = true; });
    EXPECT_TRUE(RunUntil([&] { return closed; }));
  }
};

TEST_F(MysqlConnectionTest, ConnectsOverTcpInUtf8mb4) {
  SLUICE_REQUIRE_MARIADB(db);
  MysqlConnection connection(&loop_);
  core::Status status = ConnectSync(connection, TcpParams(db));
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_TRUE(connection.open());
  EXPECT_FALSE(connection.broken());
  EXPECT_GT(connection.thread_id(), 0u);
  EXPECT_NE(connection.server_version(), "");

  auto result = QuerySync(connection,
                          "SELECT @@character_set_client, @@character_set_results, DATABASE(), "
                          "(SELECT HOST FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID())");
  ASSERT_TRUE(result) << result.error().message();
  ASSERT_EQ(result->rows.size(), 1u);
  EXPECT_EQ(result->rows[0][0], "utf8mb4");
  EXPECT_EQ(result->rows[0][1], "utf8mb4");
  EXPECT_EQ(result->rows[0][2], db.database);
  ASSERT_TRUE(result->rows[0][3]);
  EXPECT_EQ(result->rows[0][3]->rfind("127.0.0.1:", 0), 0u) << *result->rows[0][3];  // TCP, not the socket

  CloseSync(connection);
  EXPECT_FALSE(connection.open());
}

TEST_F(MysqlConnectionTest, ConnectsOverUnixSocket) {
  SLUICE_REQUIRE_MARIADB(db);
  if (db.socket.empty()) GTEST_SKIP() << "SLUICE_TEST_MARIADB_SOCKET unset";
  MysqlConnection connection(&loop_);
  core::Status status = ConnectSync(connection, SocketParams(db));
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(Scalar(connection, "SELECT HOST FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()"),
            "localhost");
  CloseSync(connection);
}

TEST_F(MysqlConnectionTest, ResolvesHostNamesWithoutBlocking) {
  SLUICE_REQUIRE_MARIADB(db);
  if (db.host != "127.0.0.1") GTEST_SKIP() << "needs the server on 127.0.0.1";
  auto params = TcpParams(db);
  params.host = "localhost";  // resolved by uv_getaddrinfo; ::1 (if first) is refused, 127.0.0.1 answers
  MysqlConnection connection(&loop_);
  core::Status status = ConnectSync(connection, params);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(Scalar(connection, "SELECT 1"), "1");
}

TEST_F(MysqlConnectionTest, UnknownHostFailsFast) {
  SLUICE_REQUIRE_MARIADB(db);
  auto params = TcpParams(db);
  params.host = "no-such-host.invalid";
  params.connect_timeout = std::chrono::seconds(2);
  MysqlConnection connection(&loop_);
  auto start = std::chrono::steady_clock::now();
  core::Status status = ConnectSync(connection, params);
  EXPECT_LT(MillisSince(start), 3000);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.domain(), core::ErrorDomain::kDb);
  // Unknown host, or the deadline when the resolver itself hangs.
  EXPECT_TRUE(status.code() == CR_UNKNOWN_HOST || status.code() == CR_CONN_HOST_ERROR) << status.message();
  EXPECT_TRUE(connection.broken());
}

TEST_F(MysqlConnectionTest, ReturnsRowsWithNullsAndBinaryValues) {
  SLUICE_REQUIRE_MARIADB(db);
  MysqlConnection connection(&loop_);
  ASSERT_TRUE(ConnectSync(connection, TcpParams(db)).ok());

  auto result = QuerySync(connection,
                          "SELECT 1 AS id, NULL AS missing, 'x' AS txt "
                          "UNION ALL SELECT 2, 'y', NULL "
                          "UNION ALL SELECT 3, '', X'610062'");
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_TRUE(result->has_result_set);
  EXPECT_EQ(result->columns, (std::vector<std::string>{"id", "missing", "txt"}));
  ASSERT_EQ(result->rows.size(), 3u);
  EXPECT_EQ(result->rows[0], (Row{"1", std::nullopt, "x"}));
  EXPECT_EQ(result->rows[1], (Row{"2", "y", std::nullopt}));
  EXPECT_EQ(result->rows[2], (Row{"3", "", std::string("a\0b", 3)}));  // '' is not NULL; bytes kept
  EXPECT_EQ(result->affected_rows, 3u);

  EXPECT_EQ(Scalar(connection, "SELECT 'Grüße ✓ 😀'"), "Grüße ✓ 😀");  // utf8mb4 both ways

  auto empty = QuerySync(connection, "SELECT 1 AS one FROM DUAL WHERE 1 = 0");
  ASSERT_TRUE(empty) << empty.error().message();
  EXPECT_TRUE(empty->has_result_set);
  EXPECT_EQ(empty->columns, (std::vector<std::string>{"one"}));
  EXPECT_TRUE(empty->rows.empty());
}

TEST_F(MysqlConnectionTest, ReportsAffectedRowsAndInsertId) {
  SLUICE_REQUIRE_MARIADB(db);
  MysqlConnection connection(&loop_);
  ASSERT_TRUE(ConnectSync(connection, TcpParams(db)).ok());

  auto created = QuerySync(connection,
                           "CREATE TEMPORARY TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10))");
  ASSERT_TRUE(created) << created.error().message();
  EXPECT_FALSE(created->has_result_set);

  auto inserted = QuerySync(connection, "INSERT INTO t (v) VALUES ('a'), ('b'), ('c')");
  ASSERT_TRUE(inserted) << inserted.error().message();
  EXPECT_FALSE(inserted->has_result_set);
  EXPECT_EQ(inserted->affected_rows, 3u);
  EXPECT_EQ(inserted->insert_id, 1u);

  auto updated = QuerySync(connection, "UPDATE t SET v = 'z' WHERE id >= 2");
  ASSERT_TRUE(updated) << updated.error().message();
  EXPECT_EQ(updated->affected_rows, 2u);
  EXPECT_EQ(Scalar(connection, "SELECT GROUP_CONCAT(v ORDER BY id) FROM t"), "a,z,z");
}

TEST_F(MysqlConnectionTest, SyntaxErrorIsKdb1064AndTheConnectionStaysUsable) {
  SLUICE_REQUIRE_MARIADB(db);
  MysqlConnection connection(&loop_);
  ASSERT_TRUE(ConnectSync(connection, TcpParams(db)).ok());

  auto result = QuerySync(connection, "SELEC 1");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().domain(), core::ErrorDomain::kDb);
  EXPECT_EQ(result.error().code(), ER_PARSE_ERROR);  // 1064
  EXPECT_EQ(result.error().message().rfind("42000 ", 0), 0u) << result.error().message();
  EXPECT_NE(result.error().message().find("SQL syntax"), std::string::npos) << result.error().message();
  EXPECT_FALSE(IsConnectionLost(result.error()));
  EXPECT_FALSE(connection.broken());

  auto missing = QuerySync(connection, "SELECT * FROM no_such_table_here");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ER_NO_SUCH_TABLE);  // 1146
  EXPECT_EQ(missing.error().message().rfind("42S02 ", 0), 0u) << missing.error().message();

  EXPECT_EQ(Scalar(connection, "SELECT 41 + 1"), "42");
}

TEST_F(MysqlConnectionTest, ReadsEveryResultSetOfACallAndStaysInSync) {
  SLUICE_REQUIRE_MARIADB(db);
  MysqlConnection connection(&loop_);
  ASSERT_TRUE(ConnectSync(connection, TcpParams(db)).ok());
  auto created = QuerySync(connection,
                           "CREATE OR REPLACE PROCEDURE sluice_two_results() "
                           "BEGIN SELECT 1 AS a; SELECT 2 AS b, 3 AS c; END");
  ASSERT_TRUE(created) << created.error().message();

  auto called = QuerySync(connection, "CALL sluice_two_results()");
  ASSERT_TRUE(called) << called.error().message();
  EXPECT_EQ(called->columns, (std::vector<std::string>{"a"}));  // the first result set
  EXPECT_EQ(called->rows, (std::vector<Row>{{"1"}}));
  EXPECT_EQ(Scalar(connection, "SELECT 'in sync'"), "in sync");  // the others were drained

  ASSERT_TRUE(QuerySync(connection, "DROP PROCEDURE sluice_two_results"));
}

TEST_F(MysqlConnectionTest, MovesLargeResultsAndStatementsThroughTheLoop) {
  SLUICE_REQUIRE_MARIADB(db);
  MysqlConnection connection(&loop_);
  ASSERT_TRUE(ConnectSync(connection, TcpParams(db)).ok());

  // Many reads that must wait for the socket (MYSQL_WAIT_READ).
  auto rows = QuerySync(connection, "SELECT seq, REPEAT('r', 40) FROM seq_1_to_200000");
  ASSERT_TRUE(rows) << rows.error().message();
  ASSERT_EQ(rows->rows.size(), 200000u);
  EXPECT_EQ(rows->rows.back()[0], "200000");

  // One statement larger than the socket buffers (MYSQL_WAIT_WRITE).
  std::string big(8u << 20, 'x');
  EXPECT_EQ(Scalar(connection, "SELECT LENGTH('" + big + "')"), std::to_string(big.size()));
}

TEST_F(MysqlConnectionTest, CallbacksNeverRunInsideTheCall) {
  SLUICE_REQUIRE_MARIADB(db);
  MysqlConnection connection(&loop_);
  bool called = false;
  std::optional<core::Status> error;
  connection.Query("SELECT 1", [&](core::Result<QueryResult> result) {
    called = true;
    if (!result) error = result.error();
  });
  EXPECT_FALSE(called);  // not connected: fails, but on a later loop turn
  ASSERT_TRUE(RunUntil([&] { return called; }));
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), CR_SERVER_GONE_ERROR);
  EXPECT_TRUE(IsConnectionLost(*error));

  MysqlConnection broken(&loop_);
  bool connected = false;
  auto params = SocketParams(db);
  params.socket = "/nonexistent/mysqld.sock";  // fails synchronously inside the connector
  broken.Connect(params, [&](core::Status) { connected = true; });
  EXPECT_FALSE(connected);
  ASSERT_TRUE(RunUntil([&] { return connected; }));
}

TEST_F(MysqlConnectionTest, ClosedPortFailsFast) {
  SLUICE_REQUIRE_MARIADB(db);
  auto params = TcpParams(db);
  params.host = "127.0.0.1";
  params.port = ClosedPort();
  MysqlConnection connection(&loop_);
  auto start = std::chrono::steady_clock::now();
  core::Status status = ConnectSync(connection, params);
  EXPECT_LT(MillisSince(start), 2000);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.domain(), core::ErrorDomain::kDb);
  EXPECT_TRUE(status.code() == CR_CONNECTION_ERROR || status.code() == CR_CONN_HOST_ERROR) << status.message();
  EXPECT_TRUE(connection.broken());
  EXPECT_FALSE(connection.open());
  CloseSync(connection);  // fine on a failed connection
}

TEST_F(MysqlConnectionTest, SilentServerHitsTheConnectTimeout) {
  SLUICE_REQUIRE_MARIADB(db);
  SilentListener silent;
  auto params = TcpParams(db);
  params.host = "127.0.0.1";
  params.port = silent.port();
  params.connect_timeout = milliseconds(300);
  MysqlConnection connection(&loop_);
  auto start = std::chrono::steady_clock::now();
  core::Status status = ConnectSync(connection, params);
  auto elapsed = MillisSince(start);
  EXPECT_GE(elapsed, 250);
  EXPECT_LT(elapsed, 2000);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), CR_CONN_HOST_ERROR) << status.message();
  EXPECT_NE(status.message().find("timed out after 300 ms"), std::string::npos) << status.message();
}

TEST_F(MysqlConnectionTest, KilledMidQueryIsReportedAsLostConnection) {
  SLUICE_REQUIRE_MARIADB(db);
  MysqlConnection victim(&loop_);
  MysqlConnection killer(&loop_);
  ASSERT_TRUE(ConnectSync(victim, TcpParams(db)).ok());
  ASSERT_TRUE(ConnectSync(killer, TcpParams(db)).ok());
  std::string id = std::to_string(victim.thread_id());

  std::optional<core::Result<QueryResult>> outcome;
  auto start = std::chrono::steady_clock::now();
  victim.Query("SELECT SLEEP(30)", [&](core::Result<QueryResult> r) { outcome.emplace(std::move(r)); });
  // Wait until the server is executing it, then kill the connection.
  ASSERT_TRUE(RunUntil([&] {
    return Scalar(killer, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = " + id +
                              " AND INFO LIKE 'SELECT SLEEP%'") == "1";
  }));
  ASSERT_TRUE(QuerySync(killer, "KILL CONNECTION " + id));
  ASSERT_TRUE(RunUntil([&] { return outcome.has_value(); }));
  EXPECT_LT(MillisSince(start), 10000);

  ASSERT_FALSE(*outcome);
  const core::Status& error = outcome->error();
  EXPECT_EQ(error.domain(), core::ErrorDomain::kDb);
  EXPECT_TRUE(IsConnectionLost(error)) << error.code() << " " << error.message();
  EXPECT_TRUE(victim.broken());

  auto after = QuerySync(victim, "SELECT 1");  // the connection is done
  ASSERT_FALSE(after);
  EXPECT_TRUE(IsConnectionLost(after.error())) << after.error().message();
  EXPECT_FALSE(killer.broken());
  CloseSync(victim);
  CloseSync(killer);
}

TEST_F(MysqlConnectionTest, DestroyingMidQueryCancelsWithoutCallingBack) {
  SLUICE_REQUIRE_MARIADB(db);
  MysqlConnection observer(&loop_);
  ASSERT_TRUE(ConnectSync(observer, TcpParams(db)).ok());
  auto connection = std::make_unique<MysqlConnection>(&loop_);
  ASSERT_TRUE(ConnectSync(*connection, TcpParams(db)).ok());
  std::string id = std::to_string(connection->thread_id());

  bool called = false;
  connection->Query("SELECT SLEEP(2)", [&](core::Result<QueryResult>) { called = true; });
  RunFor(milliseconds(100));
  connection.reset();  // outside its callback chain: the fallback path
  EXPECT_FALSE(called);

  // The server sees the connection go away.
  ASSERT_TRUE(RunUntil([&] {
    return Scalar(observer, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = " + id) == "0";
  }));
  EXPECT_FALSE(called);
}

TEST_F(MysqlConnectionTest, DestroyingAnOpenIdleConnectionSaysGoodbye) {
  SLUICE_REQUIRE_MARIADB(db);
  MysqlConnection observer(&loop_);
  ASSERT_TRUE(ConnectSync(observer, TcpParams(db)).ok());
  std::string id;
  {
    MysqlConnection connection(&loop_);
    ASSERT_TRUE(ConnectSync(connection, TcpParams(db)).ok());
    id = std::to_string(connection.thread_id());
  }
  ASSERT_TRUE(RunUntil([&] {
    return Scalar(observer, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = " + id) == "0";
  }));
}

TEST_F(MysqlConnectionTest, LocalInfileIsRefusedUnlessAHandlerIsInstalled) {
  SLUICE_REQUIRE_MARIADB(db);
  MysqlConnection connection(&loop_);
  ASSERT_TRUE(ConnectSync(connection, TcpParams(db)).ok());
  ASSERT_TRUE(QuerySync(connection, "CREATE TEMPORARY TABLE li (v TEXT)"));
  auto loaded = QuerySync(connection, "LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE li");
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message().find("refused"), std::string::npos) << loaded.error().message();
  EXPECT_FALSE(connection.broken());
  EXPECT_EQ(Scalar(connection, "SELECT COUNT(*) FROM li"), "0");
}

TEST_F(MysqlConnectionTest, DestroyingInsideItsOwnCallbackAborts) {
  SLUICE_REQUIRE_MARIADB(db);
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto connection = std::make_unique<MysqlConnection>(&loop_);
        connection->Connect(TcpParams(db), [&](core::Status) { connection.reset(); });
        RunUntil([] { return false; }, std::chrono::seconds(5));
      },
      "inside its own callback chain");
}

}  // namespace
}  // namespace sluice::dbtest
