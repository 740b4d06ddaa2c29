// LimitTracker: each limit at, just under and just over its boundary, and the
// status/code each violation maps to.
#include "http/request_limits.hpp"

#include <gtest/gtest.h>

namespace sluice::http {
namespace {

RequestLimits Small() {
  RequestLimits limits;
  limits.max_url_bytes = 10;
  limits.max_header_bytes = 30;
  limits.max_headers = 2;
  limits.max_body_bytes = 100;
  return limits;
}

TEST(LimitTracker, UrlAtLimitPassesOverLimitIs414) {
  LimitTracker ok(Small());
  EXPECT_FALSE(ok.OnUrlBytes(4));
  EXPECT_FALSE(ok.OnUrlBytes(6));  // exactly 10
  LimitTracker over(Small());
  EXPECT_FALSE(over.OnUrlBytes(10));
  auto error = over.OnUrlBytes(1);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->status, 414);
  EXPECT_EQ(error->code, "uri_too_long");
}

TEST(LimitTracker, HeaderBytesIncludeTheUrl) {
  LimitTracker tracker(Small());
  EXPECT_FALSE(tracker.OnUrlBytes(10));
  EXPECT_FALSE(tracker.OnHeaderBytes(20));  // 30 in all
  auto error = tracker.OnHeaderBytes(1);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->status, 431);
  EXPECT_EQ(error->code, "headers_too_large");
}

TEST(LimitTracker, HeaderCountOverLimitIs431) {
  LimitTracker tracker(Small());
  EXPECT_FALSE(tracker.OnHeaderFieldStart());
  EXPECT_FALSE(tracker.OnHeaderFieldStart());
  auto error = tracker.OnHeaderFieldStart();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->status, 431);
  EXPECT_NE(error->message.find("2 header fields"), std::string::npos);
}

TEST(LimitTracker, ContentLengthOverRouteLimitIs413Early) {
  LimitTracker tracker(Small());
  auto error = tracker.OnHeadersComplete(101, 100);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->status, 413);
  EXPECT_EQ(error->code, "body_too_large");
  LimitTracker at(Small());
  EXPECT_FALSE(at.OnHeadersComplete(100, 100));
}

TEST(LimitTracker, ChunkedBodyIsCountedAsItArrives) {
  LimitTracker tracker(Small());
  ASSERT_FALSE(tracker.OnHeadersComplete(std::nullopt, 100));
  EXPECT_FALSE(tracker.OnBodyBytes(60));
  EXPECT_FALSE(tracker.OnBodyBytes(40));
  EXPECT_EQ(tracker.body_bytes(), 100u);
  auto error = tracker.OnBodyBytes(1);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->status, 413);
}

TEST(LimitTracker, ZeroRouteLimitMeansUnlimited) {
  LimitTracker tracker(Small());
  EXPECT_FALSE(tracker.OnHeadersComplete(uint64_t{1} << 40, 0));
  EXPECT_FALSE(tracker.OnBodyBytes(uint64_t{1} << 40));
}

TEST(LimitTracker, FirstViolationSticks) {
  LimitTracker tracker(Small());
  ASSERT_TRUE(tracker.OnUrlBytes(11));
  auto later = tracker.OnHeaderBytes(1);
  ASSERT_TRUE(later);
  EXPECT_EQ(later->status, 414);
}

}  // namespace
}  // namespace sluice::http
