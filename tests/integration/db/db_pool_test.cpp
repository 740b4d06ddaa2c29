// DbPool against a real mariadbd: 20 queries over 4 connections with waiters,
// Ping, Shutdown with waiters and a lease out, a closed port failing every
// waiter fast, a connection KILLed mid-query and one killed while idle being
// replaced, and a throw-away mariadbd (started by the test) SIGKILLed
// mid-query, refused while down, and reconnected after it comes back. The
// pool's counters (connects, connect errors, drops, failed statements) follow.
#include <errmsg.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "db/db_pool.hpp"
#include "db_test_support.hpp"
#include "mysql/mysql_async.hpp"

namespace sluice::dbtest {
namespace {

using db::DbPool;
using db::Lease;
using glue::IsConnectionLost;
using glue::QueryResult;
using std::chrono::milliseconds;

class DbPoolTest : public LoopTest {
 protected:
  core::Result<QueryResult> QuerySync(DbPool& pool, std::string sql) {
    std::optional<core::Result<QueryResult>> result;
    pool.Query(std::move(sql), [&](core::Result<QueryResult> r) { result.emplace(std::move(r)); });
    if (!RunUntil([&] { return result.has_value(); })) return core::Status::Internal("Query never completed");
    return std::move(*result);
  }

  std::string Scalar(DbPool& pool, std::string sql) {
    auto result = QuerySync(pool, std::move(sql));
    if (!result || result->rows.size() != 1 || result->rows[0].empty() || !result->rows[0][0]) {
      ADD_FAILURE() << "no single value: " << (result ? std::string("shape") : result.error().message());
      return {};
    }
    return *result->rows[0][0];
  }

  core::Result<Lease> AcquireSync(DbPool& pool) {
    std::optional<core::Result<Lease>> lease;
    pool.Acquire([&](core::Result<Lease> l) { lease.emplace(std::move(l)); });
    if (!RunUntil([&] { return lease.has_value(); })) return core::Status::Internal("Acquire never completed");
    return std::move(*lease);
  }

  core::Status PingSync(DbPool& pool) {
    std::optional<core::Status> status;
    pool.Ping([&](core::Status s) { status = std::move(s); });
    if (!RunUntil([&] { return status.has_value(); })) return core::Status::Internal("Ping never completed");
    return *status;
  }

  void ShutdownSync(DbPool& pool) {
    bool done = false;
    pool.Shutdown([&] { done = true; });
    EXPECT_TRUE(RunUntil([&] { return done; }));
    auto stats = pool.stats();
    EXPECT_EQ(stats.in_use + stats.idle + stats.connecting + stats.waiting, 0u);
  }
};

TEST_F(DbPoolTest, TwentyQueriesShareFourConnections) {
  SLUICE_REQUIRE_MARIADB(db);
  DbPool pool(&loop_, PoolConfig(db, 4));
  EXPECT_EQ(pool.stats().idle + pool.stats().connecting, 0u);  // lazy: nothing opened yet

  constexpr int kQueries = 20;
  int done = 0;
  int failed = 0;
  size_t max_in_use = 0;
  std::set<std::string> connection_ids;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kQueries; ++i) {
    pool.Acquire([&](core::Result<Lease> lease) {
      if (!lease) {
        ADD_FAILURE() << lease.error().message();
        ++failed;
        ++done;
        return;
      }
      max_in_use = std::max(max_in_use, pool.stats().in_use);
      auto holder = std::make_shared<Lease>(std::move(lease).value());
      (*holder)->Query("SELECT CONNECTION_ID(), SLEEP(0.1)", [&, holder](core::Result<QueryResult> result) {
        if (result) {
          connection_ids.insert(*result->rows.at(0).at(0));
        } else {
          ADD_FAILURE() << result.error().message();
          ++failed;
        }
        ++done;
      });
    });
  }
  EXPECT_EQ(pool.stats().waiting, static_cast<size_t>(kQueries));  // nothing is served inside Acquire
  ASSERT_TRUE(RunUntil([&] { return done == kQueries; }, std::chrono::seconds(30)));
  auto elapsed = MillisSince(start);

  EXPECT_EQ(failed, 0);
  EXPECT_EQ(max_in_use, 4u);
  EXPECT_EQ(connection_ids.size(), 4u);
  EXPECT_LT(elapsed, 1800) << "20 x 100 ms over 4 connections should take about 500 ms";
  auto stats = pool.stats();
  EXPECT_EQ(stats.in_use, 0u);
  EXPECT_EQ(stats.idle, 4u);
  EXPECT_EQ(stats.waiting, 0u);
  ShutdownSync(pool);
}

TEST_F(DbPoolTest, PingAnswersAndShutdownRefusesLaterWork) {
  SLUICE_REQUIRE_MARIADB(db);
  DbPool pool(&loop_, PoolConfig(db, 2));
  core::Status ping = PingSync(pool);
  EXPECT_TRUE(ping.ok()) << ping.message();
  EXPECT_EQ(pool.stats().idle, 1u);
  ShutdownSync(pool);

  auto late = AcquireSync(pool);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().domain(), core::ErrorDomain::kDb);
  EXPECT_NE(late.error().message().find("shutting down"), std::string::npos);
  EXPECT_FALSE(PingSync(pool).ok());
}

