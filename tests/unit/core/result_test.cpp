// Result<T>: value and error paths.
#include "core/result.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sluice::core {
namespace {

Result<int> Half(int n) {
  if (n % 2 != 0) return Status::Invalid("odd");
  return n / 2;
}

TEST(Result, HoldsValue) {
  auto r = Half(8);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 4);
}

TEST(Result, HoldsError) {
  auto r = Half(3);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().domain(), ErrorDomain::kInvalid);
  EXPECT_EQ(r.error().message(), "odd");
}

TEST(Result, MovesValueOut) {
  Result<std::string> r(std::string("abc"));
  std::string s = std::move(r).value();
  EXPECT_EQ(s, "abc");
}

}  // namespace
}  // namespace sluice::core
