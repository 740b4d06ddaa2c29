// BlockSplitter: the stream → blocks cut, 64 bytes at a time.
//
// For each 64-byte window, SSE2 compares give one bit mask per interesting
// byte (quote, delimiter, LF, CR). The quote state is then resolved by walking
// only the quote bits: outside quotes a quote opens a quoted field iff it
// starts a field (the byte before is a delimiter or line end, or the block
// starts) or directly follows a closing quote (the second quote of `""`);
// inside quotes any quote closes. That yields the mask of bytes inside quotes,
// and from it the row ends (LF, or CR not followed by LF, outside quotes), the
// non-blank rows (row ends whose line holds at least one byte) and the line
// ends (everywhere). Carries between windows are single bits (ScanState).
//
// A window is scanned only when the byte after it is there (or the stream has
// ended), so whether a CR is followed by LF is always known: a CRLF split over
// two Feed() calls is one line end. The scan stops at the first row end at or
// past target_bytes, cuts the block there and starts over on the rest with a
// fresh state, since a row boundary is always outside quotes at a field start.
#include "csv/splitter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "csv/encoding.hpp"

namespace sluice::csv {
namespace {

using ScanState = BlockSplitter::ScanState;

/// Bytes appended to the buffer per step past the target, so a huge chunk is
/// cut without copying its tail again and again.
constexpr std::size_t kSlice = std::size_t{64} << 10;

struct Masks {
  std::uint64_t quote;
  std::uint64_t delim;
  std::uint64_t lf;
  std::uint64_t cr;
};

#if defined(__SSE2__)
inline std::uint64_t Match(const __m128i (&v)[4], __m128i c) {
  const auto m0 = static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v[0], c)));
  const auto m1 = static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v[1], c)));
  const auto m2 = static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v[2], c)));
  const auto m3 = static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v[3], c)));
  return std::uint64_t{m0} | (std::uint64_t{m1} << 16) | (std::uint64_t{m2} << 32) |
         (std::uint64_t{m3} << 48);
}

inline Masks Classify(const char* p, char delimiter, char quote) {
  const __m128i v[4] = {
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 32)),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 48)),
  };
  return Masks{Match(v, _mm_set1_epi8(quote)), Match(v, _mm_set1_epi8(delimiter)),
               Match(v, _mm_set1_epi8('\n')), Match(v, _mm_set1_epi8('\r'))};
}
#else
inline Masks Classify(const char* p, char delimiter, char quote) {
  Masks m{0, 0, 0, 0};
  for (int i = 0; i < 64; ++i) {
    const std::uint64_t bit = std::uint64_t{1} << i;
    m.quote |= (p[i] == quote) ? bit : 0;
    m.delim |= (p[i] == delimiter) ? bit : 0;
    m.lf |= (p[i] == '\n') ? bit : 0;
    m.cr |= (p[i] == '\r') ? bit : 0;
  }
  return m;
}
#endif

/// Bits [from, to) set; 0 <= from <= to <= 63.
inline std::uint64_t Range(int from, int to) {
  return ((std::uint64_t{1} << to) - 1) & ~((std::uint64_t{1} << from) - 1);
}

/// Bits [0, i] set.
inline std::uint64_t UpTo(int i) { return i == 63 ? ~std::uint64_t{0} : (std::uint64_t{2} << i) - 1; }

/// Set bits of x. Inline SWAR: baseline x86-64 has no POPCNT, and
/// std::popcount would be a libgcc call.
inline std::uint64_t Count(std::uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
  return (x * 0x0101010101010101ull) >> 56;
}

