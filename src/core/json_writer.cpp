// See json_writer.hpp. AppendJsonString is on the hot path of every query
// answer (result_writer.cpp writes each text cell through it), so it scans
// eight bytes at a time: a word with no byte that needs escaping (checked
// with the classic SWAR "has a byte less than / equal to" tricks, which are
// exact about whether any such byte exists) is part of a run that is later
// appended whole; only words holding such a byte are looked at byte by byte.
#include "core/json_writer.hpp"

#include <array>
#include <cstdint>
#include <cstring>

namespace sluice::core {
namespace {

/// 1 for the bytes a JSON string must escape: control characters (< 0x20),
/// DEL (0x7f), `"` and `\`. Everything else, UTF-8 included, passes through.
constexpr auto kJsonEscape = [] {
  std::array<unsigned char, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = 1;
  table[0x7f] = 1;
  table['"'] = 1;
  table['\\'] = 1;
  return table;
}();

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

/// Non-zero when some byte of `word` is zero.
constexpr std::uint64_t HasZeroByte(std::uint64_t word) { return (word - kOnes) & ~word & kHighBits; }

/// Non-zero when some byte of `word` is one kJsonEscape marks.
constexpr std::uint64_t WordNeedsEscape(std::uint64_t word) {
  std::uint64_t below_space = (word - kOnes * 0x20) & ~word & kHighBits;  // a byte < 0x20
  return below_space | HasZeroByte(word ^ (kOnes * '"')) | HasZeroByte(word ^ (kOnes * '\\')) |
         HasZeroByte(word ^ (kOnes * 0x7f));
}

void AppendEscape(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (c) {
    case '"': out.append("\\\"", 2); return;
    case '\\': out.append("\\\\", 2); return;
    case '\n': out.append("\\n", 2); return;
    case '\r': out.append("\\r", 2); return;
    case '\t': out.append("\\t", 2); return;
    case '\b': out.append("\\b", 2); return;
    case '\f': out.append("\\f", 2); return;
    default: {
      const char escape[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      out.append(escape, 6);
    }
  }
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  const char* data = text.data();
  const std::size_t size = text.size();
  out.push_back('"');
  std::size_t run = 0;  // start of the bytes not yet appended
  std::size_t i = 0;
  while (i < size) {
    if (size - i >= 8) {
      std::uint64_t word;
      std::memcpy(&word, data + i, 8);
      if (WordNeedsEscape(word) == 0) {
        i += 8;
        continue;
      }
    }
    const std::size_t stop = size - i >= 8 ? i + 8 : size;
    for (; i < stop; ++i) {
      auto c = static_cast<unsigned char>(data[i]);
      if (kJsonEscape[c] == 0) continue;
      out.append(data + run, i - run);
      AppendEscape(out, c);
      run = i + 1;
    }
  }
  out.append(data + run, size - run);
  out.push_back('"');
}

}  // namespace sluice::core
