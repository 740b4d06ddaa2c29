// See multipart_parser.hpp.
#include "http/multipart_parser.hpp"

#include <fmt/format.h>

#include "http/request.hpp"

namespace sluice::http {
namespace {

constexpr size_t kMaxHeaderBlock = 16 * 1024;
constexpr size_t kMaxParts = 1000;
constexpr size_t kMaxBoundaryPadding = 256;  ///< whitespace allowed after a boundary

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// Splits `a; b=c; d="e;f"` into the first value and its parameters
/// (names lower-cased, quoted values unquoted with \-escapes resolved).
std::pair<std::string, std::vector<std::pair<std::string, std::string>>> SplitParams(std::string_view value) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t semi = value.find(';');
  std::string first(Trim(value.substr(0, semi)));
  size_t pos = semi == std::string_view::npos ? value.size() : semi + 1;
  while (pos < value.size()) {
    while (pos < value.size() && (value[pos] == ' ' || value[pos] == '\t' || value[pos] == ';')) ++pos;
    size_t eq = value.find('=', pos);
    if (eq == std::string_view::npos) break;
    std::string name(Trim(value.substr(pos, eq - pos)));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    pos = eq + 1;
    std::string param;
    if (pos < value.size() && value[pos] == '"') {
      ++pos;
      while (pos < value.size() && value[pos] != '"') {
        if (value[pos] == '\\' && pos + 1 < value.size()) ++pos;
        param.push_back(value[pos++]);
      }
      ++pos;  // closing quote
    } else {
      size_t end = value.find(';', pos);
      param = std::string(Trim(value.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos)));
      pos = end == std::string_view::npos ? value.size() : end;
    }
    params.emplace_back(std::move(name), std::move(param));
  }
  return {first, params};
}

}  // namespace

std::optional<std::string> MultipartBoundary(std::string_view content_type) {
  auto [type, params] = SplitParams(content_type);
  if (!EqualsIgnoreCase(type, "multipart/form-data")) return std::nullopt;
  for (const auto& [name, value] : params) {
    if (name != "boundary") continue;
    if (value.empty() || value.size() > 70) return std::nullopt;  // RFC 2046: 1..70 characters
    return value;
  }
  return std::nullopt;
}

MultipartParser::MultipartParser(std::string boundary, Callbacks callbacks)
    : delimiter_("\r\n--" + boundary), callbacks_(std::move(callbacks)) {}

bool MultipartParser::Fail(std::string message) {
  state_ = State::kFailed;
  error_ = std::move(message);
  buffer_.clear();
  return false;
}

bool MultipartParser::Feed(std::string_view chunk) {
  if (state_ == State::kFailed) return false;
  if (buffer_.empty()) {
    size_t consumed = Process(chunk);
    if (state_ == State::kFailed) return false;
    buffer_.assign(chunk.substr(consumed));
  } else {
    buffer_.append(chunk);
    size_t consumed = Process(buffer_);
    if (state_ == State::kFailed) return false;
    buffer_.erase(0, consumed);
  }
  return true;
}

bool MultipartParser::Finish() {
  if (state_ == State::kFailed) return false;
  if (state_ != State::kEpilogue) {
    return Fail(state_ == State::kPreamble ? "the body holds no multipart boundary"
                                           : "the body ended before the closing multipart boundary");
  }
  return true;
}