/// Bit i = parity of the bits [0, i] of x.
inline std::uint64_t PrefixXor(std::uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

struct WindowResult {
  std::uint64_t row_ends;  // line ends outside quotes
  std::uint64_t records;   // row ends of non-blank rows
  std::uint64_t lines;     // line ends anywhere
};

/// Resolves one window. `valid` masks the real bytes (all but in the last,
/// padded window); `lf_after` says whether the byte after the window is LF.
inline WindowResult ScanWindow(const Masks& m, std::uint64_t valid, bool lf_after, ScanState& st) {
  const std::uint64_t quotes = m.quote & valid;
  const std::uint64_t seps = (m.delim | m.lf | m.cr) & valid;
  const std::uint64_t starts = (seps << 1) | st.field_start;
  std::uint64_t inside;  // bytes inside quotes: an opening quote up to its closing one (excluded)
  bool in_quote;
  bool closed_last;  // a quote closed at bit 63
  // Fast path: take every quote as a toggle (RFC 4180). That is our rule too
  // as long as each quote that opens starts a field or directly follows a
  // closing quote (`""`); a literal quote elsewhere (`5'11"`) takes the loop.
  std::uint64_t toggled = PrefixXor(quotes);
  if (st.in_quote) toggled = ~toggled;
  const std::uint64_t opens = quotes & toggled;
  const std::uint64_t closes = quotes & ~toggled;
  if ((opens & ~(starts | (closes << 1) | st.reopen)) == 0) {
    inside = toggled;
    in_quote = (toggled >> 63) != 0;
    closed_last = (closes >> 63) != 0;
  } else {
    std::uint64_t rest = quotes;
    std::uint64_t reopen = st.reopen;
    inside = 0;
    in_quote = st.in_quote;
    closed_last = false;
    int open = 0;
    while (rest != 0) {
      const std::uint64_t bit = rest & (~rest + 1);
      rest ^= bit;
      const int i = std::countr_zero(bit);
      if (in_quote) {
        inside |= Range(open, i);
        in_quote = false;
        reopen = bit << 1;  // 0 when i == 63: carried in st.reopen
        closed_last = (i == 63);
      } else if (((starts | reopen) & bit) != 0) {
        in_quote = true;
        open = i;
        closed_last = false;
      }
    }
    if (in_quote) inside |= ~std::uint64_t{0} << open;
  }

  const std::uint64_t lf = m.lf & valid;
  const std::uint64_t cr = m.cr & valid;
  const std::uint64_t lf_next = (lf >> 1) | (std::uint64_t{lf_after} << 63);
  const std::uint64_t line_ends = lf | (cr & ~lf_next);
  const std::uint64_t outside = ~inside & valid;
  const std::uint64_t row_ends = line_ends & outside;
  const std::uint64_t eol = (lf | cr) & outside;
  const std::uint64_t crlf_cr = cr & lf_next & outside;
  const std::uint64_t crlf_lf = (crlf_cr << 1) | st.crlf;
  const std::uint64_t prev1 = (eol << 1) | st.eol1;
  const std::uint64_t prev2 = (eol << 2) | st.eol2;
  const std::uint64_t blank = row_ends & ((prev1 & ~crlf_lf) | (prev2 & crlf_lf));

  st.in_quote = in_quote;
  st.reopen = closed_last ? 1 : 0;
  st.field_start = (seps & outside) >> 63;
  st.eol1 = eol >> 63;
  st.eol2 = eol >> 62;
  st.crlf = crlf_cr >> 63;
  return WindowResult{row_ends, row_ends & ~blank, line_ends};
}

}  // namespace

BlockSplitter::BlockSplitter(const Dialect& dialect, SplitterOptions options)
    : dialect_(dialect), options_(options) {
  options_.target_bytes = std::max<std::size_t>(options_.target_bytes, 1);
  bom_pending_ = options_.strip_bom;
  buf_.reserve(options_.target_bytes + kSlice + 64);
}

core::Status BlockSplitter::Feed(std::string_view chunk, std::vector<Block>& out) {
  if (!failed_.ok()) return failed_;
  if (finished_) return core::Status::Internal("BlockSplitter::Feed after Finish");
  while (!chunk.empty()) {
    const std::size_t room = buf_.size() < options_.target_bytes
                                 ? options_.target_bytes - buf_.size() + kSlice
                                 : kSlice;
    const std::size_t take = std::min(room, chunk.size());
    buf_.append(chunk.data(), take);
    chunk.remove_prefix(take);
    bytes_fed_ += take;
    if (core::Status st = Scan(false, out); !st) return st;
  }
  return core::Status::Ok();
}

core::Status BlockSplitter::Finish(std::vector<Block>& out) {
  if (!failed_.ok()) return failed_;
  if (finished_) return core::Status::Ok();
  finished_ = true;
  if (core::Status st = Scan(true, out); !st) return st;
  if (!buf_.empty()) {
    // The last row has no line end: it is a record of its own.
    if (row_start_ < buf_.size()) ++block_records_;
    Cut(buf_.size(), out);
  }
  return core::Status::Ok();
}

void BlockSplitter::Recycle(std::string buffer) {
  if (spare_.size() < 2 && buffer.capacity() >= options_.target_bytes) spare_.push_back(std::move(buffer));
}

