// The Loader's bookkeeping (see loader.hpp). A block in flight is a Flight:
// the block, the Lease of its connection once one is granted, and for kInsert
// the next statement to run. Every DB callback captures the Flight and the
// Loader by shared_ptr, so neither can die while the connector still has to
// call back; the Lease goes back to the pool when the last callback holding
// the Flight is destroyed. Completions that would otherwise run inside a
// caller's call (Submit, Finish, Abort) are queued in `deferred_` and run
// from a zero-delay timer, which also holds the Loader alive until then.
#include "ingest/loader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "db/table_ddl.hpp"

namespace sluice::ingest {

struct Loader::Flight {
  EncodedBlock block;
  db::Lease lease;
  std::size_t next_statement = 0;
  std::uint64_t rows_affected = 0;
};

namespace {

std::string BlockName(const EncodedBlock& block) {
  return fmt::format("rows {}..{}", block.first_row, block.last_row);
}

}  // namespace

std::shared_ptr<Loader> Loader::Create(db::DbPool& pool, LoaderOptions options) {
  return std::shared_ptr<Loader>(new Loader(pool, std::move(options)));
}

Loader::Loader(db::DbPool& pool, LoaderOptions options)
    : pool_(pool),
      options_(std::move(options)),
      load_sql_(db::LoadDataSql(options_.table, options_.columns)),
      max_in_flight_(options_.max_in_flight != 0 ? options_.max_in_flight : std::max<std::size_t>(1, pool.capacity())) {
  if (timer_.Init(uv_timer_init, pool_.loop()) != 0) {
    std::fprintf(stderr, "sluice: Loader: uv_timer_init failed\n");
    std::abort();
  }
  timer_->data = this;
}

Loader::~Loader() = default;  // timer_ closes itself; nothing is in flight (flights hold the Loader)

bool Loader::Submit(EncodedBlock block) {
  if (failed() || finishing_) return false;
  if (!started_) {
    started_ = true;
    start_time_ = std::chrono::steady_clock::now();
  }
  if (block.row_count == 0) {  // nothing to send (a block of bad rows only)
    stats_.blocks += 1;
    Report(block, true);
    return true;
  }
  queued_bytes_ += block.bytes();
  queue_.push_back(std::move(block));
  Pump();
  return true;
}

void Loader::Finish(DoneCallback done) {
  finishing_ = true;
  done_cb_ = std::move(done);
  MaybeDone();
}

void Loader::Abort(core::Status reason) {
  if (reason.ok()) reason = core::Status::Internal("load aborted");
  Fail(std::move(reason));
}

void Loader::Pause() { paused_ = true; }

void Loader::Resume() {
  paused_ = false;
  Pump();
  MaybeDone();
}

void Loader::WhenIdle(std::function<void()> callback) {
  idle_callbacks_.push_back(std::move(callback));
  MaybeIdle();
}

void Loader::MaybeIdle() {
  if (in_flight_ > 0 || idle_callbacks_.empty()) return;
  for (auto& callback : idle_callbacks_) {
    deferred_.push_back([self = shared_from_this(), callback = std::move(callback)] { callback(); });
  }
  idle_callbacks_.clear();
  uv_timer_start(timer_.get(), &OnTimer, 0, 0);
}

void Loader::Pump() {
  while (!failed() && !paused_ && in_flight_ < max_in_flight_ && !queue_.empty()) {
    auto flight = std::make_shared<Flight>();
    flight->block = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= flight->block.bytes();
    ++in_flight_;
    pool_.Acquire([self = shared_from_this(), flight](core::Result<db::Lease> lease) mutable {
      self->Start(std::move(flight), std::move(lease));
    });
  }
}

void Loader::Start(std::shared_ptr<Flight> flight, core::Result<db::Lease> lease) {
  if (!lease) {
    Complete(std::move(flight), lease.error());
    return;
  }
  flight->lease = std::move(lease).value();
  if (failed()) {  // another block failed while this one waited for a connection
    Complete(std::move(flight), error_);
    return;
  }
  RunNext(std::move(flight));
}

void Loader::RunNext(std::shared_ptr<Flight> flight) {
  glue::MysqlConnection& connection = *flight->lease;
  auto on_done = [self = shared_from_this(), flight](core::Result<glue::QueryResult> result) mutable {
    self->OnStatement(std::move(flight), std::move(result));
  };
  const EncodedBlock& block = flight->block;
  if (block.method == LoadMethod::kLoadData) {
    connection.LoadDataLocal(load_sql_, block.data, std::move(on_done));
    return;
  }
  if (flight->next_statement >= block.statements.size()) {
    Complete(std::move(flight), core::Status::Ok());
    return;
  }
  // The statement is copied: the block keeps its bytes counted until it is done.
  connection.Query(block.statements[flight->next_statement++], std::move(on_done));
}

void Loader::OnStatement(std::shared_ptr<Flight> flight, core::Result<glue::QueryResult> result) {
  if (!result) {
    const core::Status& error = result.error();
    Complete(flight, {error.domain(), error.code(), fmt::format("{}: {}", BlockName(flight->block), error.message())});
    return;
  }
  flight->rows_affected += result->affected_rows;
  if (result->warnings > 0 && options_.fail_on_warnings) {
    ExplainWarnings(std::move(flight), result->warnings);
    return;
  }
  const EncodedBlock& block = flight->block;
  if (block.method == LoadMethod::kInsert && flight->next_statement < block.statements.size()) {
    if (failed()) {
      Complete(std::move(flight), error_);
      return;
    }
    RunNext(std::move(flight));
    return;
  }
  if (flight->rows_affected != block.row_count) {
    Complete(std::move(flight),
             {core::ErrorDomain::kDb, 0,
              fmt::format("{}: the server stored {} of {} rows ({})", BlockName(block), flight->rows_affected,
                          block.row_count, result->info)});
    return;
  }
  Complete(std::move(flight), core::Status::Ok());
}

void Loader::ExplainWarnings(std::shared_ptr<Flight> flight, unsigned warnings) {
  glue::MysqlConnection& connection = *flight->lease;
  connection.Query("SHOW WARNINGS LIMIT 3", [self = shared_from_this(), flight,
                                             warnings](core::Result<glue::QueryResult> result) mutable {
    std::string detail;
    if (result) {
      for (const auto& row : result->rows) {
        if (row.size() < 3) continue;
        if (!detail.empty()) detail += "; ";
        detail += row[2].value_or("");
      }
    }
    if (detail.empty()) detail = "SHOW WARNINGS gave no detail";
    self->Complete(std::move(flight),
                   {core::ErrorDomain::kDb, 0,
                    fmt::format("{}: the server altered or skipped values ({} warning{}): {}",
                                BlockName(flight->block), warnings, warnings == 1 ? "" : "s", detail)});
  });
}

void Loader::Complete(std::shared_ptr<Flight> flight, core::Status status) {
  --in_flight_;
  bool loaded = status.ok() && !failed();
  if (!status.ok()) Fail(std::move(status));
  if (loaded) {
    stats_.rows += flight->block.row_count;
    stats_.blocks += 1;
    stats_.bytes += flight->block.bytes();
    stats_.elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_time_);
  }
  Report(flight->block, loaded);
  flight->lease.Release();  // back to the pool now, not when the last callback copy dies
  Pump();
  MaybeIdle();
  MaybeDone();
}

