// See work_item.hpp.
#include "loop/work_item.hpp"

#include <cstdlib>
#include <string>
#include <thread>

namespace sluice::loop {
namespace {

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
  int rc = uv_queue_work(
      loop, &raw->req_, [](uv_work_t* req) { static_cast<WorkItem*>(req->data)->Run(); },
      [](uv_work_t* req, int status) {
        std::unique_ptr<WorkItem> owned(static_cast<WorkItem*>(req->data));
        owned->Done(status);
      });
  if (rc != 0) {
    std::unique_ptr<WorkItem> owned(raw);
    owned->Done(rc);
  }
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