TEST_F(DbPoolTest, ShutdownFailsWaitersAndWaitsForLeases) {
  SLUICE_REQUIRE_MARIADB(db);
  DbPool pool(&loop_, PoolConfig(db, 1));
  auto held = AcquireSync(pool);
  ASSERT_TRUE(held) << held.error().message();

  std::optional<core::Result<Lease>> waiter;
  pool.Acquire([&](core::Result<Lease> l) { waiter.emplace(std::move(l)); });
  RunFor(milliseconds(50));
  EXPECT_FALSE(waiter.has_value());  // the only connection is lent
  EXPECT_EQ(pool.stats().waiting, 1u);

  bool shut = false;
  pool.Shutdown([&] { shut = true; });
  ASSERT_TRUE(RunUntil([&] { return waiter.has_value(); }));
  ASSERT_FALSE(*waiter);
  EXPECT_NE(waiter->error().message().find("shutting down"), std::string::npos);
  RunFor(milliseconds(50));
  EXPECT_FALSE(shut);  // the lease is still out

  held->Release();
  ASSERT_TRUE(RunUntil([&] { return shut; }));
  EXPECT_EQ(pool.stats().in_use + pool.stats().idle, 0u);
}

TEST_F(DbPoolTest, ClosedPortFailsEveryWaiterFast) {
  SLUICE_REQUIRE_MARIADB(db);
  auto config = PoolConfig(db, 4);
  config.host = "127.0.0.1";
  config.port = ClosedPort();
  DbPool pool(&loop_, config);

  constexpr int kWaiters = 10;
  std::vector<core::Status> errors;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kWaiters; ++i) {
    pool.Acquire([&](core::Result<Lease> lease) {
      EXPECT_FALSE(lease);
      if (!lease) errors.push_back(lease.error());
    });
  }
  ASSERT_TRUE(RunUntil([&] { return errors.size() == kWaiters; }, std::chrono::seconds(10)));
  EXPECT_LT(MillisSince(start), 2000);
  for (const auto& error : errors) {
    EXPECT_EQ(error.domain(), core::ErrorDomain::kDb);
    EXPECT_TRUE(error.code() == CR_CONNECTION_ERROR || error.code() == CR_CONN_HOST_ERROR) << error.message();
  }
  RunFor(milliseconds(20));
  auto stats = pool.stats();
  EXPECT_EQ(stats.in_use + stats.idle + stats.connecting + stats.waiting, 0u);

  core::Status ping = PingSync(pool);  // tries again, fails again
  EXPECT_FALSE(ping.ok());
  EXPECT_GE(pool.counters().connect_errors, 2u);  // the metrics' sluice_db_errors_total{kind="connect"}
  EXPECT_EQ(pool.counters().connects, 0u);
  ShutdownSync(pool);
}

TEST_F(DbPoolTest, ConnectionKilledMidQueryIsReplaced) {
  SLUICE_REQUIRE_MARIADB(db);
  DbPool pool(&loop_, PoolConfig(db, 2));
  auto lease = AcquireSync(pool);
  ASSERT_TRUE(lease) << lease.error().message();
  std::string id = std::to_string((*lease)->thread_id());

  std::optional<core::Result<QueryResult>> outcome;
  (*lease)->Query("SELECT SLEEP(30)", [&](core::Result<QueryResult> r) { outcome.emplace(std::move(r)); });
  ASSERT_TRUE(RunUntil([&] {
    return Scalar(pool, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = " + id +
                            " AND INFO LIKE 'SELECT SLEEP%'") == "1";
  }));
  auto killed = QuerySync(pool, "KILL CONNECTION " + id);  // on the pool's other connection
  ASSERT_TRUE(killed) << killed.error().message();
  ASSERT_TRUE(RunUntil([&] { return outcome.has_value(); }));
  ASSERT_FALSE(*outcome);
  EXPECT_TRUE(IsConnectionLost(outcome->error())) << outcome->error().message();
  EXPECT_TRUE((*lease)->broken());
  lease->Release();  // a broken connection is dropped, not pooled

  for (int i = 0; i < 4; ++i) {
    std::string now = Scalar(pool, "SELECT CONNECTION_ID()");
    EXPECT_NE(now, id);
    EXPECT_NE(now, "");
  }
  EXPECT_LE(pool.stats().idle, 2u);
  // Counted for /metrics: the lost statement, the dropped connection, a
  // statement error that leaves its connection usable.
  EXPECT_EQ(pool.counters().errors.connection, 1u);
  EXPECT_EQ(pool.counters().dropped, 1u);
  EXPECT_EQ(pool.counters().errors.statement, 0u);
  EXPECT_FALSE(QuerySync(pool, "SELEC 1"));
  EXPECT_EQ(pool.counters().errors.statement, 1u);
  EXPECT_EQ(pool.counters().dropped, 1u);
  EXPECT_GE(pool.counters().connects, 2u);
  ShutdownSync(pool);
}

