// DbPool's bookkeeping. Every connection is in exactly one place: lent out
// (counted by in_use_, owned by its Lease), idle_, connecting_, closing_, or
// graveyard_ — the last being where dead connections wait for the next tick,
// because a connection must not be destroyed inside its own callback chain
// and Return()/OnConnected() usually run inside one. One zero-delay timer (the
// "tick") does everything that must not happen synchronously: reaping the
// graveyard, handing idle connections to waiters, opening new ones, failing
// waiters after Shutdown(), and reporting that shutdown is complete.
#include "db/db_pool.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace sluice::db {
namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "sluice: DbPool: %s (see Rules in db_pool.hpp)\n", what);
  std::abort();
}

core::Status ShuttingDown() { return {core::ErrorDomain::kDb, 0, "db pool: shutting down"}; }

}  // namespace

/// Counts pool callbacks on the stack, so destruction inside one is caught.
class DbPool::CallbackScope {
 public:
  explicit CallbackScope(DbPool& pool) : pool_(pool) { ++pool_.callback_depth_; }
  ~CallbackScope() { --pool_.callback_depth_; }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;

 private:
  DbPool& pool_;
};

// ---- Lease -----------------------------------------------------------------

Lease::Lease(DbPool* pool, std::unique_ptr<glue::MysqlConnection> connection) noexcept
    : pool_(pool), connection_(std::move(connection)) {}

Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), connection_(std::move(other.connection_)) {}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    pool_ = std::exchange(other.pool_, nullptr);
    connection_ = std::move(other.connection_);
  }
  return *this;
}

Lease::~Lease() { Release(); }

void Lease::Release() noexcept {
  if (pool_ != nullptr && connection_ != nullptr) pool_->Return(std::move(connection_));
  connection_.reset();
  pool_ = nullptr;
}

// ---- DbPool ----------------------------------------------------------------

DbPool::DbPool(uv_loop_t* loop, config::MariadbConfig config)
    : loop_(loop),
      config_(std::move(config)),
      capacity_(static_cast<size_t>(std::max(1, config_.pool_size))),
      log_(log::Get("db")) {
  params_.host = config_.host;
  params_.port = config_.port;
  params_.socket = config_.socket;
  params_.user = config_.user;
  params_.password = config_.password;
  params_.database = config_.database;
  params_.connect_timeout = config_.connect_timeout;
  if (tick_.Init(uv_timer_init, loop_) != 0) Die("uv_timer_init failed");
  tick_->data = this;
}

DbPool::~DbPool() {
  if (callback_depth_ > 0) Die("destroyed inside one of its own callbacks");
  if (in_use_ > 0) Die("destroyed while connections are on loan");
  // Waiters and shutdown callbacks are dropped; pooled connections take the
  // MysqlConnection destructor's fallback path; tick_ closes in its destructor.
}

void DbPool::Acquire(AcquireCallback done) {
  waiters_.push_back(std::move(done));
  Schedule();
}

void DbPool::Query(std::string sql, QueryCallback done) {
  Acquire([sql = std::move(sql), done = std::move(done)](core::Result<Lease> lease) mutable {
    if (!lease) {
      if (done) done(lease.error());
      return;
    }
    // The query's own callback keeps the Lease alive; the connection goes back
    // to the pool when that callback is destroyed after it ran.
    auto holder = std::make_shared<Lease>(std::move(lease).value());
    glue::MysqlConnection& connection = **holder;
    connection.Query(std::move(sql), [holder, done = std::move(done)](core::Result<glue::QueryResult> result) {
      if (done) done(std::move(result));
    });
  });
}

void DbPool::Ping(std::function<void(core::Status)> done) {
  Query("SELECT 1", [done = std::move(done)](core::Result<glue::QueryResult> result) {
    if (done) done(result ? core::Status::Ok() : result.error());
  });
}

void DbPool::Shutdown(std::function<void()> done) {
  if (!shutting_down_) log_->info("db pool: shutting down ({} lent, {} idle)", in_use_, idle_.size());
  shutting_down_ = true;
  shutdown_callbacks_.push_back(std::move(done));
  while (!idle_.empty()) {
    auto connection = std::move(idle_.front());
    idle_.pop_front();
    CloseConnection(std::move(connection));
  }
  Schedule();  // fails the waiters, then reports completion once all is closed
}

PoolStats DbPool::stats() const noexcept {
  return {in_use_, idle_.size(), connecting_.size(), waiters_.size()};
}

size_t DbPool::Total() const noexcept { return in_use_ + idle_.size() + connecting_.size() + closing_.size(); }

void DbPool::Return(std::unique_ptr<glue::MysqlConnection> connection) {
  --in_use_;
  if (connection->busy() || connection->broken() || !connection->open()) {
    // Broken, or given back mid-operation: never lend it again.
    ++counters_.dropped;
    Bury(std::move(connection));
  } else if (shutting_down_) {
    CloseConnection(std::move(connection));
  } else {
    idle_.push_back(std::move(connection));
  }
  Schedule();
}

