// See request_limits.hpp.
#include "http/request_limits.hpp"

#include <fmt/format.h>

namespace sluice::http {

std::optional<LimitError> LimitTracker::Fail(LimitError error) {
  failed_ = std::move(error);
  return failed_;
}

std::optional<LimitError> LimitTracker::OnUrlBytes(uint64_t n) {
  if (failed_) return failed_;
  url_bytes_ += n;
  header_bytes_ += n;
  if (url_bytes_ > limits_.max_url_bytes) {
    return Fail({414, "uri_too_long",
                 fmt::format("the request target is longer than {} bytes", limits_.max_url_bytes)});
  }
  if (header_bytes_ > limits_.max_header_bytes) {
    return Fail({431, "headers_too_large",
                 fmt::format("the request head is larger than {} bytes", limits_.max_header_bytes)});
  }
  return std::nullopt;
}

std::optional<LimitError> LimitTracker::OnHeaderFieldStart() {
  if (failed_) return failed_;
  if (++header_count_ > limits_.max_headers) {
    return Fail({431, "headers_too_large",
                 fmt::format("the request has more than {} header fields", limits_.max_headers)});
  }
  return std::nullopt;
}

std::optional<LimitError> LimitTracker::OnHeaderBytes(uint64_t n) {
  if (failed_) return failed_;
  header_bytes_ += n;
  if (header_bytes_ > limits_.max_header_bytes) {
    return Fail({431, "headers_too_large",
                 fmt::format("the request head is larger than {} bytes", limits_.max_header_bytes)});
  }
  return std::nullopt;
}

std::optional<LimitError> LimitTracker::OnHeadersComplete(std::optional<uint64_t> content_length,
                                                          uint64_t body_limit) {
  if (failed_) return failed_;
  body_limit_ = body_limit;
  if (body_limit_ != 0 && content_length && *content_length > body_limit_) {
    return Fail({413, "body_too_large",
                 fmt::format("the request body of {} bytes is larger than the limit of {} bytes",
                             *content_length, body_limit_)});
  }
  return std::nullopt;
}

std::optional<LimitError> LimitTracker::OnBodyBytes(uint64_t n) {
  if (failed_) return failed_;
  body_bytes_ += n;
  if (body_limit_ != 0 && body_bytes_ > body_limit_) {
    return Fail({413, "body_too_large",
                 fmt::format("the request body is larger than the limit of {} bytes", body_limit_)});
  }
  return std::nullopt;
}

}  // namespace sluice::http
