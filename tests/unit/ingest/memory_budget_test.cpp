// MemoryBudget / MemoryAccount (src/ingest/memory_budget.hpp): admission of
// uploads by their floor, in order of arrival; one oversized upload still runs
// alone; grants grow only while nobody waits and shrink back when someone
// does; an account's death returns its bytes and grant. The last test drives
// several accounts the way UploadJob does and checks that neither `used` nor
// `reserved` ever passes the limit while every account finishes.
#include "ingest/memory_budget.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace sluice::ingest {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

TEST(MemoryBudgetTest, ReservesWhileTheFloorsFit) {
  MemoryBudget budget(40 * kMiB);
  EXPECT_TRUE(budget.TryReserve(16 * kMiB));
  EXPECT_TRUE(budget.TryReserve(16 * kMiB));
  EXPECT_FALSE(budget.TryReserve(16 * kMiB));  // 48 > 40
  EXPECT_TRUE(budget.TryReserve(8 * kMiB));    // exactly 40
  EXPECT_EQ(budget.reserved(), 40 * kMiB);
  EXPECT_FALSE(budget.TryReserve(1));
  budget.Release(16 * kMiB);
  EXPECT_EQ(budget.reserved(), 24 * kMiB);
  EXPECT_TRUE(budget.TryReserve(16 * kMiB));
}

TEST(MemoryBudgetTest, AFloorLargerThanTheLimitRunsAlone) {
  MemoryBudget budget(8 * kMiB);
  EXPECT_TRUE(budget.TryReserve(20 * kMiB));  // nothing else holds a grant: it must be able to run
  EXPECT_FALSE(budget.TryReserve(1 * kMiB));
  int admitted = 0;
  budget.Reserve(20 * kMiB, [&] { ++admitted; });
  EXPECT_EQ(admitted, 0);
  budget.Release(20 * kMiB);
  EXPECT_EQ(admitted, 1);  // alone again
  EXPECT_EQ(budget.reserved(), 20 * kMiB);
}

TEST(MemoryBudgetTest, WaitersAreAdmittedInOrderOfArrival) {
  MemoryBudget budget(40 * kMiB);
  ASSERT_TRUE(budget.TryReserve(30 * kMiB));
  std::vector<int> order;
  budget.Reserve(20 * kMiB, [&] { order.push_back(1); });
  budget.Reserve(5 * kMiB, [&] { order.push_back(2); });  // would fit now, but may not overtake
  EXPECT_TRUE(order.empty());
  EXPECT_FALSE(budget.TryReserve(5 * kMiB));  // nor may a newcomer
  EXPECT_EQ(budget.waiting(), 2u);
  budget.Release(30 * kMiB);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(budget.reserved(), 25 * kMiB);
  EXPECT_EQ(budget.waiting(), 0u);
}

TEST(MemoryBudgetTest, ReserveAdmitsAtOnceWhenItFits) {
  MemoryBudget budget(40 * kMiB);
  bool admitted = false;
  budget.Reserve(10 * kMiB, [&] { admitted = true; });
  EXPECT_TRUE(admitted);
  EXPECT_EQ(budget.reserved(), 10 * kMiB);
}

TEST(MemoryBudgetTest, ACancelledWaiterIsNeverAdmittedAndDoesNotBlockTheNext) {
  MemoryBudget budget(40 * kMiB);
  ASSERT_TRUE(budget.TryReserve(30 * kMiB));
  bool first = false, second = false;
  uint64_t ticket = budget.Reserve(30 * kMiB, [&] { first = true; });
  budget.Reserve(10 * kMiB, [&] { second = true; });
  EXPECT_TRUE(budget.Cancel(ticket));
  EXPECT_FALSE(budget.Cancel(ticket));
  EXPECT_TRUE(second);  // the head left: the next one fits beside the 30
  EXPECT_FALSE(first);
  budget.Release(30 * kMiB);
  EXPECT_FALSE(first);
  EXPECT_EQ(budget.reserved(), 10 * kMiB);
}

TEST(MemoryBudgetTest, GrowsOnlyIntoRoomNobodyWaitsFor) {
  MemoryBudget budget(40 * kMiB);
  ASSERT_TRUE(budget.TryReserve(20 * kMiB));
  EXPECT_TRUE(budget.TryGrow(10 * kMiB));
  EXPECT_FALSE(budget.TryGrow(20 * kMiB));  // past the limit
  budget.Reserve(20 * kMiB, [] {});
  EXPECT_FALSE(budget.TryGrow(4 * kMiB));   // someone waits: room is theirs
}

TEST(MemoryAccountTest, FitsWithinTheGrantAndGrowsUpToItsMaximum) {
  MemoryBudget budget(64 * kMiB);
  ASSERT_TRUE(budget.TryReserve(16 * kMiB));
  MemoryAccount account(&budget, 16 * kMiB, 32 * kMiB);
  EXPECT_EQ(account.grant(), 16 * kMiB);
  EXPECT_TRUE(account.Fits(16 * kMiB));
  account.Take(16 * kMiB);
  EXPECT_EQ(budget.used(), 16 * kMiB);
  EXPECT_TRUE(account.Fits(8 * kMiB));  // grows
  EXPECT_GE(account.grant(), 24 * kMiB);
  EXPECT_LE(account.grant(), 32 * kMiB);
  EXPECT_EQ(budget.reserved(), account.grant());
  account.Take(8 * kMiB);
  EXPECT_FALSE(account.Fits(9 * kMiB));  // 33 > its maximum
  EXPECT_LE(account.grant(), 32 * kMiB);
}

