// Parameter parsing for /rows and /aggregate (see query_params.hpp). One pass
// over the parameters: reserved names go to their own small parsers, every
// other name is a column filter. Each parser either fills the model or sets
// the ParamError and returns false; the first error wins.
#include "query/query_params.hpp"

#include <fast_float/fast_float.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

#include "db/sql_quote.hpp"
#include "db/table_ddl.hpp"

namespace sluice::query {
namespace {

constexpr std::string_view kWherePrefix = "where.";
/// Offsets past this are refused (MariaDB takes 2^64-1, but nobody pages there).
constexpr std::uint64_t kMaxOffset = 1'000'000'000'000'000ull;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool AllLowerAlpha(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

std::optional<Op> LookupOp(std::string_view name) {
  static constexpr std::pair<std::string_view, Op> kOps[] = {
      {"eq", Op::kEq},     {"neq", Op::kNeq},     {"lt", Op::kLt}, {"lte", Op::kLte}, {"gt", Op::kGt},
      {"gte", Op::kGte},   {"like", Op::kLike},   {"ilike", Op::kIlike}, {"in", Op::kIn}, {"is", Op::kIs},
  };
  std::string lower = Lower(name);
  for (const auto& [text, op] : kOps) {
    if (lower == text) return op;
  }
  return std::nullopt;
}

bool ParseUint(std::string_view text, std::uint64_t& out) {
  if (text.empty() || text.size() > 19) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool Digits(std::string_view text, std::size_t at, std::size_t count, int& out) {
  if (at + count > text.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

/// Collects the first error; every Parse* helper returns false after setting it.
class Parser {
 public:
  Parser(const TableSchema& schema, const ParamLimits& limits, ParamError* error)
      : schema_(schema), limits_(limits), error_(error) {}

  bool Fail(std::string code, std::string message, std::string_view param) {
    if (error_ != nullptr) *error_ = ParamError{std::move(code), std::move(message), std::string(param)};
    return false;
  }

  bool Invalid(std::string_view param, std::string message) {
    return Fail("invalid_parameter", std::move(message), param);
  }

  /// A reserved parameter may appear once.
  bool Once(std::string_view name) {
    if (!seen_.insert(std::string(name)).second) return Invalid(name, fmt::format("{} is given twice", name));
    return true;
  }

  std::optional<std::size_t> ColumnOf(std::string_view param, std::string_view name) {
    auto index = schema_.Find(name);
    if (!index) {
      Fail("unknown_column", fmt::format("table '{}' has no column '{}'", schema_.name, name), param);
    }
    return index;
  }

  bool ParseLimit(std::string_view value, std::uint64_t& offset, std::uint64_t& limit, bool& offset_given) {
    if (!Once("limit")) return false;
    std::string_view count_text = value;
    auto comma = value.find(',');
    if (comma != std::string_view::npos) {
      std::uint64_t parsed_offset = 0;
      if (!ParseUint(value.substr(0, comma), parsed_offset) || parsed_offset > kMaxOffset) {
        return Invalid("limit", "limit is N or offset,N with whole numbers");
      }
      if (offset_given) return Invalid("limit", "the offset is given both in limit=offset,N and in offset");
      offset = parsed_offset;
      offset_given = true;
      count_text = value.substr(comma + 1);
    }
    if (!ParseUint(count_text, limit)) return Invalid("limit", "limit is N or offset,N with whole numbers");
    if (limit > limits_.max_limit) {
      return Invalid("limit", fmt::format("limit is at most {} (the server's max_page_rows)", limits_.max_limit));
    }
    return true;
  }

  bool ParseOffset(std::string_view value, std::uint64_t& offset, bool& offset_given) {
    if (!Once("offset")) return false;
    if (offset_given) return Invalid("offset", "the offset is given both in limit=offset,N and in offset");
    if (!ParseUint(value, offset) || offset > kMaxOffset) return Invalid("offset", "offset is a whole number");
    offset_given = true;
    return true;
  }

  bool ParseFormat(std::string_view value, std::optional<Format>& format) {
    if (!Once("format")) return false;
    std::string lower = Lower(value);
    if (lower == "json") {
      format = Format::kJson;
    } else if (lower == "csv") {
      format = Format::kCsv;
    } else if (lower == "ndjson") {
      format = Format::kNdjson;
    } else {
      return Invalid("format", "format is json, csv or ndjson");
    }
    return true;
  }

  bool ParseCursor(std::string_view value, std::string& cursor) {
    if (!Once("cursor")) return false;
    cursor = std::string(value);
    return true;
  }

  /// A list parameter's items (quoted items unquoted); none may be empty.
  std::optional<std::vector<std::string>> Items(std::string_view param, std::string_view value) {
    auto items = SplitList(value);
    if (!items) {
      Invalid(param, fmt::format("{}: a double quote is not closed (a quoted item holds commas; \"\" is a quote)",
                                 param));
      return std::nullopt;
    }
    for (const auto& item : *items) {
      if (item.empty()) {
        Invalid(param, fmt::format("{} has an empty item", param));
        return std::nullopt;
      }
    }
    return items;
  }

  bool ParseSelect(std::string_view value, std::vector<std::size_t>& select) {
    if (!Once("select")) return false;
    auto items = Items("select", value);
    if (!items) return false;
    for (const auto& item : *items) {
      auto index = ColumnOf("select", item);
      if (!index) return false;
      if (std::find(select.begin(), select.end(), *index) != select.end()) {
        return Invalid("select", fmt::format("column '{}' is selected twice", schema_.columns[*index].name));
      }
      select.push_back(*index);
    }
    return true;
  }

  /// `col`, `col:asc`, `col:desc`; `lookup` resolves a name to an index.
  template <class Lookup>
  bool ParseSort(std::string_view value, std::vector<SortKey>& sort, Lookup lookup, std::string_view what) {
    if (!Once("sort")) return false;
    auto items = Items("sort", value);
    if (!items) return false;
    for (const auto& item : *items) {
      SortKey key;
      auto index = lookup(item);  // a name that itself holds a colon wins
      if (!index) {
        auto colon = item.rfind(':');
        if (colon != std::string::npos) {
          std::string direction = Lower(std::string_view(item).substr(colon + 1));
          if (direction == "asc" || direction == "desc") {
            key.descending = direction == "desc";
            index = lookup(std::string_view(item).substr(0, colon));
          }
        }
      }
      if (!index) {
        return Fail("unknown_column", fmt::format("sort: no {} '{}' (sort is col, col:asc or col:desc)", what, item),
                    "sort");
      }
      key.column = *index;
      for (const auto& earlier : sort) {
        if (earlier.column == key.column) return Invalid("sort", fmt::format("sort names '{}' twice", item));
      }
      sort.push_back(key);
    }
    return true;
  }

  /// Checks one scalar value against the column it is compared with.
  bool CheckScalar(std::string_view param, const Column& column, std::string_view value) {
    if (column.numeric() && !IsNumber(value)) {
      return Invalid(param, fmt::format("'{}' is not a number (column '{}' is {})", value, column.name,
                                        db::SqlTypeText(column.type)));
    }
    if (column.temporal() && !IsDateOrDateTime(value)) {
      return Invalid(param, fmt::format("'{}' is not a date (YYYY-MM-DD[ HH:MM:SS]; column '{}' is {})", value,
                                        column.name, db::SqlTypeText(column.type)));
    }
    return true;
  }

  /// `{op}:{value}` (or a bare eq value) on column `index`.
  bool ParseFilter(std::string_view param, std::size_t index, std::string_view raw, std::vector<Filter>& filters) {
    const Column& column = schema_.columns[index];
    if (db::Utf8Length(raw) < 0) return Invalid(param, "the value is not valid UTF-8");
    Filter filter;
    filter.column = index;
    std::string_view value = raw;
    auto colon = raw.find(':');
    if (colon != std::string_view::npos) {
      std::string_view prefix = raw.substr(0, colon);
      if (auto op = LookupOp(prefix)) {
        filter.op = *op;
        value = raw.substr(colon + 1);
      } else if (AllLowerAlpha(prefix)) {
        return Fail("unknown_operator",
                    fmt::format("unknown operator '{}' (eq, neq, lt, lte, gt, gte, like, ilike, in, is; write "
                                "eq:{} to match the text as it is)",
                                prefix, raw),
                    param);
      }
    }
    switch (filter.op) {
      case Op::kIs: {
        std::string lower = Lower(value);
        if (lower != "null" && lower != "notnull") return Invalid(param, "is takes null or notnull");
        filter.values.push_back(lower);
        break;
      }
      case Op::kIn: {
        auto items = SplitList(value);
        if (!items) return Invalid(param, "in: a double quote is not closed (quote a value that holds a comma)");
        for (const auto& item : *items) {
          if (!CheckScalar(param, column, item)) return false;
        }
        filter.values = std::move(*items);
        break;
      }
      case Op::kLike:
      case Op::kIlike:
        filter.values.emplace_back(value);
        break;
      case Op::kLt:
      case Op::kLte:
      case Op::kGt:
      case Op::kGte:
        if (column.text()) {
          filter.numeric_text = IsNumber(value);
        } else if (!CheckScalar(param, column, value)) {
          return false;
        }
        filter.values.emplace_back(value);
        break;
      case Op::kEq:
      case Op::kNeq:
        if (!CheckScalar(param, column, value)) return false;
        filter.values.emplace_back(value);
        break;
    }
    filters.push_back(std::move(filter));
    return true;
  }

  /// A parameter that is not reserved: a filter, or an unknown parameter.
  bool ParseColumnParam(std::string_view name, std::string_view value, std::vector<Filter>& filters) {
    if (name.substr(0, kWherePrefix.size()) == kWherePrefix) {
      std::string_view column_name = name.substr(kWherePrefix.size());
      auto index = ColumnOf(name, column_name);
      if (!index) return false;
      return ParseFilter(name, *index, value, filters);
    }
    auto index = schema_.Find(name);
    if (!index) {
      return Fail("unknown_parameter",
                  fmt::format("'{}' is neither a parameter nor a column of table '{}'", name, schema_.name), name);
    }
    return ParseFilter(name, *index, value, filters);
  }

  const TableSchema& schema() const { return schema_; }
  const ParamLimits& limits() const { return limits_; }

 private:
  const TableSchema& schema_;
  const ParamLimits& limits_;
  ParamError* error_;
  std::set<std::string> seen_;
};

std::string OutputName(AggFn fn, std::string_view column) { return fmt::format("{}_{}", AggFnName(fn), column); }

}  // namespace

std::optional<RowsQuery> ParseRowsQuery(const Params& params, const TableSchema& schema, const ParamLimits& limits,
                                        ParamError* error) {
  Parser parser(schema, limits, error);
  RowsQuery query;
  query.limit = limits.default_limit;
  bool offset_given = false;
  for (const auto& [name, value] : params) {
    bool ok = true;
    if (name == "limit") {
      ok = parser.ParseLimit(value, query.offset, query.limit, offset_given);
    } else if (name == "offset") {
      ok = parser.ParseOffset(value, query.offset, offset_given);
    } else if (name == "sort") {
      ok = parser.ParseSort(value, query.sort, [&](std::string_view item) { return schema.Find(item); }, "column");
    } else if (name == "select") {
      ok = parser.ParseSelect(value, query.select);
    } else if (name == "cursor") {
      ok = parser.ParseCursor(value, query.cursor);
    } else if (name == "format") {
      ok = parser.ParseFormat(value, query.format);
    } else if (name == "count") {
      ok = parser.Once("count");
      std::string lower = Lower(value);
      if (!ok) {
      } else if (lower == "exact") {
        query.count = CountMode::kExact;
      } else if (lower == "estimate") {
        query.count = CountMode::kEstimate;
      } else if (lower == "none") {
        query.count = CountMode::kNone;
      } else {
        ok = parser.Invalid("count", "count is exact, estimate or none");
      }
    } else {
      ok = parser.ParseColumnParam(name, value, query.filters);
    }
    if (!ok) return std::nullopt;
  }
  return query;
}

std::optional<AggregateQuery> ParseAggregateQuery(const Params& params, const TableSchema& schema,
                                                  const ParamLimits& limits, ParamError* error) {
  Parser parser(schema, limits, error);
  AggregateQuery query;
  query.limit = limits.default_limit;
  bool offset_given = false;
  bool count = false;
  std::string sort_text;
  bool sort_given = false;
  for (const auto& [name, value] : params) {
    bool ok = true;
    if (name == "limit") {
      ok = parser.ParseLimit(value, query.offset, query.limit, offset_given);
    } else if (name == "offset") {
      ok = parser.ParseOffset(value, query.offset, offset_given);
    } else if (name == "sort") {
      ok = parser.Once("sort");
      sort_text = value;  // resolved once every output column is known
      sort_given = true;
    } else if (name == "cursor") {
      ok = parser.ParseCursor(value, query.cursor);
    } else if (name == "format") {
      ok = parser.ParseFormat(value, query.format);
    } else if (name == "group_by") {
      ok = parser.Once("group_by");
      auto items = ok ? parser.Items("group_by", value) : std::nullopt;
      ok = ok && items.has_value();
      for (std::size_t i = 0; ok && i < items->size(); ++i) {
        auto index = parser.ColumnOf("group_by", (*items)[i]);
        ok = index.has_value();
        if (ok && std::find(query.group_by.begin(), query.group_by.end(), *index) != query.group_by.end()) {
          ok = parser.Invalid("group_by", fmt::format("group_by names '{}' twice", (*items)[i]));
        }
        if (ok) query.group_by.push_back(*index);
      }
    } else if (name == "sum" || name == "avg" || name == "min" || name == "max") {
      AggFn fn = name == "sum" ? AggFn::kSum : name == "avg" ? AggFn::kAvg : name == "min" ? AggFn::kMin : AggFn::kMax;
      auto items = parser.Items(name, value);
      ok = items.has_value();
      for (std::size_t i = 0; ok && i < items->size(); ++i) {
        auto index = parser.ColumnOf(name, (*items)[i]);
        ok = index.has_value();
        if (!ok) break;
        const Column& column = schema.columns[*index];
        if ((fn == AggFn::kSum || fn == AggFn::kAvg) && column.temporal()) {
          ok = parser.Invalid(name, fmt::format("{} of a date column ('{}') means nothing", name, column.name));
          break;
        }
        query.aggregates.push_back({fn, *index, OutputName(fn, column.name)});
      }
    } else if (name == "count") {
      ok = parser.Once("count");
      std::string lower = Lower(value);
      if (!ok) {
      } else if (lower == "true" || lower == "1") {
        count = true;
      } else if (lower == "false" || lower == "0") {
        count = false;
      } else {
        ok = parser.Invalid("count", "count is true or false on /aggregate");
      }
    } else {
      ok = parser.ParseColumnParam(name, value, query.filters);
    }
    if (!ok) return std::nullopt;
  }
  if (count) query.aggregates.push_back({AggFn::kCount, 0, "count"});
  if (query.group_by.empty() && query.aggregates.empty()) {
    parser.Invalid("group_by", "nothing to aggregate: give group_by and/or sum, avg, min, max or count=true");
    return std::nullopt;
  }
  // Output names: group columns, then aggregates; they must be distinct.
  std::vector<std::string> outputs;
  for (std::size_t index : query.group_by) outputs.push_back(schema.columns[index].name);
  for (const auto& aggregate : query.aggregates) outputs.push_back(aggregate.name);
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (db::SameColumnName(outputs[i], outputs[j])) {
        parser.Invalid("group_by", fmt::format("the answer would have two columns named '{}'", outputs[i]));
        return std::nullopt;
      }
    }
  }
  if (sort_given) {
    auto lookup = [&](std::string_view item) -> std::optional<std::size_t> {
      for (std::size_t i = 0; i < outputs.size(); ++i) {
        if (db::SameColumnName(outputs[i], item)) return i;
      }
      return std::nullopt;
    };
    Parser sorter(schema, limits, error);
    if (!sorter.ParseSort(sort_text, query.sort, lookup, "group or aggregate column")) return std::nullopt;
  }
  return query;
}

Format ChooseFormat(std::optional<Format> format, std::string_view accept) {
  if (format) return *format;
  std::string lower = Lower(accept);
  // The first of the types we serve that the client names wins.
  auto csv = lower.find("text/csv");
  auto ndjson = lower.find("application/x-ndjson");
  auto json = lower.find("application/json");
  auto first = std::min({csv, ndjson, json});
  if (first == std::string::npos || first == json) return Format::kJson;
  return first == csv ? Format::kCsv : Format::kNdjson;
}

std::optional<std::vector<std::string>> SplitList(std::string_view text) {
  std::vector<std::string> items;
  std::string item;
  std::size_t i = 0;
  for (;;) {
    item.clear();
    if (i < text.size() && text[i] == '"') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            item.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        item.push_back(text[i++]);
      }
      if (!closed) return std::nullopt;
      if (i < text.size() && text[i] != ',' && text[i] != ':') return std::nullopt;
    }
    while (i < text.size() && text[i] != ',') item.push_back(text[i++]);
    items.push_back(item);
    if (i >= text.size()) break;
    ++i;  // the comma
  }
  return items;
}

