// DbPool: up to `pool_size` MariaDB connections shared by everything on the
// loop thread. Connections open lazily, when an Acquire finds none idle; a
// caller gets a Lease, and the connection goes back when the Lease dies — or is
// dropped when it broke (lost, killed, left mid-operation), so the next Acquire
// opens a fresh one. Callers that find every connection busy wait in FIFO
// order. Idle connections are checked before they are lent (a killed or
// timed-out session is noticed without a round trip).
//
// Rules:
//  - Loop thread only. Callbacks never run inside the call that asked for them
//    (Acquire/Query/Ping/Shutdown): they come from a later loop turn.
//  - The pool outlives its Leases; destroying it with a Lease out, or inside one
//    of its own callbacks, aborts. Shut down first, then destroy it from
//    outside its callbacks, then run the loop once so the handles close.
//  - Connections are destroyed only from the pool's own timer callback, never
//    inside a connection's callback chain (mysql_async.hpp, "Rules").
//  - A failed connect fails the oldest waiter; when no connection is alive at
//    all (the database looks down) it fails every waiter at once, so callers
//    such as /readyz learn fast. The next Acquire tries again.
#pragma once

#include <uv.h>

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "core/status.hpp"
#include "log/logger.hpp"
#include "mysql/mysql_async.hpp"
#include "uv/uv_handle.hpp"

namespace sluice::db {

class DbPool;

/// A pooled connection on loan. Move-only; returns the connection when it is
/// destroyed or Release()d. Use it for one operation at a time.
class Lease {
 public:
  /// An empty Lease (holds nothing).
  Lease() = default;
  /// Takes over `other`'s connection; `other` becomes empty.
  Lease(Lease&& other) noexcept;
  /// Gives back the current connection, then takes over `other`'s.
  Lease& operator=(Lease&& other) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  /// Gives the connection back (see Release()).
  ~Lease();

  /// The connection (valid while the Lease holds one).
  glue::MysqlConnection& connection() const noexcept { return *connection_; }
  /// `lease->Query(...)`: the connection's members.
  glue::MysqlConnection* operator->() const noexcept { return connection_.get(); }
  /// The connection, as `*lease`.
  glue::MysqlConnection& operator*() const noexcept { return *connection_; }
  /// True while the Lease holds a connection.
  explicit operator bool() const noexcept { return connection_ != nullptr; }

  /// Gives the connection back now (kept if healthy, dropped if broken or busy).
  void Release() noexcept;

 private:
  friend class DbPool;
  Lease(DbPool* pool, std::unique_ptr<glue::MysqlConnection> connection) noexcept;

  DbPool* pool_ = nullptr;
  std::unique_ptr<glue::MysqlConnection> connection_;
};

/// Counts for metrics and tests.
struct PoolStats {
  size_t in_use = 0;      ///< lent out
  size_t idle = 0;        ///< open, waiting to be lent
  size_t connecting = 0;  ///< being opened
  size_t waiting = 0;     ///< Acquire calls not yet served
};

/// Counts since the pool was made, for metrics. MariaDB errors are never
/// retried by the pool; a broken connection is dropped and the next Acquire
/// opens a fresh one (a reconnect).
struct PoolCounters {
  uint64_t connects = 0;             ///< connections opened
  uint64_t connect_errors = 0;       ///< connect attempts that failed
  uint64_t dropped = 0;              ///< broken connections thrown away (lost, killed, closed by the server)
  glue::StatementErrorCounts errors;  ///< failed statements on pooled connections
};

/// The pool of MariaDB connections. See "Rules" above.
class DbPool {
 public:
  /// Receives a Lease, or why none could be had.
  using AcquireCallback = std::function<void(core::Result<Lease>)>;
  /// Receives a statement's result (see glue::MysqlConnection::Query).
  using QueryCallback = glue::MysqlConnection::QueryCallback;

  /// A pool on `loop` (which must outlive it); opens nothing yet.
  DbPool(uv_loop_t* loop, config::MariadbConfig config);
  /// Drops waiters and closes pooled connections the fallback way; aborts
  /// with a Lease still out (see Rules). Prefer Shutdown() first.
  ~DbPool();
  DbPool(const DbPool&) = delete;
  DbPool& operator=(const DbPool&) = delete;

  /// Lends a connection: an idle one, a new one while fewer than pool_size
  /// exist, or the next one given back. Fails with the connect error when the
  /// database cannot be reached, or kDb "shutting down" after Shutdown().
  void Acquire(AcquireCallback done);

  /// Acquire + MysqlConnection::Query + give back: one statement on any
  /// connection.
  void Query(std::string sql, QueryCallback done);

  /// `SELECT 1` on a pooled connection: Ok when the database answers (/readyz).
  void Ping(std::function<void(core::Status)> done);

  /// Fails every waiter and every later Acquire, closes idle connections, and
  /// closes lent ones as they come back; `done` runs once all are closed.
  void Shutdown(std::function<void()> done);

  /// The current counts.
  PoolStats stats() const noexcept;
  /// Connects, connect errors, dropped connections and failed statements so far.
  const PoolCounters& counters() const noexcept { return counters_; }
  /// The most connections it opens at once ([mariadb] pool_size).
  size_t capacity() const noexcept { return capacity_; }
  /// The loop it runs on.
  uv_loop_t* loop() const noexcept { return loop_; }

 private:
  friend class Lease;
  class CallbackScope;

  void Return(std::unique_ptr<glue::MysqlConnection> connection);
  void StartConnect();
  void OnConnected(glue::MysqlConnection* connection, core::Status status);
  void CloseConnection(std::unique_ptr<glue::MysqlConnection> connection);
  void Bury(std::unique_ptr<glue::MysqlConnection> connection);
  std::unique_ptr<glue::MysqlConnection> Take(std::vector<std::unique_ptr<glue::MysqlConnection>>& from,
                                              glue::MysqlConnection* connection);
  void Schedule();
  void OnTick();
  void Dispatch();
  void FailWaiters(const core::Status& status, size_t count);
  void MaybeFinishShutdown();
  size_t Total() const noexcept;

  static void OnTickTimer(uv_timer_t* handle) noexcept;

  uv_loop_t* loop_;
  config::MariadbConfig config_;
  glue::MysqlConnection::ConnectParams params_;
  size_t capacity_;
  PoolCounters counters_;  ///< before the connections: they count into it until destroyed

  std::deque<std::unique_ptr<glue::MysqlConnection>> idle_;
  std::vector<std::unique_ptr<glue::MysqlConnection>> connecting_;
  std::vector<std::unique_ptr<glue::MysqlConnection>> closing_;
  std::vector<std::unique_ptr<glue::MysqlConnection>> graveyard_;  ///< destroyed on the next tick
  std::deque<AcquireCallback> waiters_;
  size_t in_use_ = 0;

  bool shutting_down_ = false;
  std::vector<std::function<void()>> shutdown_callbacks_;
  int callback_depth_ = 0;
  std::shared_ptr<spdlog::logger> log_;
  glue::UvHandle<uv_timer_t> tick_;  ///< zero-delay timer: dispatch and reaping
};

}  // namespace sluice::db
