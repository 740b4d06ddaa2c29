// TableEntryCache: entries come back until they are max_age old; Changed()
// forgets them all; a lookup that started before a change cannot put its
// (older) entry back; a full cache starts again rather than grow.
#include "db/table_cache.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

namespace sluice::db {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<const TableEntry> Entry(const std::string& name, std::uint64_t rows) {
  auto entry = std::make_shared<TableEntry>();
  entry->name = name;
  entry->row_count = rows;
  return entry;
}

class TableCacheTest : public ::testing::Test {
 protected:
  std::chrono::steady_clock::time_point now_{};
  TableEntryCache cache_{1000ms, [this] { return now_; }};
};

TEST_F(TableCacheTest, AnEntryIsKeptUntilItIsMaxAgeOld) {
  EXPECT_EQ(cache_.Find("t"), nullptr);
  cache_.Remember("t", Entry("t", 7), cache_.generation());
  ASSERT_NE(cache_.Find("t"), nullptr);
  EXPECT_EQ(cache_.Find("t")->row_count, 7u);
  EXPECT_EQ(cache_.Find("other"), nullptr);
  now_ += 999ms;
  EXPECT_NE(cache_.Find("t"), nullptr);
  now_ += 1ms;
  EXPECT_EQ(cache_.Find("t"), nullptr);  // read again from the catalog
  cache_.Remember("t", Entry("t", 8), cache_.generation());
  EXPECT_EQ(cache_.Find("t")->row_count, 8u);
}

TEST_F(TableCacheTest, ChangedForgetsEveryEntry) {
  cache_.Remember("a", Entry("a", 1), cache_.generation());
  cache_.Remember("b", Entry("b", 2), cache_.generation());
  cache_.Changed();
  EXPECT_EQ(cache_.Find("a"), nullptr);
  EXPECT_EQ(cache_.Find("b"), nullptr);
  EXPECT_EQ(cache_.size(), 0u);
}

TEST_F(TableCacheTest, ALookupThatStartedBeforeAChangeIsNotKept) {
  std::uint64_t before = cache_.generation();
  cache_.Changed();  // e.g. a publish finished while the lookup was on its way
  cache_.Remember("t", Entry("t", 1), before);
  EXPECT_EQ(cache_.Find("t"), nullptr);
  cache_.Remember("t", Entry("t", 2), cache_.generation());
  EXPECT_EQ(cache_.Find("t")->row_count, 2u);
}

TEST_F(TableCacheTest, AnEntryHandedOutOutlivesItsForgetting) {
  cache_.Remember("t", Entry("t", 3), cache_.generation());
  auto held = cache_.Find("t");
  cache_.Changed();
  EXPECT_EQ(held->row_count, 3u);  // a request in flight keeps what it read
}

TEST_F(TableCacheTest, AFullCacheStartsAgain) {
  for (int i = 0; i < 5000; ++i) cache_.Remember("t" + std::to_string(i), Entry("t", 1), cache_.generation());
  EXPECT_LE(cache_.size(), 4096u);
  EXPECT_NE(cache_.Find("t4999"), nullptr);
}

}  // namespace
}  // namespace sluice::db