void Loader::Fail(core::Status status) {
  if (failed()) return;
  error_ = std::move(status);
  // Queued blocks are dropped now; each still gets its BlockDone.
  while (!queue_.empty()) {
    Report(queue_.front(), false);
    queued_bytes_ -= queue_.front().bytes();
    queue_.pop_front();
  }
  MaybeDone();
}

void Loader::Report(const EncodedBlock& block, bool loaded) {
  BlockDone done{block.first_row, block.row_count, block.held_bytes(), loaded};
  deferred_.push_back([self = shared_from_this(), done] {
    if (self->block_cb_) self->block_cb_(done);
  });
  uv_timer_start(timer_.get(), &OnTimer, 0, 0);
}

void Loader::MaybeDone() {
  if (!finishing_ || done_called_ || in_flight_ > 0) return;
  if (!failed() && !queue_.empty()) return;  // paused with blocks waiting: not done yet
  done_called_ = true;
  deferred_.push_back([self = shared_from_this()] {
    auto done = std::move(self->done_cb_);
    self->done_cb_ = nullptr;
    if (!done) return;
    if (self->failed()) {
      done(self->error_);
    } else {
      done(self->stats_);
    }
  });
  uv_timer_start(timer_.get(), &OnTimer, 0, 0);
}

void Loader::OnTimer(uv_timer_t* handle) noexcept {
  auto* self = static_cast<Loader*>(handle->data);
  if (self != nullptr) self->OnDeferred();
}

void Loader::OnDeferred() {
  // Moved out first: a callback may Submit/Finish (queueing more) or drop the
  // owner's pointer; each entry holds the Loader alive while it runs.
  auto calls = std::move(deferred_);
  deferred_.clear();
  for (auto& call : calls) call();
}

}  // namespace sluice::ingest
