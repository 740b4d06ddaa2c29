// See json_writer.hpp. WriteJsonString is on the hot path of every query
// answer (result_writer.cpp writes each text cell through it), so it works
// eight bytes at a time: a word with no byte that needs escaping (checked
// with the classic SWAR "has a byte less than / equal to" tricks, which are
// exact about whether any such byte exists) is copied as it is; only words
// holding such a byte are looked at byte by byte. It writes into room the
// caller made (MaxJsonStringSize), so there is no capacity check per byte.
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

/// Writes the escape of `c` (one kJsonEscape marks) at `dest`; returns the end.
char* WriteEscape(char* dest, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  char named = 0;
  switch (c) {
    case '"': named = '"'; break;
    case '\\': named = '\\'; break;
    case '\n': named = 'n'; break;
    case '\r': named = 'r'; break;
    case '\t': named = 't'; break;
    case '\b': named = 'b'; break;
    case '\f': named = 'f'; break;
    default: break;
  }
  dest[0] = '\\';
  if (named != 0) {
    dest[1] = named;
    return dest + 2;
  }
  dest[1] = 'u';
  dest[2] = '0';
  dest[3] = '0';
  dest[4] = kHex[c >> 4];
  dest[5] = kHex[c & 0xf];
  return dest + 6;
}

}  // namespace

char* WriteJsonString(char* dest, std::string_view text) {
  const char* data = text.data();
  const std::size_t size = text.size();
  *dest++ = '"';
  std::size_t i = 0;
  while (i < size) {
    if (size - i >= 8) {
      std::uint64_t word;
      std::memcpy(&word, data + i, 8);
      if (WordNeedsEscape(word) == 0) {  // the usual case: eight bytes as they are
        std::memcpy(dest, &word, 8);
        dest += 8;
        i += 8;
        continue;
      }
    }
    const std::size_t left = size - i;
    if (left < 8 && size >= 8) {
      // The tail: when the text's last eight bytes are all plain, the ones
      // before the tail among them went out as they are, so writing the eight
      // again, ending at the tail's end, rewrites those with themselves.
      std::uint64_t word;
      std::memcpy(&word, data + size - 8, 8);
      if (WordNeedsEscape(word) == 0) {
        std::memcpy(dest + left - 8, &word, 8);
        dest += left;
        break;
      }
    }
    const std::size_t stop = left >= 8 ? i + 8 : size;
    for (; i < stop; ++i) {
      auto c = static_cast<unsigned char>(data[i]);
      if (kJsonEscape[c] == 0) {
        *dest++ = static_cast<char>(c);
      } else {
        dest = WriteEscape(dest, c);
      }
    }
  }
  *dest++ = '"';
  return dest;
}

void AppendJsonString(std::string& out, std::string_view text) {
  const std::size_t old = out.size();
  out.resize(old + MaxJsonStringSize(text.size()));
  char* end = WriteJsonString(out.data() + old, text);
  out.resize(static_cast<std::size_t>(end - out.data()));
}

}  // namespace sluice::core
