// Type inference: Classify() reads one value with hand-written grammars (no
// regex, no allocation), Join() is the lattice's least upper bound, and
// Widen() is Join(current, Classify(value)) with a short cut for TEXT columns,
// which only track the longest value. SchemaInference applies them per column
// and holds the `types=text` / `type.{column}` overrides.
#include "csv/type_inference.hpp"

#include <fast_float/fast_float.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cfloat>
#include <cmath>

#include "csv/parser.hpp"

namespace sluice::csv {
namespace {

constexpr std::uint16_t kDigitCap = 999;  // digit counts saturate here

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::uint16_t Cap(std::size_t n) { return static_cast<std::uint16_t>(std::min<std::size_t>(n, kDigitCap)); }

bool IsNumeric(TypeKind k) { return k == TypeKind::kBigint || k == TypeKind::kDecimal || k == TypeKind::kDouble; }
bool IsTemporal(TypeKind k) { return k == TypeKind::kDate || k == TypeKind::kDatetime; }

ColumnType Text(std::uint64_t max_bytes) {
  ColumnType t;
  t.kind = TypeKind::kText;
  t.max_bytes = max_bytes;
  return t;
}

/// Past DECIMAL's limits → DOUBLE; DOUBLE that cannot hold the digits → TEXT.
ColumnType Normalize(ColumnType t) {
  if (t.kind == TypeKind::kDecimal &&
      (t.int_digits + t.scale > kMaxDecimalPrecision || t.scale > kMaxDecimalScale)) {
    t.kind = TypeKind::kDouble;
  }
  if (t.kind == TypeKind::kDouble && t.sig_digits > kDoubleDigits) return Text(t.max_bytes);
  return t;
}

/// Two digits at v[i], v[i+1] as a number, or -1.
int Two(std::string_view v, std::size_t i) {
  if (!IsDigit(v[i]) || !IsDigit(v[i + 1])) return -1;
  return (v[i] - '0') * 10 + (v[i + 1] - '0');
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/// True if v[0,10) is a real YYYY-MM-DD date.
bool IsDate(std::string_view v) {
  if (v.size() < 10 || v[4] != '-' || v[7] != '-') return false;
  const int hi = Two(v, 0), lo = Two(v, 2), month = Two(v, 5), day = Two(v, 8);
  if (hi < 0 || lo < 0 || month < 1 || month > 12 || day < 1) return false;
  const int year = hi * 100 + lo;
  if (year < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const int days = (month == 2 && IsLeap(year)) ? 29 : kDays[month - 1];
  return day <= days;
}

/// DATE or DATETIME(n) if `v` is one, else kNull.
ColumnType ClassifyTemporal(std::string_view v) {
  ColumnType t;
  if (!IsDate(v)) return t;
  if (v.size() == 10) {
    t.kind = TypeKind::kDate;
    return t;
  }
  if (v.size() < 19 || (v[10] != ' ' && v[10] != 'T') || v[13] != ':' || v[16] != ':') return t;
  const int h = Two(v, 11), m = Two(v, 14), s = Two(v, 17);
  if (h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 59) return t;
  std::size_t frac = 0;
  if (v.size() > 19) {
    if (v[19] != '.') return t;
    frac = v.size() - 20;
    if (frac < 1 || frac > 6) return t;
    for (std::size_t i = 20; i < v.size(); ++i) {
      if (!IsDigit(v[i])) return t;
    }
  }
  t.kind = TypeKind::kDatetime;
  t.scale = static_cast<std::uint16_t>(frac);
  return t;
}

/// BIGINT / DECIMAL / DOUBLE if `v` is a number by the strict grammar, else kNull.
ColumnType ClassifyNumber(std::string_view v) {
  ColumnType t;
  std::size_t i = (v[0] == '-') ? 1 : 0;
  const std::size_t int_begin = i;
  while (i < v.size() && IsDigit(v[i])) ++i;
  const std::size_t int_len = i - int_begin;
  if (int_len == 0 || (int_len > 1 && v[int_begin] == '0')) return t;  // none, or a leading zero
  std::size_t frac_begin = i, frac_len = 0;
  if (i < v.size() && v[i] == '.') {
    frac_begin = ++i;
    while (i < v.size() && IsDigit(v[i])) ++i;
    frac_len = i - frac_begin;
    if (frac_len == 0) return t;
  }
  bool exponent = false;
  if (i < v.size() && (v[i] == 'e' || v[i] == 'E')) {
    ++i;
    if (i < v.size() && (v[i] == '+' || v[i] == '-')) ++i;
    const std::size_t exp_begin = i;
    while (i < v.size() && IsDigit(v[i])) ++i;
    if (i == exp_begin) return t;
    exponent = true;
  }
  if (i != v.size()) return t;

  // Significant digits: from the first to the last non-zero digit. Only
  // whether they exceed kDoubleDigits matters, so short numbers keep their
  // digit count as a bound instead.
  if (int_len + frac_len <= kDoubleDigits) {
    t.sig_digits = static_cast<std::uint16_t>(int_len + frac_len);
  } else {
    std::size_t first = std::string_view::npos, last = 0, pos = 0;
    auto scan = [&](std::size_t begin, std::size_t len) {
      for (std::size_t k = begin; k < begin + len; ++k, ++pos) {
        if (v[k] != '0') {
          if (first == std::string_view::npos) first = pos;
          last = pos;
        }
      }
    };
    scan(int_begin, int_len);
    scan(frac_begin, frac_len);
    t.sig_digits = first == std::string_view::npos ? 0 : Cap(last - first + 1);
  }

  if (exponent) {
    double d = 0;
    const auto r = fast_float::from_chars(v.data(), v.data() + v.size(), d);
    const bool zero_mantissa = std::all_of(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(frac_begin + frac_len),
                                           [](char c) { return c == '0' || c == '-' || c == '.'; });
    if (r.ec != std::errc() || r.ptr != v.data() + v.size() || !std::isfinite(d) ||
        (d != 0 && std::fabs(d) < DBL_MIN) || (d == 0 && !zero_mantissa)) {
      return Text(v.size());
    }
    t.kind = TypeKind::kDouble;
    return Normalize(t);
  }
  const bool zero_int = int_len == 1 && v[int_begin] == '0';
  t.int_digits = zero_int ? 0 : Cap(int_len);
  if (frac_len > 0) {
    t.kind = TypeKind::kDecimal;
    t.scale = Cap(frac_len);
    return Normalize(t);
  }
  bool fits = int_len <= 18;  // 18 digits always fit in BIGINT
  if (!fits) {
    std::int64_t n = 0;
    fits = std::from_chars(v.data(), v.data() + v.size(), n).ec == std::errc();
  }
  t.kind = fits ? TypeKind::kBigint : TypeKind::kDecimal;  // overflow → DECIMAL(n,0)
  return Normalize(t);
}

}  // namespace

ColumnType Classify(std::string_view value) {
  if (value.empty()) return ColumnType{};
  ColumnType t;
  const char c = value[0];
  if (IsDigit(c) && value.size() >= 10 && value[4] == '-') {
    t = ClassifyTemporal(value);
  } else if (IsDigit(c) || c == '-') {
    t = ClassifyNumber(value);
  }
  if (t.kind == TypeKind::kNull) return Text(value.size());
  t.max_bytes = value.size();
  return t;
}

ColumnType Join(const ColumnType& a, const ColumnType& b) {
  const std::uint64_t max_bytes = std::max(a.max_bytes, b.max_bytes);
  ColumnType t;
  if (a.kind == TypeKind::kNull) {
    t = b;
  } else if (b.kind == TypeKind::kNull) {
    t = a;
  } else if (IsNumeric(a.kind) && IsNumeric(b.kind)) {
    t.kind = std::max(a.kind, b.kind);
    t.int_digits = std::max(a.int_digits, b.int_digits);
    t.scale = std::max(a.scale, b.scale);
    t.sig_digits = std::max(a.sig_digits, b.sig_digits);
    t = Normalize(t);
  } else if (IsTemporal(a.kind) && IsTemporal(b.kind)) {
    t.kind = std::max(a.kind, b.kind);
    t.scale = std::max(a.scale, b.scale);
  } else {
    t.kind = TypeKind::kText;
  }
  t.max_bytes = max_bytes;
  return t;
}

ColumnType Widen(const ColumnType& current, std::string_view value) {
  if (value.empty()) return current;
  if (current.kind == TypeKind::kText) {
    ColumnType t = current;
    t.max_bytes = std::max<std::uint64_t>(t.max_bytes, value.size());
    return t;
  }
  return Join(current, Classify(value));
}

bool Fits(const ColumnType& type, std::string_view value) {
  if (value.empty()) return true;
  const ColumnType v = Classify(value);
  switch (type.kind) {
    case TypeKind::kNull:
    case TypeKind::kText: return true;
    case TypeKind::kBigint: return v.kind == TypeKind::kBigint;
    case TypeKind::kDecimal:
      return (v.kind == TypeKind::kBigint || v.kind == TypeKind::kDecimal) &&
             v.int_digits <= type.int_digits && v.scale <= type.scale;
    case TypeKind::kDouble: {
      double d = 0;
      const auto r = fast_float::from_chars(value.data(), value.data() + value.size(), d);
      return IsNumeric(ClassifyNumber(value).kind) && r.ec == std::errc() && std::isfinite(d);
    }
    case TypeKind::kDate: return v.kind == TypeKind::kDate;
    case TypeKind::kDatetime:
      return v.kind == TypeKind::kDate || (v.kind == TypeKind::kDatetime && v.scale <= type.scale);
  }
  return false;
}

std::string SqlTypeText(const ColumnType& type) {
  switch (type.kind) {
    case TypeKind::kBigint: return "BIGINT";
    case TypeKind::kDecimal: return fmt::format("DECIMAL({},{})", type.precision(), type.scale);
    case TypeKind::kDouble: return "DOUBLE";
    case TypeKind::kDate: return "DATE";
    case TypeKind::kDatetime: return type.scale == 0 ? "DATETIME" : fmt::format("DATETIME({})", type.scale);
    case TypeKind::kNull:
    case TypeKind::kText: break;
  }
  if (type.max_bytes <= 0xFFFF) return "TEXT";
  if (type.max_bytes <= 0xFFFFFF) return "MEDIUMTEXT";
  return "LONGTEXT";
}

core::Result<ColumnType> ParseTypeName(std::string_view name) {
  std::string n(name);
  for (char& c : n) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  n.erase(std::remove(n.begin(), n.end(), ' '), n.end());
  ColumnType t;
  auto bad = [&] {
    return core::Status::Invalid(fmt::format(
        "unknown type '{}' (expected text, bigint, decimal(p,s), double, date or datetime)", name));
  };
  // "(a)" or "(a,b)" after a prefix: the numbers, or false.
  auto args = [&](std::string_view rest, int& a, int& b) {
    if (rest.size() < 3 || rest.front() != '(' || rest.back() != ')') return false;
    rest = rest.substr(1, rest.size() - 2);
    const std::size_t comma = rest.find(',');
    const std::string_view first = rest.substr(0, comma);
    if (std::from_chars(first.data(), first.data() + first.size(), a).ptr != first.data() + first.size() ||
        first.empty()) {
      return false;
    }
    if (comma == std::string_view::npos) return true;
    const std::string_view second = rest.substr(comma + 1);
    return !second.empty() &&
           std::from_chars(second.data(), second.data() + second.size(), b).ptr == second.data() + second.size();
  };
  if (n == "text") {
    t.kind = TypeKind::kText;
  } else if (n == "bigint") {
    t.kind = TypeKind::kBigint;
  } else if (n == "double") {
    t.kind = TypeKind::kDouble;
  } else if (n == "date") {
    t.kind = TypeKind::kDate;
  } else if (n == "datetime") {
    t.kind = TypeKind::kDatetime;
  } else if (n.starts_with("datetime(")) {
    int a = 0, b = -1;
    if (!args(std::string_view(n).substr(8), a, b) || b != -1 || a < 0 || a > 6) return bad();
    t.kind = TypeKind::kDatetime;
    t.scale = static_cast<std::uint16_t>(a);
  } else if (n.starts_with("decimal(")) {
    int p = 0, s = 0;
    if (!args(std::string_view(n).substr(7), p, s) || p < 1 || p > kMaxDecimalPrecision || s < 0 ||
        s > kMaxDecimalScale || s > p) {
      return bad();
    }
    t.kind = TypeKind::kDecimal;
    t.int_digits = static_cast<std::uint16_t>(p - s);
    t.scale = static_cast<std::uint16_t>(s);
  } else {
    return bad();
  }
  return t;
}

core::Result<SchemaInference> SchemaInference::Make(std::span<const Column> columns,
                                                    const TypeOptions& options) {
  SchemaInference s;
  s.types_.assign(columns.size(), ColumnType{});
  s.forced_.assign(columns.size(), options.all_text);
  if (options.all_text) {
    for (ColumnType& t : s.types_) t.kind = TypeKind::kText;
  }
  for (const auto& [column, type_name] : options.overrides) {
    const std::string key = FoldColumnName(column);
    std::size_t i = 0;
    while (i < columns.size() && FoldColumnName(columns[i].name) != key) ++i;
    if (i == columns.size()) {
      return core::Status::Invalid(fmt::format("type.{}: no column named '{}'", column, column));
    }
    core::Result<ColumnType> t = ParseTypeName(type_name);
    if (!t) return core::Status::Invalid(fmt::format("type.{}: {}", column, t.error().message()));
    s.types_[i] = *t;
    s.forced_[i] = true;
  }
  return s;
}

void SchemaInference::Observe(std::span<const std::string_view> fields) {
  const std::size_t n = std::min(fields.size(), types_.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (forced_[i]) {
      types_[i].max_bytes = std::max<std::uint64_t>(types_[i].max_bytes, fields[i].size());
    } else {
      types_[i] = Widen(types_[i], fields[i]);
    }
  }
}

void SchemaInference::Observe(const ParsedBlock& block) {
  for (std::size_t r = 0; r < block.row_count(); ++r) Observe(block.row(r).fields);
}

void SchemaInference::Merge(const SchemaInference& other) {
  const std::size_t n = std::min(types_.size(), other.types_.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (forced_[i]) {
      types_[i].max_bytes = std::max(types_[i].max_bytes, other.types_[i].max_bytes);
    } else {
      types_[i] = Join(types_[i], other.types_[i]);
    }
  }
}

std::vector<std::string> SchemaInference::SqlTypes() const {
  std::vector<std::string> out;
  out.reserve(types_.size());
  for (const ColumnType& t : types_) out.push_back(SqlTypeText(t));
  return out;
}

}  // namespace sluice::csv
