// Unit tests of PartBuffer: appends stop at the capacity, the view is what
// was written, a zero capacity is refused, and the mapping is resident only
// where written (RSS grows with the bytes, not with the capacity).
#include "s3/part_buffer.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace sluice::s3 {
namespace {

TEST(PartBuffer, AppendsUpToTheCapacity) {
  auto b = PartBuffer::Create(10);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->capacity(), 10u);
  EXPECT_EQ(b->Append("hello"), 5u);
  EXPECT_FALSE(b->full());
  EXPECT_EQ(b->Append(" world!"), 5u);  // only what fits
  EXPECT_TRUE(b->full());
  EXPECT_EQ(b->view(), "hello worl");
  EXPECT_EQ(b->Append("x"), 0u);
  EXPECT_EQ(b->size(), 10u);
}

TEST(PartBuffer, ZeroCapacityIsRefused) { EXPECT_EQ(PartBuffer::Create(0), nullptr); }

TEST(PartBuffer, OnlyWrittenPagesAreResident) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  auto b = PartBuffer::Create(64 << 20);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->Append(std::string(3 * page, 'x')), 3 * page);
  std::vector<unsigned char> resident((64 << 20) / page);
  ASSERT_EQ(mincore(const_cast<char*>(b->view().data()), 64 << 20, resident.data()), 0);
  size_t count = 0;
  for (unsigned char r : resident) count += (r & 1);
  EXPECT_EQ(count, 3u);
}

}  // namespace
}  // namespace sluice::s3
