// Loader: encoded blocks → one staging table, over several pooled connections
// at once (DESIGN.md "The upload pipeline").
//
// Blocks arrive in any order, as workers finish encoding them; each carries
// its rows' `_row` numbers, so the table ends in file order whatever order the
// blocks load in. At most `max_in_flight` blocks load at a time (default: the
// pool's size), each on its own connection: a kLoadData block is one
// `LOAD DATA LOCAL INFILE` served from memory, a kInsert block its INSERT
// statements in turn on one connection. Blocks beyond that wait in a queue.
//
// Failure is clean: the first error (a statement failing, a lost connection,
// fewer rows loaded than sent, or — by default — any warning, since LOAD DATA
// LOCAL turns conversion errors and duplicate keys into warnings and would
// otherwise alter or drop values silently) stops the loader: queued blocks are
// dropped, blocks in flight finish (their connections stay consistent), and
// Finish's callback gets that first error. The caller then drops the staging
// table (StagedTable::Discard) — the Loader never touches other tables.
//
// Rules:
//  - Loop thread only. Create() returns a shared_ptr; every operation in
//    flight holds the Loader too, so the owner may drop its pointer at any
//    time, inside a Loader callback included.
//  - Every block Submit() accepts gets exactly one BlockDone callback, loaded
//    or dropped, on a later loop turn — the hook for progress and for giving
//    its bytes back to the memory budget. A block Submit() refuses (false:
//    the loader failed or Finish() was called) stays the caller's.
//  - Callbacks never run inside the call that asked for them.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/status.hpp"
#include "db/db_pool.hpp"
#include "ingest/load_encoder.hpp"
#include "uv/uv_handle.hpp"

namespace sluice::ingest {

/// What to load into.
struct LoaderOptions {
  std::string table;                 ///< the staging table (unquoted name)
  std::vector<std::string> columns;  ///< its data columns in encoder order (without `_row`)
  std::size_t max_in_flight = 0;     ///< blocks loading at once; 0 = the pool's size
  /// Fail on any warning of a load statement (see above). Only for tests
  /// that want to see what the server did.
  bool fail_on_warnings = true;
};

/// One block finished: loaded, or dropped after a failure.
struct BlockDone {
  std::uint64_t first_row = 0;
  std::uint64_t row_count = 0;
  std::size_t bytes = 0;  ///< EncodedBlock::held_bytes() of the block, now released
  bool loaded = false;    ///< false: dropped (the loader had failed)
};

/// The totals of a load.
struct LoadStats {
  std::uint64_t rows = 0;    ///< rows in the staging table
  std::uint64_t blocks = 0;  ///< blocks loaded
  std::uint64_t bytes = 0;   ///< encoded bytes sent
  std::chrono::milliseconds elapsed{0};  ///< first Submit → last block loaded
};

/// See the top of this file.
class Loader : public std::enable_shared_from_this<Loader> {
 public:
  using BlockCallback = std::function<void(const BlockDone&)>;
  using DoneCallback = std::function<void(core::Result<LoadStats>)>;

  /// A loader on `pool` (which outlives it and runs on the same loop).
  static std::shared_ptr<Loader> Create(db::DbPool& pool, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  /// Called once per accepted block, when it is loaded or dropped.
  void OnBlockDone(BlockCallback callback) { block_cb_ = std::move(callback); }

  /// Queues a block (any order; an empty block is fine). False when the loader
  /// no longer takes blocks (failed, or Finish() was called): the block is
  /// not taken.
  bool Submit(EncodedBlock block);

  /// No more blocks: `done` runs once every accepted block is loaded (with
  /// the totals) or, after a failure, once the blocks in flight are back
  /// (with the first error). Call once.
  void Finish(DoneCallback done);

  /// Stops as a failure would, with `reason` (cancel, shutdown, a parse error
  /// under on_error=abort). Blocks in flight finish first. No-op once failed.
  void Abort(core::Status reason);

  /// Stops starting blocks: accepted ones wait in the queue (Submit still
  /// takes more) until Resume(). Blocks already loading go on.
  void Pause();
  /// Starts queued blocks again.
  void Resume();
  /// True between Pause() and Resume().
  bool paused() const noexcept { return paused_; }
  /// Runs `callback` once no block is loading (at once on a later loop turn
  /// when none is) — with Pause(), the moment to change the staging table,
  /// e.g. StagedTable::AlterColumns when inference widens a type.
  void WhenIdle(std::function<void()> callback);

  /// True once a block failed or Abort() was called.
  bool failed() const noexcept { return !error_.ok(); }
  /// The first error (Ok while none).
  const core::Status& error() const noexcept { return error_; }
  /// Rows loaded so far.
  std::uint64_t rows_loaded() const noexcept { return stats_.rows; }
  /// Blocks loading now.
  std::size_t in_flight() const noexcept { return in_flight_; }
  /// Blocks waiting for a connection, and their bytes.
  std::size_t queued() const noexcept { return queue_.size(); }
  std::size_t queued_bytes() const noexcept { return queued_bytes_; }

 private:
  struct Flight;

  Loader(db::DbPool& pool, LoaderOptions options);
  void Pump();
  void Start(std::shared_ptr<Flight> flight, core::Result<db::Lease> lease);
  void RunNext(std::shared_ptr<Flight> flight);
  void OnStatement(std::shared_ptr<Flight> flight, core::Result<glue::QueryResult> result);
  void ExplainWarnings(std::shared_ptr<Flight> flight, unsigned warnings);
  void Complete(std::shared_ptr<Flight> flight, core::Status status);
  void Fail(core::Status status);
  void Report(const EncodedBlock& block, bool loaded);
  void MaybeDone();
  void MaybeIdle();
  void OnDeferred();
  static void OnTimer(uv_timer_t* handle) noexcept;

  db::DbPool& pool_;
  LoaderOptions options_;
  std::string load_sql_;  ///< the LOAD DATA statement (same for every block)
  std::size_t max_in_flight_;

  std::deque<EncodedBlock> queue_;
  std::size_t queued_bytes_ = 0;
  std::size_t in_flight_ = 0;
  bool finishing_ = false;
  bool paused_ = false;
  std::vector<std::function<void()>> idle_callbacks_;
  bool done_called_ = false;
  core::Status error_;
  LoadStats stats_;
  bool started_ = false;
  std::chrono::steady_clock::time_point start_time_;

  BlockCallback block_cb_;
  DoneCallback done_cb_;
  std::vector<std::function<void()>> deferred_;  ///< callbacks for the next loop turn
  glue::UvHandle<uv_timer_t> timer_;
};

}  // namespace sluice::ingest
