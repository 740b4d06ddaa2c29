// RequestLimits / LimitTracker: the size limits of one request, checked as its
// bytes arrive — URL length (414), header bytes and count (431), body size
// (413, known early from Content-Length or counted on a chunked body). Pure
// logic, so every boundary is unit-tested without a socket.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace sluice::http {

struct RequestLimits {
  uint32_t max_url_bytes = 8192;
  uint32_t max_header_bytes = 16384;   ///< request target + all header names and values
  uint32_t max_headers = 100;
  uint64_t max_body_bytes = 1 << 20;   ///< 0 = no limit
};

/// Why a request was refused: the HTTP status and API error code/message.
struct LimitError {
  int status = 0;              ///< 413, 414 or 431
  std::string code;            ///< "body_too_large", "uri_too_long", "headers_too_large"
  std::string message;
};

/// Tracks one request against the limits. Each On* returns the first
/// violation (and keeps returning it).
class LimitTracker {
 public:
  explicit LimitTracker(const RequestLimits& limits) : limits_(limits) {}

  std::optional<LimitError> OnUrlBytes(uint64_t n);
  std::optional<LimitError> OnHeaderFieldStart();
  std::optional<LimitError> OnHeaderBytes(uint64_t n);
  /// Called once headers are complete; `body_limit` is the route's limit
  /// (0 = none) and replaces the default for the body.
  std::optional<LimitError> OnHeadersComplete(std::optional<uint64_t> content_length, uint64_t body_limit);
  std::optional<LimitError> OnBodyBytes(uint64_t n);

  uint64_t body_bytes() const { return body_bytes_; }

 private:
  std::optional<LimitError> Fail(LimitError error);

  RequestLimits limits_;
  uint64_t url_bytes_ = 0;
  uint64_t header_bytes_ = 0;
  uint32_t header_count_ = 0;
  uint64_t body_bytes_ = 0;
  uint64_t body_limit_ = 0;
  std::optional<LimitError> failed_;
};

}  // namespace sluice::http
