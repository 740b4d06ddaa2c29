// See work_item.hpp.
#include "loop/work_item.hpp"

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>

namespace sluice::loop {
namespace {

// Counted when submitted (loop), started (worker) and done (loop). Started
// items that never ran (cancelled, refused) are counted as started at Done().
std::atomic<uint64_t> g_submitted{0};
std::atomic<uint64_t> g_started{0};
std::atomic<uint64_t> g_finished{0};

class LambdaWork final : public WorkItem {
 public:
  LambdaWork(std::function<void()> run, std::function<void(int)> done) : run_(std::move(run)), done_(std::move(done)) {}
  void Run() override { run_(); }
  void Done(int status) override { done_(status); }

 private:
  std::function<void()> run_;
  std::function<void(int)> done_;
};

}  // namespace

void WorkItem::Submit(uv_loop_t* loop, std::unique_ptr<WorkItem> item) {
  WorkItem* raw = item.release();  // owned by libuv until the after-work callback
  raw->req_.data = raw;
  g_submitted.fetch_add(1, std::memory_order_relaxed);
  int rc = uv_queue_work(
      loop, &raw->req_,
      [](uv_work_t* req) {
        g_started.fetch_add(1, std::memory_order_relaxed);
        static_cast<WorkItem*>(req->data)->Run();
      },
      [](uv_work_t* req, int status) {
        if (status != 0) g_started.fetch_add(1, std::memory_order_relaxed);  // cancelled: never ran
        std::unique_ptr<WorkItem> owned(static_cast<WorkItem*>(req->data));
        owned->Done(status);
        g_finished.fetch_add(1, std::memory_order_relaxed);
      });
  if (rc != 0) {
    g_started.fetch_add(1, std::memory_order_relaxed);
    std::unique_ptr<WorkItem> owned(raw);
    owned->Done(rc);
    g_finished.fetch_add(1, std::memory_order_relaxed);
  }
}

WorkQueueCounts WorkQueueStats() {
  // Read finished, then started, then submitted: each is at least the one
  // read before it, so the differences never go negative.
  const uint64_t finished = g_finished.load(std::memory_order_relaxed);
  const uint64_t started = g_started.load(std::memory_order_relaxed);
  const uint64_t submitted = g_submitted.load(std::memory_order_relaxed);
  return {submitted - started, started - finished, finished};
}

void SubmitWork(uv_loop_t* loop, std::function<void()> run, std::function<void(int status)> done) {
  WorkItem::Submit(loop, std::make_unique<LambdaWork>(std::move(run), std::move(done)));
}

void SetWorkerThreads(int threads) {
  if (std::getenv("UV_THREADPOOL_SIZE") != nullptr) return;
  int count = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
  if (count < 2) count = 2;  // DNS lookups (uv_getaddrinfo) share the pool
  setenv("UV_THREADPOOL_SIZE", std::to_string(count).c_str(), 1);
}

}  // namespace sluice::loop