TEST(MemoryAccountTest, DoesNotGrowPastTheBudget) {
  MemoryBudget budget(24 * kMiB);
  ASSERT_TRUE(budget.TryReserve(16 * kMiB));
  MemoryAccount account(&budget, 16 * kMiB, 64 * kMiB);
  account.Take(16 * kMiB);
  EXPECT_TRUE(account.Fits(8 * kMiB));
  account.Take(8 * kMiB);
  EXPECT_FALSE(account.Fits(1));
  EXPECT_EQ(budget.reserved(), 24 * kMiB);
}

TEST(MemoryAccountTest, GivesItsExtraBackWhenAnUploadWaits) {
  MemoryBudget budget(40 * kMiB);
  ASSERT_TRUE(budget.TryReserve(16 * kMiB));
  MemoryAccount account(&budget, 16 * kMiB, 40 * kMiB);
  account.Take(20 * kMiB);
  ASSERT_TRUE(account.Fits(20 * kMiB));
  account.Take(20 * kMiB);
  ASSERT_EQ(account.grant(), 40 * kMiB);
  bool admitted = false;
  budget.Reserve(16 * kMiB, [&] { admitted = true; });
  EXPECT_FALSE(admitted);
  account.Give(20 * kMiB);  // holds 20 now: keeps 20 (≥ floor), gives 20 back
  EXPECT_TRUE(admitted);
  EXPECT_EQ(account.grant(), 20 * kMiB);
  EXPECT_EQ(budget.reserved(), 36 * kMiB);
  account.Give(20 * kMiB);  // never below the floor
  EXPECT_EQ(account.grant(), 16 * kMiB);
  EXPECT_EQ(budget.used(), 0u);
}

TEST(MemoryAccountTest, ShrinksAnIdleExtraEvenWhenNobodyWaits) {
  MemoryBudget budget(100 * kMiB);
  ASSERT_TRUE(budget.TryReserve(16 * kMiB));
  MemoryAccount account(&budget, 16 * kMiB, 80 * kMiB);
  ASSERT_TRUE(account.Fits(60 * kMiB));
  account.Take(60 * kMiB);
  account.Give(60 * kMiB);
  EXPECT_LE(account.grant(), 16 * kMiB + 2 * MemoryAccount::kStep);
  EXPECT_EQ(budget.reserved(), account.grant());
}

TEST(MemoryAccountTest, DyingReturnsWhatItHoldsAndItsGrant) {
  MemoryBudget budget(40 * kMiB);
  ASSERT_TRUE(budget.TryReserve(30 * kMiB));
  bool admitted = false;
  {
    MemoryAccount account(&budget, 30 * kMiB, 30 * kMiB);
    account.Take(12 * kMiB);
    budget.Reserve(30 * kMiB, [&] { admitted = true; });
    EXPECT_FALSE(admitted);
  }
  EXPECT_TRUE(admitted);
  EXPECT_EQ(budget.used(), 0u);
  EXPECT_EQ(budget.reserved(), 30 * kMiB);
}

TEST(MemoryAccountTest, WithoutABudgetTheGrantIsItsMaximum) {
  MemoryAccount account(nullptr, 16 * kMiB, 32 * kMiB);
  EXPECT_TRUE(account.Fits(32 * kMiB));
  account.Take(32 * kMiB);
  EXPECT_FALSE(account.Fits(1));
}

// Several uploads driven like UploadJob drives its account: admitted by their
// floor, each step takes a chunk only when it Fits (or, to make progress, when
// it holds nothing), then gives it back later. Every upload must finish, and
// neither figure may pass the limit at any point.
constexpr uint64_t kLimit = 48 * kMiB;  // two floors at once
constexpr uint64_t kFloor = 21 * kMiB;

TEST(MemoryAccountTest, ManyUploadsShareASmallBudgetAndAllFinish) {
  MemoryBudget budget(kLimit);
  struct Upload {
    std::unique_ptr<MemoryAccount> account;
    uint64_t left = 0;  // bytes still to move
    std::vector<uint64_t> chunks;
    bool admitted = false;
    bool done = false;
  };
  std::vector<Upload> uploads(8);
  for (std::size_t i = 0; i < uploads.size(); ++i) {
    uploads[i].left = (50 + 13 * i) * kMiB;
    budget.Reserve(kFloor, [&uploads, &budget, i] {
      uploads[i].admitted = true;
      uploads[i].account = std::make_unique<MemoryAccount>(&budget, kFloor, kFloor + 64 * kMiB);
    });
  }
  uint64_t max_used = 0, max_reserved = 0;
  for (int round = 0; round < 100000; ++round) {
    bool all_done = true;
    for (auto& u : uploads) {
      if (u.done) continue;
      all_done = false;
      if (!u.admitted) continue;
      MemoryAccount& a = *u.account;
      uint64_t chunk = (1 + round % 3) * kMiB;
      if (u.left > 0 && (a.held() == 0 || a.Fits(chunk))) {
        chunk = std::min(chunk, u.left);
        a.Take(chunk);
        u.chunks.push_back(chunk);
        u.left -= chunk;
      } else if (!u.chunks.empty()) {
        a.Give(u.chunks.front());
        u.chunks.erase(u.chunks.begin());
      }
      max_used = std::max(max_used, budget.used());
      max_reserved = std::max(max_reserved, budget.reserved());
      if (u.left == 0 && u.chunks.empty()) {
        u.done = true;
        u.account.reset();  // admits the next
      }
    }
    if (all_done) break;
  }
  for (const auto& u : uploads) EXPECT_TRUE(u.done);
  EXPECT_LE(max_used, kLimit);
  EXPECT_LE(max_reserved, kLimit);
  EXPECT_EQ(budget.used(), 0u);
  EXPECT_EQ(budget.reserved(), 0u);
}

}  // namespace
}  // namespace sluice::ingest