void BlockSplitter::MaybeStripBom(bool final) {
  if (!bom_pending_) return;
  if (buf_.size() < kUtf8Bom.size() && !final) {
    if (kUtf8Bom.substr(0, buf_.size()) == buf_) return;  // may still become a BOM
  }
  bom_pending_ = false;
  if (HasUtf8Bom(buf_)) {
    buf_.erase(0, kUtf8Bom.size());
    offset_ += kUtf8Bom.size();
    had_bom_ = true;
  }
}

core::Status BlockSplitter::Scan(bool final, std::vector<Block>& out) {
  MaybeStripBom(final);
  if (bom_pending_) return core::Status::Ok();
  const std::size_t target = options_.target_bytes;
  for (;;) {
    // The hot loop works on locals; they go back to the members below.
    ScanState st = state_;
    std::size_t pos = scanned_;
    std::uint64_t records = block_records_;
    std::uint64_t lines = block_lines_;
    std::size_t row_start = row_start_;
    std::uint64_t row_start_lines = row_start_lines_;
    std::size_t cut = 0;
    // One window at `pos`; true (and `cut` set) if the block ends in it.
    auto step = [&](const char* window, std::size_t len, std::uint64_t valid, bool lf_after) {
      const WindowResult r = ScanWindow(Classify(window, dialect_.delimiter, dialect_.quote), valid, lf_after, st);
      if (r.row_ends == 0) {
        lines += Count(r.lines);
        return false;
      }
      if (pos + len >= target) {
        // Cut after the first row end t with pos + t + 1 >= target.
        const std::size_t min_t = target > pos + 1 ? target - pos - 1 : 0;
        const std::uint64_t candidates = r.row_ends & (~std::uint64_t{0} << min_t);
        if (candidates != 0) {
          const int t = std::countr_zero(candidates);
          records += Count(r.records & UpTo(t));
          lines += Count(r.lines & UpTo(t));
          cut = pos + static_cast<std::size_t>(t) + 1;
          return true;
        }
      }
      const int last = 63 - std::countl_zero(r.row_ends);
      row_start = pos + static_cast<std::size_t>(last) + 1;
      row_start_lines = lines + Count(r.lines & UpTo(last));
      records += Count(r.records);
      lines += Count(r.lines);
      return false;
    };
    const char* const data = buf_.data();
    const std::size_t size = buf_.size();
    bool cut_found = false;
    while (size - pos > 64) {  // the byte after the window is known
      if ((cut_found = step(data + pos, 64, ~std::uint64_t{0}, data[pos + 64] == '\n'))) break;
      pos += 64;
    }
    if (!cut_found && final && size > pos) {  // the last, padded window
      alignas(16) char pad[64] = {};
      const std::size_t len = size - pos;
      std::memcpy(pad, data + pos, len);
      const std::uint64_t valid = len == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << len) - 1;
      if (!(cut_found = step(pad, len, valid, false))) pos += len;
    }
    state_ = st;
    scanned_ = pos;
    block_records_ = records;
    block_lines_ = lines;
    row_start_ = row_start;
    row_start_lines_ = row_start_lines;
    if (!cut_found) break;
    Cut(cut, out);
  }
  if (buf_.size() - row_start_ > options_.max_row_bytes) {
    failed_ = core::Status(
        core::ErrorDomain::kLimit, 0,
        fmt::format("the row starting at line {} is longer than {} bytes (an unterminated quote?)",
                    next_line_ + row_start_lines_, options_.max_row_bytes));
    return failed_;
  }
  return core::Status::Ok();
}

void BlockSplitter::Cut(std::size_t end, std::vector<Block>& out) {
  Block block;
  block.index = next_index_;
  block.first_record = next_record_;
  block.record_count = block_records_;
  block.first_line = next_line_;
  block.line_count = block_lines_;
  block.byte_offset = offset_;
  next_record_ += block_records_;
  next_line_ += block_lines_;
  offset_ += end;

  std::string rest;
  if (!spare_.empty()) {
    rest = std::move(spare_.back());
    spare_.pop_back();
    rest.clear();
  }
  if (end < buf_.size() || !finished_) {
    rest.reserve(std::max(options_.target_bytes, buf_.size() - end) + kSlice + 64);
    rest.append(buf_, end, std::string::npos);
  }
  buf_.resize(end);
  if (block.record_count > 0) {  // blocks of blank lines carry nothing
    block.data = std::move(buf_);
    ++next_index_;
    out.push_back(std::move(block));
  }
  buf_ = std::move(rest);
  scanned_ = 0;
  state_ = ScanState{};
  block_records_ = 0;
  block_lines_ = 0;
  row_start_ = 0;
  row_start_lines_ = 0;
}

}  // namespace sluice::csv
