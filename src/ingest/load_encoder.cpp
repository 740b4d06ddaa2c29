// The encoders of load_encoder.hpp. Every row is written through a raw pointer
// into room reserved for its worst case (each value byte escaped), so the
// inner loop has no bounds checks or per-byte appends; the escaper finds the
// next special byte a 64-bit word at a time (the "has zero byte" bit trick:
// (v - 0x01…01) & ~v & 0x80…80 flags a zero byte, and the lowest flag is
// always exact), which makes clean text cost about a memcpy.
#include "ingest/load_encoder.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <utility>

namespace sluice::ingest {
namespace {

static_assert(std::endian::native == std::endian::little, "the SWAR scan assumes little-endian words");

constexpr std::uint64_t kOnes = 0x0101010101010101ull;
constexpr std::uint64_t kHighBits = 0x8080808080808080ull;
/// Longest decimal uint64 (`_row`).
constexpr std::size_t kMaxRowDigits = 20;

constexpr std::uint64_t ZeroBytes(std::uint64_t v) { return (v - kOnes) & ~v & kHighBits; }
constexpr std::uint64_t Bytes(std::uint64_t word, unsigned char c) { return ZeroBytes(word ^ (kOnes * c)); }

/// LOAD DATA's specials: the field and line terminators, the escape and NUL.
struct LoadEscapes {
  static std::uint64_t Mask(std::uint64_t w) { return ZeroBytes(w) | Bytes(w, '\t') | Bytes(w, '\n') | Bytes(w, '\\'); }
  /// The letter after the backslash for `c`, or 0 when `c` is not special.
  static char Letter(unsigned char c) {
    switch (c) {
      case '\0': return '0';
      case '\t': return 't';
      case '\n': return 'n';
      case '\\': return '\\';
      default: return 0;
    }
  }
};

/// A single-quoted SQL literal's specials (mysql_real_escape_string's set).
struct SqlEscapes {
  static std::uint64_t Mask(std::uint64_t w) {
    return ZeroBytes(w) | Bytes(w, '\n') | Bytes(w, '\r') | Bytes(w, '\\') | Bytes(w, '\'') | Bytes(w, '"') |
           Bytes(w, '\x1a');
  }
  static char Letter(unsigned char c) {
    switch (c) {
      case '\0': return '0';
      case '\n': return 'n';
      case '\r': return 'r';
      case '\\': return '\\';
      case '\'': return '\'';
      case '"': return '"';
      case 0x1a: return 'Z';
      default: return 0;
    }
  }
};

/// Writes `src` escaped at `dst` (room for 2 × size needed); returns the end.
template <class Escapes>
char* Escape(char* dst, std::string_view src) {
  const char* p = src.data();
  const char* end = p + src.size();
  while (end - p >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    std::uint64_t mask = Escapes::Mask(word);
    if (mask == 0) {
      std::memcpy(dst, p, 8);
      dst += 8;
      p += 8;
      continue;
    }
    auto clean = static_cast<std::size_t>(std::countr_zero(mask) / 8);
    std::memcpy(dst, p, clean);
    dst += clean;
    p += clean;
    *dst++ = '\\';
    *dst++ = Escapes::Letter(static_cast<unsigned char>(*p++));
  }
  for (; p < end; ++p) {
    char letter = Escapes::Letter(static_cast<unsigned char>(*p));
    if (letter != 0) {
      *dst++ = '\\';
      *dst++ = letter;
    } else {
      *dst++ = *p;
    }
  }
  return dst;
}

char* WriteRow(char* dst, std::uint64_t row) {
  return std::to_chars(dst, dst + kMaxRowDigits, row).ptr;
}

/// Worst-case bytes of one LOAD DATA line.
template <class Get>
std::size_t LoadRowBound(std::size_t count, Get get) {
  std::size_t bound = kMaxRowDigits + 1;
  for (std::size_t i = 0; i < count; ++i) bound += 3 + 2 * get(i).value.size();
  return bound;
}

template <class Get>
char* WriteLoadRow(char* dst, std::uint64_t row, std::size_t count, Get get) {
  dst = WriteRow(dst, row);
  for (std::size_t i = 0; i < count; ++i) {
    *dst++ = '\t';
    Field field = get(i);
    if (field.null) {
      *dst++ = '\\';
      *dst++ = 'N';
    } else {
      dst = Escape<LoadEscapes>(dst, field.value);
    }
  }
  *dst++ = '\n';
  return dst;
}

/// Worst-case bytes of one INSERT tuple (with a leading comma).
template <class Get>
std::size_t InsertRowBound(std::size_t count, Get get) {
  std::size_t bound = kMaxRowDigits + 3;
  for (std::size_t i = 0; i < count; ++i) bound += 5 + 2 * get(i).value.size();
  return bound;
}

template <class Get>
char* WriteInsertRow(char* dst, std::uint64_t row, std::size_t count, Get get) {
  *dst++ = '(';
  dst = WriteRow(dst, row);
  for (std::size_t i = 0; i < count; ++i) {
    *dst++ = ',';
    Field field = get(i);
    if (field.null) {
      std::memcpy(dst, "NULL", 4);
      dst += 4;
    } else {
      *dst++ = '\'';
      dst = Escape<SqlEscapes>(dst, field.value);
      *dst++ = '\'';
    }
  }
  *dst++ = ')';
  return dst;
}

/// Appends to a plain string through a worst-case resize (the public helpers).
template <class Write>
void AppendBounded(std::string& out, std::size_t bound, Write write) {
  std::size_t old = out.size();
  out.resize(old + bound);
  char* end = write(out.data() + old);
  out.resize(static_cast<std::size_t>(end - out.data()));
}

}  // namespace

std::size_t EncodedBlock::bytes() const noexcept {
  std::size_t total = data != nullptr ? data->size() : 0;
  for (const auto& statement : statements) total += statement.size();
  return total;
}

std::size_t EncodedBlock::held_bytes() const noexcept {
  std::size_t total = data != nullptr ? data->capacity() : 0;
  for (const auto& statement : statements) total += statement.capacity();
  return total;
}

void AppendLoadValue(std::string& out, std::string_view value) {
  AppendBounded(out, 2 * value.size(), [&](char* dst) { return Escape<LoadEscapes>(dst, value); });
}

void AppendLoadRow(std::string& out, std::uint64_t row, std::span<const Field> fields) {
  auto get = [&](std::size_t i) { return fields[i]; };
  AppendBounded(out, LoadRowBound(fields.size(), get),
                [&](char* dst) { return WriteLoadRow(dst, row, fields.size(), get); });
}

void AppendInsertRow(std::string& out, std::uint64_t row, std::span<const Field> fields) {
  auto get = [&](std::size_t i) { return fields[i]; };
  AppendBounded(out, InsertRowBound(fields.size(), get),
                [&](char* dst) { return WriteInsertRow(dst, row, fields.size(), get); });
}

// ---- BlockEncoder ------------------------------------------------------------

BlockEncoder::BlockEncoder(EncoderOptions options) : options_(std::move(options)) {
  std::size_t reserve = options_.reserve_bytes;
  if (options_.method == LoadMethod::kInsert) {
    reserve = std::min(std::max(reserve, options_.insert_prefix.size() + 64), options_.max_statement_bytes + 1);
  }
  buffer_.resize(std::max<std::size_t>(reserve, 256));
}

namespace {

/// Makes room for `n` more bytes after `used`; returns where to write.
char* Room(std::string& buffer, std::size_t used, std::size_t n) {
  if (used + n > buffer.size()) buffer.resize(std::max(buffer.size() * 2, used + n));
  return buffer.data() + used;
}

}  // namespace

template <class Get>
void BlockEncoder::AddRow(std::uint64_t row, std::size_t count, Get get) {
  if (rows_ == 0) first_row_ = row;
  last_row_ = row;
  ++rows_;
  if (options_.method == LoadMethod::kLoadData) {
    char* dst = Room(buffer_, used_, LoadRowBound(count, get));
    used_ = static_cast<std::size_t>(WriteLoadRow(dst, row, count, get) - buffer_.data());
    return;
  }
  std::size_t bound = InsertRowBound(count, get);
  if (rows_in_statement_ > 0 && used_ + bound > options_.max_statement_bytes) CloseStatement(true);
  if (rows_in_statement_ == 0) {
    char* dst = Room(buffer_, used_, options_.insert_prefix.size());
    std::memcpy(dst, options_.insert_prefix.data(), options_.insert_prefix.size());
    used_ += options_.insert_prefix.size();
  }
  char* dst = Room(buffer_, used_, bound);
  if (rows_in_statement_ > 0) *dst++ = ',';
  used_ = static_cast<std::size_t>(WriteInsertRow(dst, row, count, get) - buffer_.data());
  ++rows_in_statement_;
}

void BlockEncoder::Add(std::uint64_t row, std::span<const Field> fields) {
  AddRow(row, fields.size(), [&](std::size_t i) { return fields[i]; });
}

void BlockEncoder::Add(std::uint64_t row, std::span<const std::string_view> fields) {
  const auto& nulls = options_.empty_is_null;
  AddRow(row, fields.size(), [&](std::size_t i) {
    std::string_view value = fields[i];
    return Field{value, value.empty() && i < nulls.size() && nulls[i] != 0};
  });
}

void BlockEncoder::CloseStatement(bool reopen) {
  if (rows_in_statement_ == 0) return;
  std::size_t used = used_;
  buffer_.resize(used);
  if (buffer_.capacity() > used + used / 4) buffer_.shrink_to_fit();
  statements_.push_back(std::move(buffer_));
  buffer_ = std::string();
  if (reopen) buffer_.resize(std::min(options_.max_statement_bytes + 1, std::max<std::size_t>(used, 256)));
  used_ = 0;
  rows_in_statement_ = 0;
}

EncodedBlock BlockEncoder::Finish() {
  EncodedBlock block;
  block.method = options_.method;
  block.first_row = first_row_;
  block.last_row = last_row_;
  block.row_count = rows_;
  if (options_.method == LoadMethod::kLoadData) {
    buffer_.resize(used_);
    if (buffer_.capacity() > used_ + used_ / 4) buffer_.shrink_to_fit();
    block.data = std::make_shared<const std::string>(std::move(buffer_));
  } else {
    CloseStatement(false);
    block.statements = std::move(statements_);
  }
  buffer_ = std::string();
  buffer_.resize(256);
  used_ = 0;
  statements_.clear();
  rows_ = rows_in_statement_ = first_row_ = last_row_ = 0;
  return block;
}

}  // namespace sluice::ingest
