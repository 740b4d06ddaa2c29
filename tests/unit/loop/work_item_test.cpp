// WorkItem: Run() on a worker thread, Done() on the loop thread, every item
// exactly once, nothing left on the loop afterwards.
#include "loop/work_item.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace sluice::loop {
namespace {

TEST(WorkItem, RunsOnWorkersAndCompletesOnTheLoop) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  const auto loop_thread = std::this_thread::get_id();
  std::atomic<int> ran_on_worker{0};
  int done = 0;
  uint64_t total = 0;
  for (int i = 1; i <= 100; ++i) {
    auto result = std::make_shared<uint64_t>(0);
    SubmitWork(
        &loop,
        [i, result, &ran_on_worker, loop_thread] {
          if (std::this_thread::get_id() != loop_thread) ++ran_on_worker;
          for (int k = 0; k < 1000; ++k) *result += static_cast<uint64_t>(i);
        },
        [result, &done, &total, loop_thread](int status) {
          EXPECT_EQ(status, 0);
          EXPECT_EQ(std::this_thread::get_id(), loop_thread);
          total += *result;
          ++done;
        });
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(done, 100);
  EXPECT_EQ(ran_on_worker.load(), 100);
  EXPECT_EQ(total, 1000u * (100u * 101u / 2u));
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

}  // namespace
}  // namespace sluice::loop