void DbPool::StartConnect() {
  auto connection = std::make_unique<glue::MysqlConnection>(loop_);
  auto* raw = connection.get();
  raw->CountErrorsInto(&counters_.errors);
  connecting_.push_back(std::move(connection));
  raw->Connect(params_, [this, raw](core::Status status) { OnConnected(raw, std::move(status)); });
}

void DbPool::OnConnected(glue::MysqlConnection* raw, core::Status status) {
  auto connection = Take(connecting_, raw);
  if (!status.ok()) {
    std::string where = params_.socket.empty() ? fmt::format("{}:{}", params_.host, params_.port) : params_.socket;
    log_->warn("db pool: connect to {} as {} failed: {}", where, params_.user, status.message());
    ++counters_.connect_errors;
    Bury(std::move(connection));
    if (!shutting_down_) {
      bool none_alive = in_use_ == 0 && idle_.empty() && connecting_.empty();
      FailWaiters(status, none_alive ? waiters_.size() : 1);
    }
    Schedule();  // the remaining waiters may need another connect attempt
    return;
  }
  ++counters_.connects;
  if (shutting_down_) {
    CloseConnection(std::move(connection));
    return;
  }
  idle_.push_back(std::move(connection));
  Schedule();
}

void DbPool::CloseConnection(std::unique_ptr<glue::MysqlConnection> connection) {
  auto* raw = connection.get();
  closing_.push_back(std::move(connection));
  raw->Close([this, raw] { Bury(Take(closing_, raw)); });
}

void DbPool::Bury(std::unique_ptr<glue::MysqlConnection> connection) {
  if (connection != nullptr) graveyard_.push_back(std::move(connection));
  Schedule();
}

std::unique_ptr<glue::MysqlConnection> DbPool::Take(std::vector<std::unique_ptr<glue::MysqlConnection>>& from,
                                                    glue::MysqlConnection* connection) {
  auto it = std::find_if(from.begin(), from.end(), [connection](const auto& c) { return c.get() == connection; });
  if (it == from.end()) Die("connection not found where the pool left it");
  auto owned = std::move(*it);
  from.erase(it);
  return owned;
}

void DbPool::Schedule() {
  if (!uv_is_active(tick_.base())) uv_timer_start(tick_.get(), &OnTickTimer, 0, 0);
}

void DbPool::OnTickTimer(uv_timer_t* handle) noexcept {
  auto* self = static_cast<DbPool*>(handle->data);
  if (self != nullptr) self->OnTick();
}

void DbPool::OnTick() {
  {
    // Destroyed here, on the pool's own timer, outside any connection's
    // callback chain. Moved out first: a dropped callback may hold a Lease
    // whose destructor calls Return(), which may Bury() again.
    auto dead = std::move(graveyard_);
    graveyard_.clear();
  }
  if (shutting_down_) {
    FailWaiters(ShuttingDown(), waiters_.size());
  } else {
    Dispatch();
  }
  MaybeFinishShutdown();
}

void DbPool::Dispatch() {
  while (!shutting_down_ && !waiters_.empty() && !idle_.empty()) {
    auto connection = std::move(idle_.front());
    idle_.pop_front();
    if (!connection->CheckIdle()) {
      log_->info("db pool: dropping an idle connection the server closed");
      ++counters_.dropped;
      Bury(std::move(connection));
      continue;
    }
    auto waiter = std::move(waiters_.front());
    waiters_.pop_front();
    ++in_use_;
    Lease lease(this, std::move(connection));
    CallbackScope scope(*this);
    if (waiter) waiter(std::move(lease));
  }
  // One new connection per waiter not already covered by one being opened.
  while (!shutting_down_ && waiters_.size() > connecting_.size() && Total() < capacity_) StartConnect();
}

void DbPool::FailWaiters(const core::Status& status, size_t count) {
  for (size_t i = 0; i < count && !waiters_.empty(); ++i) {
    auto waiter = std::move(waiters_.front());
    waiters_.pop_front();
    CallbackScope scope(*this);
    if (waiter) waiter(status);
  }
}

void DbPool::MaybeFinishShutdown() {
  if (!shutting_down_ || shutdown_callbacks_.empty()) return;
  if (in_use_ != 0 || !idle_.empty() || !connecting_.empty() || !closing_.empty() || !graveyard_.empty() ||
      !waiters_.empty()) {
    return;
  }
  auto callbacks = std::move(shutdown_callbacks_);
  shutdown_callbacks_.clear();
  log_->info("db pool: shut down");
  CallbackScope scope(*this);
  for (auto& callback : callbacks) {
    if (callback) callback();
  }
}

}  // namespace sluice::db
