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

TEST(WorkItem, QueueDepthAndRunningAreCounted) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  const WorkQueueCounts start = WorkQueueStats();
  EXPECT_EQ(start.queued, 0u);
  EXPECT_EQ(start.running, 0u);
  // More blocked items than workers: some run (and wait), the rest queue.
  constexpr int kItems = 300;
  std::atomic<bool> release{false};
  std::atomic<int> started{0};
  int done = 0;
  for (int i = 0; i < kItems; ++i) {
    SubmitWork(
        &loop,
        [&release, &started] {
          ++started;
          while (!release.load()) std::this_thread::yield();
        },
        [&done](int) { ++done; });
  }
  while (started.load() == 0) std::this_thread::yield();
  const WorkQueueCounts busy = WorkQueueStats();
  EXPECT_EQ(busy.queued + busy.running, static_cast<uint64_t>(kItems));
  EXPECT_GE(busy.running, 1u);
  EXPECT_GE(busy.queued, 1u);  // the pool has far fewer than 300 threads
  EXPECT_EQ(busy.finished, start.finished);
  release = true;
  uv_run(&loop, UV_RUN_DEFAULT);
  const WorkQueueCounts end = WorkQueueStats();
  EXPECT_EQ(done, kItems);
  EXPECT_EQ(end.queued, 0u);
  EXPECT_EQ(end.running, 0u);
  EXPECT_EQ(end.finished, start.finished + kItems);
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

}  // namespace
}  // namespace sluice::loop
