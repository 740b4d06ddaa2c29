// Status: the one error value that crosses module boundaries. Each glue layer
// converts its library's codes at the boundary (uv, curl/S3, MariaDB) and keeps
// the original code and text; only http/error_response maps a Status to HTTP.
// No exceptions on the loop thread — errors travel as values.
#pragma once

#include <string>
#include <utility>

namespace sluice::core {

/// Where an error came from; decides how it is reported.
enum class ErrorDomain {
  kNone,      ///< success
  kInvalid,   ///< bad input from a user (parameter, conf value, file content)
  kNotFound,  ///< unknown upload, table, route
  kConflict,  ///< state conflict (table exists, duplicate upload)
  kLimit,     ///< a configured limit was hit
  kUv,        ///< libuv (code is a negative uv errno)
  kDb,        ///< MariaDB (code is mysql_errno)
  kS3,        ///< S3 / libcurl (code is the HTTP status or CURLcode)
  kInternal,  ///< a bug or an unexpected condition
};

/// An error with its domain, the library's own code and readable text.
class Status {
 public:
  Status() = default;
  Status(ErrorDomain domain, int code, std::string message)
      : domain_(domain), code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status Invalid(std::string message) { return {ErrorDomain::kInvalid, 0, std::move(message)}; }
  static Status Internal(std::string message) { return {ErrorDomain::kInternal, 0, std::move(message)}; }

  bool ok() const noexcept { return domain_ == ErrorDomain::kNone; }
  explicit operator bool() const noexcept { return ok(); }
  ErrorDomain domain() const noexcept { return domain_; }
  int code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

 private:
  ErrorDomain domain_ = ErrorDomain::kNone;
  int code_ = 0;
  std::string message_;
};

}  // namespace sluice::core
