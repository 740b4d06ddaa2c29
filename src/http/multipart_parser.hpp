// MultipartParser: a streaming multipart/form-data parser (RFC 7578 / RFC
// 2046 §5.1) for file uploads. Fed the request body in chunks of any size, it
// reports each part's headers, then its bytes as they arrive, then its end —
// never holding more than one chunk plus a boundary's length, so a 2 GB file
// part streams through in flat memory. Pure code: no sockets, no loop.
//
// Accepted: CRLF line ends (what browsers and curl send), a preamble before
// the first boundary and an epilogue after the last, whitespace after a
// boundary, quoted or token parameters, filename*=UTF-8''… (RFC 5987).
// Refused with an error: a body that ends before the closing boundary, a part
// header block over 16 KiB, more than 1000 parts, a missing
// Content-Disposition: form-data.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::http {

/// The boundary parameter of a multipart/form-data Content-Type, or nullopt
/// when the type is not multipart/form-data or the boundary is missing/invalid.
std::optional<std::string> MultipartBoundary(std::string_view content_type);

struct PartHeaders {
  std::string name;                     ///< form field name
  std::optional<std::string> filename;  ///< set for file parts
  std::string content_type;             ///< "" when absent
  std::vector<std::pair<std::string, std::string>> headers;
};

class MultipartParser {
 public:
  struct Callbacks {
    std::function<void(const PartHeaders&)> on_part_begin;
    std::function<void(std::string_view)> on_part_data;
    std::function<void()> on_part_end;
  };

  MultipartParser(std::string boundary, Callbacks callbacks);

  /// Parses the next chunk. False on malformed input (see error()); the
  /// parser then refuses everything else.
  bool Feed(std::string_view chunk);
  /// The body ended: false unless the closing boundary was seen.
  bool Finish();

  const std::string& error() const { return error_; }
  bool done() const { return state_ == State::kEpilogue; }

 private:
  enum class State { kPreamble, kAfterBoundary, kHeaders, kData, kEpilogue, kFailed };
  size_t Process(std::string_view data);  ///< returns the bytes consumed
  bool Fail(std::string message);
  bool ParseHeaders(std::string_view block, PartHeaders& out);

  std::string delimiter_;       ///< "\r\n--" + boundary
  Callbacks callbacks_;
  State state_ = State::kPreamble;
  bool at_start_ = true;        ///< nothing consumed yet: the first boundary needs no CRLF
  std::string buffer_;          ///< bytes fed but not consumed yet
  size_t parts_ = 0;
  std::string error_;
};

}  // namespace sluice::http
