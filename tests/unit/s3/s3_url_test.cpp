// S3 addressing: endpoint parsing, the virtual-hosted / path-style choice,
// and URLs whose keys are encoded exactly once.
#include "s3/s3_url.hpp"

#include <gtest/gtest.h>

namespace sluice::s3 {
namespace {

Endpoint MustParse(std::string_view text, std::string_view region = "us-east-1") {
  auto ep = ParseEndpoint(text, region);
  EXPECT_TRUE(ep.has_value()) << text << ": " << (ep ? "" : ep.error().message());
  return ep ? *ep : Endpoint{};
}

TEST(S3Url, ParsesLoopbackEndpoint) {
  const Endpoint ep = MustParse("http://127.0.0.1:45780");
  EXPECT_EQ(ep.scheme, "http");
  EXPECT_EQ(ep.host, "127.0.0.1");
  EXPECT_EQ(ep.port, 45780);
  EXPECT_EQ(ep.Authority(), "127.0.0.1:45780");
  EXPECT_TRUE(ep.HostIsAddress());
}

TEST(S3Url, ParsesOtherForms) {
  Endpoint ep = MustParse("HTTPS://S3.Example.COM/");
  EXPECT_EQ(ep.scheme, "https");
  EXPECT_EQ(ep.host, "s3.example.com");
  EXPECT_EQ(ep.port, 0);
  EXPECT_EQ(ep.Authority(), "s3.example.com");
  EXPECT_FALSE(ep.HostIsAddress());

  ep = MustParse("minio.local:9000");  // no scheme: https
  EXPECT_EQ(ep.scheme, "https");
  EXPECT_EQ(ep.Authority(), "minio.local:9000");

  ep = MustParse("http://[::1]:9000");
  EXPECT_EQ(ep.host, "[::1]");
  EXPECT_EQ(ep.port, 9000);
  EXPECT_EQ(ep.Authority(), "[::1]:9000");
  EXPECT_TRUE(ep.HostIsAddress());

  EXPECT_TRUE(MustParse("http://localhost:1").HostIsAddress());
  EXPECT_EQ(MustParse("http://s3_server:9000").Authority(), "s3_server:9000");  // container names
}

TEST(S3Url, EmptyEndpointIsAwsForTheRegion) {
  EXPECT_EQ(AwsEndpointForRegion("eu-west-1"), "https://s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(AwsEndpointForRegion("cn-north-1"), "https://s3.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(AwsEndpointForRegion(""), "https://s3.us-east-1.amazonaws.com");
  const Endpoint ep = MustParse("", "ap-southeast-2");
  EXPECT_EQ(ep.scheme, "https");
  EXPECT_EQ(ep.host, "s3.ap-southeast-2.amazonaws.com");
  EXPECT_EQ(ep.port, 0);
}

TEST(S3Url, RejectsBadEndpoints) {
  for (const char* bad : {"ftp://h", "http://h/path", "http://h?x=1", "http://user@h", "http://", "http://h:",
                          "http://h:0", "http://h:65536", "http://h:12ab", "http://[::1", "http://[::1]x",
                          "http://h h", "http://h%41"}) {
    auto ep = ParseEndpoint(bad, "us-east-1");
    EXPECT_FALSE(ep.has_value()) << bad;
    if (!ep) {
      EXPECT_EQ(ep.error().domain(), core::ErrorDomain::kInvalid);
    }
  }
}

TEST(S3Url, VirtualHostableBuckets) {
  EXPECT_TRUE(IsVirtualHostableBucket("examplebucket", true));
  EXPECT_TRUE(IsVirtualHostableBucket("my-bucket-01", true));
  EXPECT_TRUE(IsVirtualHostableBucket("my.bucket", false));
  EXPECT_FALSE(IsVirtualHostableBucket("my.bucket", true));  // the *.s3 certificate covers one label
  EXPECT_FALSE(IsVirtualHostableBucket("ab", false));
  EXPECT_FALSE(IsVirtualHostableBucket(std::string(64, 'a'), false));
  EXPECT_FALSE(IsVirtualHostableBucket("Upper", false));
  EXPECT_FALSE(IsVirtualHostableBucket("-abc", false));
  EXPECT_FALSE(IsVirtualHostableBucket("abc-", false));
  EXPECT_FALSE(IsVirtualHostableBucket("a..b", false));
  EXPECT_FALSE(IsVirtualHostableBucket("under_score", false));
  EXPECT_FALSE(IsVirtualHostableBucket("192.168.1.1", false));
}

TEST(S3Url, PathStyleObjectUrl) {
  const UrlBuilder urls(MustParse("http://127.0.0.1:45780"), "sluice", /*path_style=*/true);
  EXPECT_FALSE(urls.virtual_hosted());
  const S3Location loc = urls.Object("dir/a b+c$.csv");
  EXPECT_EQ(loc.url, "http://127.0.0.1:45780/sluice/dir/a%20b%2Bc%24.csv");
  EXPECT_EQ(loc.host, "127.0.0.1:45780");
  EXPECT_EQ(loc.path, "/sluice/dir/a b+c$.csv");  // decoded: the signer encodes it the same way
  EXPECT_TRUE(loc.query.empty());

  const S3Location bucket = urls.Bucket();
  EXPECT_EQ(bucket.url, "http://127.0.0.1:45780/sluice");
  EXPECT_EQ(bucket.path, "/sluice");
}

TEST(S3Url, VirtualHostedObjectUrl) {
  const UrlBuilder urls(MustParse("", "eu-west-1"), "logs", /*path_style=*/false);
  EXPECT_TRUE(urls.virtual_hosted());
  const S3Location loc = urls.Object("2024/x.csv");
  EXPECT_EQ(loc.url, "https://logs.s3.eu-west-1.amazonaws.com/2024/x.csv");
  EXPECT_EQ(loc.host, "logs.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(loc.path, "/2024/x.csv");
  const S3Location bucket = urls.Bucket();
  EXPECT_EQ(bucket.url, "https://logs.s3.eu-west-1.amazonaws.com/");
  EXPECT_EQ(bucket.path, "/");
}

TEST(S3Url, VirtualHostedFallsBackToPathStyle) {
  // An IP endpoint cannot take a bucket label; nor can a dotted bucket over https.
  EXPECT_FALSE(UrlBuilder(MustParse("http://127.0.0.1:9000"), "sluice", false).virtual_hosted());
  EXPECT_FALSE(UrlBuilder(MustParse("https://s3.example.com"), "a.b.c", false).virtual_hosted());
  const UrlBuilder dotted(MustParse("http://s3.example.com:8080"), "a.b.c", false);
  EXPECT_TRUE(dotted.virtual_hosted());
  EXPECT_EQ(dotted.Object("k").url, "http://a.b.c.s3.example.com:8080/k");
  EXPECT_EQ(dotted.Object("k").host, "a.b.c.s3.example.com:8080");
}

TEST(S3Url, QueryParameters) {
  const UrlBuilder urls(MustParse("http://127.0.0.1:45780"), "sluice", true);
  EXPECT_EQ(urls.Object("k", {{"uploads", ""}}).url, "http://127.0.0.1:45780/sluice/k?uploads=");
  const S3Location part = urls.Object("k", {{"uploadId", "a/b+c"}, {"partNumber", "3"}});
  EXPECT_EQ(part.url, "http://127.0.0.1:45780/sluice/k?partNumber=3&uploadId=a%2Fb%2Bc");
  ASSERT_EQ(part.query.size(), 2u);
  EXPECT_EQ(part.query[0], (KeyValue{"uploadId", "a/b+c"}));  // as given: decoded
}

TEST(S3Url, KeysAreBytesNotPaths) {
  const UrlBuilder urls(MustParse("http://127.0.0.1:45780"), "sluice", true);
  const S3Location loc = urls.Object("a//./../b/%41");
  EXPECT_EQ(loc.path, "/sluice/a//./../b/%41");
  EXPECT_EQ(loc.url, "http://127.0.0.1:45780/sluice/a//./../b/%2541");
}

}  // namespace
}  // namespace sluice::s3