bool IsNumber(std::string_view text) {
  if (text.empty() || text.size() > 100) return false;
  std::size_t i = 0;
  if (text[i] == '+' || text[i] == '-') ++i;
  std::size_t int_digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++int_digits;
  std::size_t frac_digits = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    std::size_t exp_digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  if (i != text.size()) return false;
  // MariaDB refuses a literal past DOUBLE's range ("Illegal double value").
  double value = 0;
  const char* begin = text.data() + (text[0] == '+' ? 1 : 0);
  auto parsed = fast_float::from_chars(begin, text.data() + text.size(), value);
  return parsed.ec == std::errc() && std::isfinite(value);
}

bool IsDateOrDateTime(std::string_view text) {
  int year = 0, month = 0, day = 0;
  if (text.size() < 10 || !Digits(text, 0, 4, year) || text[4] != '-' || !Digits(text, 5, 2, month) ||
      text[7] != '-' || !Digits(text, 8, 2, day)) {
    return false;
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1]) return false;
  if (month == 2 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))) return false;
  if (text.size() == 10) return true;
  int hour = 0, minute = 0, second = 0;
  if (text[10] != ' ' && text[10] != 'T') return false;
  if (text.size() < 16 || !Digits(text, 11, 2, hour) || text[13] != ':' || !Digits(text, 14, 2, minute)) return false;
  if (hour > 23 || minute > 59) return false;
  if (text.size() == 16) return true;
  if (text[16] != ':' || !Digits(text, 17, 2, second) || second > 59) return false;
  if (text.size() == 19) return true;
  if (text[19] != '.' || text.size() < 21 || text.size() > 26) return false;
  for (std::size_t i = 20; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return true;
}