size_t MultipartParser::Process(std::string_view data) {
  size_t pos = 0;
  while (true) {
    switch (state_) {
      case State::kPreamble: {
        // The first delimiter may start the body (no CRLF before it).
        std::string_view dash_boundary = std::string_view(delimiter_).substr(2);
        if (at_start_ && data.size() >= dash_boundary.size() && data.substr(0, dash_boundary.size()) == dash_boundary) {
          at_start_ = false;
          pos = dash_boundary.size();
          state_ = State::kAfterBoundary;
          break;
        }
        if (at_start_ && data.size() < dash_boundary.size() && dash_boundary.substr(0, data.size()) == data) {
          return 0;  // maybe the boundary, need more
        }
        at_start_ = false;
        size_t at = data.find(delimiter_, pos);
        if (at == std::string_view::npos) {
          // Keep a tail that could begin a delimiter; drop the rest of the preamble.
          size_t keep = std::min(data.size() - pos, delimiter_.size() - 1);
          return data.size() - keep;
        }
        pos = at + delimiter_.size();
        state_ = State::kAfterBoundary;
        break;
      }
      case State::kAfterBoundary: {
        if (data.size() - pos < 2) return pos;
        if (data.substr(pos, 2) == "--") {
          if (parts_ == 0) {
            Fail("the multipart body has no parts");
            return pos;
          }
          state_ = State::kEpilogue;
          return data.size();  // everything after the closing boundary is epilogue
        }
        // Whitespace may follow a boundary, up to 256 bytes — the same limit
        // whether the line end has arrived yet or not, so the answer never
        // depends on how the body was cut.
        size_t line_end = data.find("\r\n", pos);
        if (line_end == std::string_view::npos) {
          if (data.size() - pos > kMaxBoundaryPadding + 1) Fail("garbage after a multipart boundary");
          return pos;
        }
        if (line_end - pos > kMaxBoundaryPadding || !Trim(data.substr(pos, line_end - pos)).empty()) {
          Fail("garbage after a multipart boundary");
          return pos;
        }
        pos = line_end + 2;
        state_ = State::kHeaders;
        break;
      }
      case State::kHeaders: {
        size_t end = data.find("\r\n\r\n", pos);
        size_t block_start = pos;
        bool empty_block = data.substr(pos, 2) == "\r\n";  // a part with no headers at all
        if (empty_block) end = pos;
        if (end == std::string_view::npos) {
          // Up to 3 bytes of the CRLFCRLF may be here already: only past
          // them is the block certainly too big (as it is when whole).
          if (data.size() - pos > kMaxHeaderBlock + 3) Fail("a multipart part's headers are larger than 16 KiB");
          return pos;
        }
        if (end - block_start > kMaxHeaderBlock) {
          Fail("a multipart part's headers are larger than 16 KiB");
          return pos;
        }
        if (++parts_ > kMaxParts) {
          Fail("more than 1000 multipart parts");
          return pos;
        }
        PartHeaders headers;
        if (!ParseHeaders(data.substr(block_start, end - block_start), headers)) return pos;
        pos = end + (empty_block ? 2 : 4);
        state_ = State::kData;
        if (callbacks_.on_part_begin) callbacks_.on_part_begin(headers);
        break;
      }
      case State::kData: {
        size_t at = data.find(delimiter_, pos);
        if (at == std::string_view::npos) {
          // Emit all but a tail that could be the start of the delimiter.
          size_t keep = std::min(data.size() - pos, delimiter_.size() - 1);
          size_t emit_end = data.size() - keep;
          if (emit_end > pos && callbacks_.on_part_data) callbacks_.on_part_data(data.substr(pos, emit_end - pos));
          return emit_end;
        }
        if (at > pos && callbacks_.on_part_data) callbacks_.on_part_data(data.substr(pos, at - pos));
        if (callbacks_.on_part_end) callbacks_.on_part_end();
        pos = at + delimiter_.size();
        state_ = State::kAfterBoundary;
        break;
      }
      case State::kEpilogue:
        return data.size();
      case State::kFailed:
        return pos;
    }
  }
}

bool MultipartParser::ParseHeaders(std::string_view block, PartHeaders& out) {
  bool form_data = false;
  size_t pos = 0;
  while (pos < block.size()) {
    size_t end = block.find("\r\n", pos);
    if (end == std::string_view::npos) end = block.size();
    std::string_view line = block.substr(pos, end - pos);
    pos = end + 2;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Fail("a multipart part header has no ':'");
    std::string name(Trim(line.substr(0, colon)));
    std::string value(Trim(line.substr(colon + 1)));
    if (EqualsIgnoreCase(name, "Content-Disposition")) {
      auto [disposition, params] = SplitParams(value);
      form_data = EqualsIgnoreCase(disposition, "form-data");
      std::optional<std::string> extended_filename;
      for (const auto& [key, param] : params) {
        if (key == "name") out.name = param;
        if (key == "filename") out.filename = param;
        if (key == "filename*") {
          // RFC 5987: charset'lang'percent-encoded; only UTF-8 is meaningful here.
          size_t first = param.find('\'');
          size_t second = first == std::string::npos ? std::string::npos : param.find('\'', first + 1);
          std::string decoded;
          if (second != std::string::npos && PercentDecode(param.substr(second + 1), decoded, false)) {
            extended_filename = decoded;
          }
        }
      }
      if (extended_filename) out.filename = extended_filename;
    } else if (EqualsIgnoreCase(name, "Content-Type")) {
      out.content_type = value;
    }
    out.headers.emplace_back(std::move(name), std::move(value));
  }
  if (!form_data) return Fail("a multipart part has no Content-Disposition: form-data");
  return true;
}

}  // namespace sluice::http
