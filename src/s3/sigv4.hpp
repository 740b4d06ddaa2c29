// SigV4: AWS Signature Version 4 for S3, as pure functions over strings.
//
// Every step the AWS documents describe is its own function, so the unit
// tests can check each one against the published vectors: URI encoding,
// canonical query string, canonical headers, canonical request, string to
// sign, signing key, signature, and the `Authorization` header. `Signer` ties
// them together for the two ways S3 accepts a signature: in headers (every
// request sluice sends) and in the query string (presigned URLs).
//
// S3-specific rules, which differ from the generic SigV4 test suite:
//  - the path is URI-encoded exactly once and never normalised ("//", "/./"
//    and "/../" are object-key bytes, not path syntax);
//  - a query parameter without a value is written `name=` (`uploads=`), which
//    curl 7.88's own --aws-sigv4 gets wrong;
//  - `x-amz-content-sha256` is sent and signed on every request.
//
// Time is injected (`std::chrono::sys_seconds`): nothing here reads a clock,
// touches a socket or knows about libuv. OpenSSL supplies SHA-256 and HMAC.
#pragma once

#include <openssl/types.h>

#include <array>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::s3 {

/// One header or query parameter; order is the caller's.
using KeyValue = std::pair<std::string, std::string>;
/// Headers or query parameters, in the caller's order.
using KeyValues = std::vector<KeyValue>;
/// A raw SHA-256 or HMAC-SHA256 value.
using Digest = std::array<unsigned char, 32>;

/// Hex SHA-256 of the empty string: the payload hash of a request without body.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// The payload hash of presigned URLs (and of bodies not hashed up front).
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
/// The only algorithm sluice signs with.
inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

/// An instant in the two forms SigV4 uses.
struct AmzDate {
  std::string date_time;  ///< "20130524T000000Z" (ISO 8601 basic, UTC)
  std::string date;       ///< "20130524", the credential-scope date
};

/// Formats `t` (UTC) for x-amz-date and the credential scope.
AmzDate FormatAmzDate(std::chrono::sys_seconds t);

/// Percent-encodes every byte except the RFC 3986 unreserved set
/// (A-Z a-z 0-9 - . _ ~), with upper-case hex; '/' is kept unless
/// `encode_slash`. This is S3's UriEncode(): used once for object-key paths
/// (encode_slash=false) and for query names and values (encode_slash=true).
std::string UriEncode(std::string_view in, bool encode_slash);

/// The canonical query string: names and values URI-encoded, pairs sorted by
/// encoded name then encoded value, joined with '&'; an empty value is `name=`.
std::string CanonicalQueryString(const KeyValues& params);

/// Canonical headers and the matching SignedHeaders list.
struct CanonicalHeaderSet {
  std::string canonical;       ///< "name:value\n" per header, sorted by name
  std::string signed_headers;  ///< "host;range;x-amz-date"
};

/// Lower-cases names, trims values and collapses runs of spaces to one, joins
/// repeated names with ',' (in the given order), and sorts by name.
CanonicalHeaderSet CanonicalizeHeaders(const KeyValues& headers);

/// The canonical request. `path` is the decoded path ("/bucket/a b"); it is
/// URI-encoded once here. `payload_hash` is hex SHA-256 or kUnsignedPayload.
std::string CanonicalRequest(std::string_view method, std::string_view path, const KeyValues& query,
                             const KeyValues& headers, std::string_view payload_hash);

/// "20130524/us-east-1/s3/aws4_request".
std::string CredentialScope(std::string_view date, std::string_view region, std::string_view service);

/// "AWS4-HMAC-SHA256\n<date_time>\n<scope>\n<hex sha256(canonical request)>".
std::string StringToSign(std::string_view date_time, std::string_view scope, std::string_view canonical_request);

/// HMAC-SHA256 chain: "AWS4"+secret → date → region → service → "aws4_request".
Digest SigningKey(std::string_view secret_key, std::string_view date, std::string_view region,
                  std::string_view service);

/// HMAC-SHA256(key, data).
Digest HmacSha256(std::span<const unsigned char> key, std::string_view data);

/// Lower-case hex of `bytes`.
std::string HexEncode(std::span<const unsigned char> bytes);

/// Hex SHA-256 of `data` (one shot). Large buffers belong on a worker thread.
std::string Sha256Hex(std::string_view data);

/// Incremental SHA-256 (OpenSSL EVP) for payloads that arrive in pieces.
/// Move-only. Update() any number of times, then Final() once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  /// Feeds more bytes.
  void Update(std::string_view data);
  /// Finishes and returns the digest; the object must not be updated after.
  Digest Final();
  /// Finishes and returns the lower-case hex digest.
  std::string FinalHex();

 private:
  struct CtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const noexcept;
  };
  std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx_;
};

/// The keys a request is signed with. Secrets: never log them.
struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  ///< empty unless temporary (STS) credentials
};

/// A request as it goes on the wire, before signing.
struct RequestToSign {
  std::string method;        ///< "GET", "PUT", ...
  std::string path;          ///< decoded path, e.g. "/bucket/my key"
  KeyValues query;           ///< decoded names and values; "" value = `name=`
  KeyValues headers;         ///< must include "host"; any others to sign
  std::string payload_hash;  ///< hex SHA-256 of the body, or kUnsignedPayload
};

/// Every intermediate of a header signature (for tests and debugging) and the
/// headers to send.
struct HeaderSignature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;
  std::string signature;      ///< hex
  std::string authorization;  ///< the Authorization header's value
  /// The request's headers followed by x-amz-date, x-amz-content-sha256,
  /// x-amz-security-token (with a session token) and authorization.
  KeyValues headers;
};

/// A presigned request: the query string to append after '?'.
struct QuerySignature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;     ///< hex
  std::string query_string;  ///< canonical query + "&X-Amz-Signature=<hex>"
};

/// Signs S3 requests for one set of credentials, region and service.
class Signer {
 public:
  Signer(Credentials credentials, std::string region, std::string service = "s3");

  /// Header-based signing (sig-v4-header-based-auth). Adds and signs
  /// x-amz-date, x-amz-content-sha256 (unless `add_content_sha256` is false,
  /// for non-S3 services) and x-amz-security-token; caller-given copies of
  /// those are replaced.
  HeaderSignature Sign(const RequestToSign& request, std::chrono::sys_seconds now,
                       bool add_content_sha256 = true) const;

  /// Query-string signing (sigv4-query-string-auth): X-Amz-Algorithm,
  /// -Credential, -Date, -Expires, -SignedHeaders (host) and, with a session
  /// token, -Security-Token join `query`; the payload is UNSIGNED-PAYLOAD.
  QuerySignature Presign(std::string_view method, std::string_view host, std::string_view path,
                         const KeyValues& query, std::chrono::seconds expires,
                         std::chrono::sys_seconds now) const;

  /// The region in the credential scope.
  const std::string& region() const noexcept { return region_; }
  /// The access key id (not secret; it is in every Authorization header).
  const std::string& access_key() const noexcept { return credentials_.access_key; }

 private:
  Credentials credentials_;
  std::string region_;
  std::string service_;
};

}  // namespace sluice::s3