// ---- query_model.hpp ---------------------------------------------------------

bool Column::numeric() const noexcept {
  return type.kind == db::SqlTypeKind::kBigint || type.kind == db::SqlTypeKind::kDecimal ||
         type.kind == db::SqlTypeKind::kDouble;
}

bool Column::temporal() const noexcept {
  return type.kind == db::SqlTypeKind::kDate || type.kind == db::SqlTypeKind::kDatetime;
}

bool Column::text() const noexcept { return !numeric() && !temporal(); }

core::Result<TableSchema> TableSchema::FromEntry(const db::TableEntry& entry) {
  TableSchema schema;
  schema.name = entry.name;
  schema.row_count = entry.row_count;
  for (const auto& column : entry.columns) {
    auto type = db::ParseSqlType(column.type);
    if (!type) {
      return core::Status::Internal(
          fmt::format("table '{}': column '{}' has type '{}', which sluice does not know", entry.name, column.name,
                      column.type));
    }
    schema.columns.push_back({column.name, *type});
  }
  return schema;
}

std::optional<std::size_t> TableSchema::Find(std::string_view column_name) const {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (db::SameColumnName(columns[i].name, column_name)) return i;
  }
  return std::nullopt;
}

std::string_view OpName(Op op) {
  switch (op) {
    case Op::kEq: return "eq";
    case Op::kNeq: return "neq";
    case Op::kLt: return "lt";
    case Op::kLte: return "lte";
    case Op::kGt: return "gt";
    case Op::kGte: return "gte";
    case Op::kLike: return "like";
    case Op::kIlike: return "ilike";
    case Op::kIn: return "in";
    case Op::kIs: return "is";
  }
  return "?";
}

std::string_view FormatName(Format format) {
  switch (format) {
    case Format::kJson: return "json";
    case Format::kCsv: return "csv";
    case Format::kNdjson: return "ndjson";
  }
  return "?";
}

std::string_view AggFnName(AggFn fn) {
  switch (fn) {
    case AggFn::kSum: return "sum";
    case AggFn::kAvg: return "avg";
    case AggFn::kMin: return "min";
    case AggFn::kMax: return "max";
    case AggFn::kCount: return "count";
  }
  return "?";
}

}  // namespace sluice::query
