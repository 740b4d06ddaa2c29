// Helpers shared by the fuzz targets (tests/fuzz/fuzz_*.cpp): a reader that
// takes option bytes off the front of an input, a chunker that turns bytes of
// the input into the piece sizes a stream is fed in (so libFuzzer explores
// chunkings as it explores data, and a crash replays exactly), and a check
// macro that aborts — a broken invariant is a finding like a crash, under
// libFuzzer and in the replay driver alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

/// Aborts with the condition and a message when `cond` is false.
#define FUZZ_CHECK(cond, ...)                                                  \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                       \
      std::fprintf(stderr, "\n");                                              \
      std::abort();                                                            \
    }                                                                          \
  } while (0)

namespace sluice::fuzz {

/// Reads option bytes off the front of the input; the rest is the payload.
class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size)
      : text_(reinterpret_cast<const char*>(data), size) {}

  /// The next byte, or 0 when none is left.
  std::uint8_t Byte() {
    if (text_.empty()) return 0;
    auto b = static_cast<std::uint8_t>(text_.front());
    text_.remove_prefix(1);
    return b;
  }
  /// The next four bytes, little-endian (missing ones are 0).
  std::uint32_t U32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= std::uint32_t{Byte()} << (8 * i);
    return v;
  }
  /// Everything not taken yet.
  std::string_view Rest() const { return text_; }

 private:
  std::string_view text_;
};

/// Piece sizes for feeding `total` bytes, from a seed: sizes of 1 up to a
/// maximum the seed also picks (1, 2, 4 … 4096), so single bytes, odd splits
/// and big pieces all occur. The sizes add up to `total`.
inline std::vector<std::size_t> Pieces(std::uint32_t seed, std::size_t total) {
  std::vector<std::size_t> out;
  std::uint64_t x = seed | (std::uint64_t{seed} << 32) | 1;  // xorshift64, never 0
  const std::size_t max = std::size_t{1} << (seed % 13);
  std::size_t left = total;
  while (left > 0) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::size_t n = 1 + static_cast<std::size_t>(x % max);
    if (n > left) n = left;
    out.push_back(n);
    left -= n;
  }
  return out;
}

}  // namespace sluice::fuzz