TEST_F(DbPoolTest, IdleConnectionKilledByTheServerIsNotLent) {
  SLUICE_REQUIRE_MARIADB(db);
  DbPool pool(&loop_, PoolConfig(db, 1));
  std::string first = Scalar(pool, "SELECT CONNECTION_ID()");
  ASSERT_NE(first, "");
  ASSERT_EQ(pool.stats().idle, 1u);

  {  // kill the idle pooled connection from outside the pool
    glue::MysqlConnection killer(&loop_);
    std::optional<core::Status> connected;
    killer.Connect(TcpParams(db), [&](core::Status s) { connected = s; });
    ASSERT_TRUE(RunUntil([&] { return connected.has_value(); }));
    ASSERT_TRUE(connected->ok()) << connected->message();
    std::optional<core::Result<QueryResult>> killed;
    killer.Query("KILL CONNECTION " + first, [&](core::Result<QueryResult> r) { killed.emplace(std::move(r)); });
    ASSERT_TRUE(RunUntil([&] { return killed.has_value(); }));
    ASSERT_TRUE(*killed) << killed->error().message();
    bool closed = false;
    killer.Close([&] { closed = true; });
    ASSERT_TRUE(RunUntil([&] { return closed; }));
  }
  RunFor(milliseconds(200));  // the server closes the killed session's socket

  // Served without an error: the dead idle connection is noticed and replaced.
  auto result = QuerySync(pool, "SELECT CONNECTION_ID()");
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_NE(*result->rows.at(0).at(0), first);
  EXPECT_EQ(pool.counters().dropped, 1u);
  EXPECT_EQ(pool.counters().connects, 2u);
  EXPECT_EQ(pool.counters().errors.connection + pool.counters().errors.statement, 0u);
  ShutdownSync(pool);
}

TEST_F(DbPoolTest, ServerKilledMidQueryThenBackIsReconnected) {
  SLUICE_REQUIRE_MARIADB(db);  // the environment promises MariaDB binaries too
  (void)db;
  if (!ThrowawayMariadb::Available()) {
    if (ServicesRequired()) FAIL() << "mariadbd / mariadb-install-db not installed";
    GTEST_SKIP() << "mariadbd / mariadb-install-db not installed";
  }
  ThrowawayMariadb server;
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;

  config::MariadbConfig config;
  config.host = "127.0.0.1";
  config.port = server.port();
  config.user = "anyone";  // --skip-grant-tables
  config.database = "";
  config.pool_size = 2;
  config.connect_timeout = std::chrono::seconds(3);
  DbPool pool(&loop_, config);
  ASSERT_TRUE(PingSync(pool).ok());

  // A query in flight when the server dies.
  auto lease = AcquireSync(pool);
  ASSERT_TRUE(lease) << lease.error().message();
  std::optional<core::Result<QueryResult>> outcome;
  (*lease)->Query("SELECT SLEEP(30)", [&](core::Result<QueryResult> r) { outcome.emplace(std::move(r)); });
  RunFor(milliseconds(300));
  ASSERT_FALSE(outcome.has_value());
  auto start = std::chrono::steady_clock::now();
  server.SigKill();
  ASSERT_TRUE(RunUntil([&] { return outcome.has_value(); }, std::chrono::seconds(10)));
  EXPECT_LT(MillisSince(start), 5000);
  ASSERT_FALSE(*outcome);
  EXPECT_EQ(outcome->error().code(), CR_SERVER_LOST) << outcome->error().message();
  EXPECT_TRUE(IsConnectionLost(outcome->error()));
  lease->Release();
  server.Kill();  // reap it

  // While it is down: refused, quickly, not a hang (the idle connection, dead
  // too, is noticed and dropped rather than lent).
  start = std::chrono::steady_clock::now();
  core::Status down = PingSync(pool);
  EXPECT_LT(MillisSince(start), 3000);
  ASSERT_FALSE(down.ok());
  EXPECT_TRUE(down.code() == CR_CONNECTION_ERROR || down.code() == CR_CONN_HOST_ERROR) << down.message();

  // Back on the same port: the next Acquire reconnects.
  ASSERT_TRUE(server.Start(&error)) << error;
  core::Status back = PingSync(pool);
  EXPECT_TRUE(back.ok()) << back.message();
  ShutdownSync(pool);
}

}  // namespace
}  // namespace sluice::dbtest
