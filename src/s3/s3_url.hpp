// S3 addressing: endpoint + bucket + key → the URL curl fetches, the Host
// header, and the decoded path the signer encodes. Pure (no I/O).
//
// Two styles exist. Virtual-hosted puts the bucket in the host name
// (`https://bucket.s3.eu-west-1.amazonaws.com/key`) and is AWS's default;
// path-style puts it first in the path (`http://127.0.0.1:45780/bucket/key`)
// and is what s3rver, RGW on loopback and anything addressed by IP need.
// Virtual-hosted is used only when asked for and possible: a DNS-compatible
// bucket name (no dots over https, where the wildcard certificate would not
// match) and an endpoint that is a name rather than an IP address.
//
// The key is URI-encoded once with S3's rules ('/' kept), by the same
// function the signer uses, so the bytes on the wire are the bytes signed.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"
#include "s3/sigv4.hpp"

namespace sluice::s3 {

/// A parsed S3 endpoint.
struct Endpoint {
  std::string scheme;  ///< "http" or "https"
  std::string host;    ///< name, IPv4, or bracketed IPv6 ("[::1]")
  int port = 0;        ///< 0 = the scheme's default

  /// host, plus ":port" when a port was given explicitly.
  std::string Authority() const;
  /// True when `host` is an IPv4/IPv6 literal or "localhost".
  bool HostIsAddress() const;
};

/// The endpoint AWS serves `region` from: https://s3.<region>.amazonaws.com
/// (amazonaws.com.cn for cn-* regions).
std::string AwsEndpointForRegion(std::string_view region);

/// Parses "http://127.0.0.1:45780", "https://s3.example.com", "host:9000"
/// (scheme defaults to https). Empty → AwsEndpointForRegion(region). A path,
/// query, fragment or user-info part is rejected.
core::Result<Endpoint> ParseEndpoint(std::string_view endpoint, std::string_view region);

/// True when `bucket` can be a DNS label set under the endpoint:
/// 3-63 chars of [a-z0-9.-], alphanumeric at both ends, no "..", and no '.'
/// at all when `https` (certificate wildcards cover one label).
bool IsVirtualHostableBucket(std::string_view bucket, bool https);

/// Where one S3 request goes.
struct S3Location {
  std::string url;   ///< scheme://host[:port]/encoded-path[?canonical-query]
  std::string host;  ///< the Host header (also signed)
  std::string path;  ///< decoded path, e.g. "/bucket/a b" (the signer encodes it)
  KeyValues query;   ///< decoded query parameters, as given
};

/// Builds locations for one endpoint and bucket.
class UrlBuilder {
 public:
  /// `path_style` false asks for virtual-hosted addressing, which falls back to
  /// path-style when the bucket or endpoint cannot take it.
  UrlBuilder(Endpoint endpoint, std::string bucket, bool path_style);

  /// The object `key` (may be empty for the bucket itself) with `query`.
  S3Location Object(std::string_view key, const KeyValues& query = {}) const;
  /// The bucket itself (HeadBucket, ListObjects, ...).
  S3Location Bucket(const KeyValues& query = {}) const { return Object("", query); }

  /// True when the bucket goes in the host name.
  bool virtual_hosted() const noexcept { return virtual_hosted_; }
  /// The parsed endpoint.
  const Endpoint& endpoint() const noexcept { return endpoint_; }
  /// The bucket name.
  const std::string& bucket() const noexcept { return bucket_; }

 private:
  Endpoint endpoint_;
  std::string bucket_;
  bool virtual_hosted_ = false;
};

}  // namespace sluice::s3
