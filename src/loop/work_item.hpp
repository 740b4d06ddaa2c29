// WorkItem: per-byte work (parsing, hashing, inflating, encoding) on libuv's
// worker pool, with the result handed back on the loop thread
// (libuv threadpool.rst; Node's ThreadPoolWork).
//
// Rules:
//  - Run() executes on a worker thread: it touches only the item's own
//    members — never a socket, a uv handle, or any loop-owned state.
//  - Done(status) executes on the loop thread after Run(): status is 0, or
//    UV_ECANCELED when the work was cancelled before it started (Run() did
//    not run then). If uv_queue_work itself fails, Done(rc) runs at once,
//    inside Submit() — libuv never calls back in that case.
//  - Submit() takes ownership; the item is destroyed right after Done().
//  - The pool's size is UV_THREADPOOL_SIZE, set from [server] workers at
//    start (SetWorkerThreads) before the first item is queued.
//  - Every item is counted (process-wide, relaxed atomics: three increments
//    per item, no lock): queued, started, finished — WorkQueueStats() gives
//    the queue depth and the items running for /metrics.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>

namespace sluice::loop {

class WorkItem {
 public:
  virtual ~WorkItem() = default;
  /// Worker thread: the per-byte work.
  virtual void Run() = 0;
  /// Loop thread: hand the result on. `status` is 0 or a negative uv error.
  virtual void Done(int status) = 0;

  /// Queues `item` on `loop`'s worker pool.
  static void Submit(uv_loop_t* loop, std::unique_ptr<WorkItem> item);

 private:
  uv_work_t req_{};
};

/// A WorkItem from two lambdas: `run` on a worker, `done(status)` on the loop.
/// Captured state must be owned by the lambdas (moved in), per the rules above.
void SubmitWork(uv_loop_t* loop, std::function<void()> run, std::function<void(int status)> done);

/// Items of every loop in the process, counted since it started.
struct WorkQueueCounts {
  uint64_t queued = 0;    ///< submitted and not started yet (the queue depth)
  uint64_t running = 0;   ///< running on a worker now
  uint64_t finished = 0;  ///< Done() ran (also cancelled or refused ones)
};
/// A snapshot (the three numbers are read one after the other, not at once).
WorkQueueCounts WorkQueueStats();

/// Sets UV_THREADPOOL_SIZE (`threads` = 0 → one per core, at least 2) unless
/// the environment already sets it. Call before the first Submit().
void SetWorkerThreads(int threads);

}  // namespace sluice::loop
