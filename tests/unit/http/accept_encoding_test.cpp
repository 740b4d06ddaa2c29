// AcceptsGzip: which Accept-Encoding headers allow a gzip answer.
#include "http/accept_encoding.hpp"

#include <gtest/gtest.h>

namespace sluice::http {
namespace {

TEST(AcceptEncoding, GzipListedAllows) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("gzip, deflate, br"));
  EXPECT_TRUE(AcceptsGzip("br;q=1.0, GZIP;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("x-gzip"));
  EXPECT_TRUE(AcceptsGzip("deflate,  gzip ;q=0.01"));
}

TEST(AcceptEncoding, AbsentOrRefusedDoesNot) {
  EXPECT_FALSE(AcceptsGzip(std::nullopt));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip("br, deflate"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0.000"));
  EXPECT_FALSE(AcceptsGzip("gzipped"));
}

}  // namespace
}  // namespace sluice::http
