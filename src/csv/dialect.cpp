// Dialect validation, option resolution and delimiter sniffing.
//
// The sniffer reads the sample once per candidate with the parser's quote
// rules (see parser.hpp) but only counts fields, and scores a candidate by how
// many rows have the same field count as the first row (the header, or the
// first record when there is none). A candidate qualifies when that count is
// > 1 and a majority of the rows agree with it; the highest score wins. Two
// qualifying candidates with the same score are reported as ambiguous rather
// than guessed: a wrong delimiter silently makes a wrong table, an error tells
// the user to say `delimiter=`.
#include "csv/dialect.hpp"

#include <fmt/format.h>

#include <array>
#include <vector>

namespace sluice::csv {
namespace {

/// Field counts of the first rows of `s` read with `delimiter`; blank lines are
/// skipped, and a last row that may be cut is dropped unless `whole`.
std::vector<std::size_t> RowFieldCounts(std::string_view s, char delimiter, char quote, bool whole) {
  std::vector<std::size_t> counts;
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n && counts.size() < kSniffMaxRows) {
    if (s[i] == '\n' || s[i] == '\r') {  // blank line
      ++i;
      continue;
    }
    std::size_t fields = 1;
    bool complete = false;
    for (;;) {
      if (i < n && s[i] == quote) {  // quoted field: up to the closing quote
        ++i;
        bool closed = false;
        while (i < n) {
          if (s[i] == quote) {
            if (i + 1 < n && s[i + 1] == quote) {
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          ++i;
        }
        if (!closed) break;  // unterminated: the row is incomplete
      }
      // Unquoted field, or the literal bytes after a closing quote.
      while (i < n && s[i] != delimiter && s[i] != '\n' && s[i] != '\r') ++i;
      if (i == n) {
        complete = whole;
        break;
      }
      if (s[i] == delimiter) {
        ++fields;
        ++i;
        continue;
      }
      i += (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
      complete = true;
      break;
    }
    if (!complete) break;
    counts.push_back(fields);
  }
  return counts;
}

struct Score {
  char delimiter = 0;
  std::size_t fields = 0;      // the first row's field count
  std::size_t consistent = 0;  // rows with that count
  std::size_t rows = 0;        // rows read
  bool qualifies = false;
};

Score ScoreCandidate(std::string_view sample, char delimiter, char quote, bool whole) {
  Score score;
  score.delimiter = delimiter;
  std::vector<std::size_t> counts = RowFieldCounts(sample, delimiter, quote, whole);
  if (counts.empty()) return score;
  score.rows = counts.size();
  score.fields = counts.front();
  for (std::size_t c : counts) score.consistent += (c == score.fields) ? 1 : 0;
  score.qualifies = score.fields > 1 && score.consistent * 2 > score.rows;
  return score;
}

core::Result<char> ParseOneChar(std::string_view value, std::string_view option) {
  if (value.size() == 1) return value[0];
  if (value == "tab" || value == "\\t") return '\t';
  return core::Status::Invalid(
      fmt::format("{} must be one character, got '{}'", option, value));
}

}  // namespace

std::string DescribeDelimiter(char delimiter) {
  if (delimiter == '\t') return "tab";
  return fmt::format("'{}'", delimiter);
}

core::Status ValidateDialect(const Dialect& dialect) {
  auto bad = [](char c) { return c == '\n' || c == '\r' || c == '\0'; };
  if (bad(dialect.delimiter)) return core::Status::Invalid("delimiter cannot be CR, LF or NUL");
  if (bad(dialect.quote)) return core::Status::Invalid("quote cannot be CR, LF or NUL");
  if (dialect.delimiter == dialect.quote) {
    return core::Status::Invalid(fmt::format("delimiter and quote are both '{}'", dialect.quote));
  }
  return core::Status::Ok();
}

core::Result<char> SniffDelimiter(std::string_view sample, char quote, bool sample_is_whole_file) {
  std::array<Score, kSniffCandidates.size()> scores;
  bool any_rows = false;
  for (std::size_t i = 0; i < kSniffCandidates.size(); ++i) {
    scores[i] = ScoreCandidate(sample, kSniffCandidates[i], quote, sample_is_whole_file);
    any_rows = any_rows || scores[i].rows > 0;
  }
  if (!any_rows) {
    return core::Status::Invalid(
        "cannot detect the delimiter: the sample holds no complete row; set delimiter=");
  }
  const Score* best = nullptr;
  for (const Score& s : scores) {
    if (s.qualifies && (best == nullptr || s.consistent > best->consistent)) best = &s;
  }
  if (best == nullptr) {
    return core::Status::Invalid(
        "cannot detect the delimiter: none of ',' ';' tab '|' splits the rows into a consistent "
        "number (more than one) of fields; set delimiter=");
  }
  std::string tied;
  for (const Score& s : scores) {
    if (s.qualifies && s.consistent == best->consistent) {
      if (!tied.empty()) tied += ", ";
      tied += fmt::format("{} ({} fields)", DescribeDelimiter(s.delimiter), s.fields);
    }
  }
  if (tied.find(", ") != std::string::npos) {
    return core::Status::Invalid(fmt::format(
        "ambiguous delimiter: {} each give {} of {} rows the same field count; set delimiter=",
        tied, best->consistent, best->rows));
  }
  return best->delimiter;
}

core::Result<Dialect> ResolveDialect(const DialectOptions& options, std::string_view sample,
                                     bool sample_is_whole_file) {
  Dialect dialect;
  dialect.header = options.header;
  core::Result<char> quote = ParseOneChar(options.quote, "quote");
  if (!quote) return quote.error();
  dialect.quote = *quote;
  if (options.delimiter == "auto" || options.delimiter.empty()) {
    if (options.format == Format::kTsv) {
      dialect.delimiter = '\t';
    } else {
      core::Result<char> sniffed = SniffDelimiter(sample, dialect.quote, sample_is_whole_file);
      if (!sniffed) return sniffed.error();
      dialect.delimiter = *sniffed;
    }
  } else {
    core::Result<char> delimiter = ParseOneChar(options.delimiter, "delimiter");
    if (!delimiter) return delimiter.error();
    dialect.delimiter = *delimiter;
  }
  if (core::Status st = ValidateDialect(dialect); !st) return st;
  return dialect;
}

}  // namespace sluice::csv
