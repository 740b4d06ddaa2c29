// Dialect: how a delimited text file is spelled (delimiter, quote, header) and
// how `delimiter=auto` finds the delimiter.
//
// Sniffing follows DuckDB's CSV sniffer in spirit: each candidate (`,` `;` tab
// `|`) reads the sample's first rows with the same quote rules the parser uses
// (a quote opens a quoted field only at the start of a field, `""` inside one is
// a quote, newlines inside quotes do not end a row), and the candidate whose
// rows agree on one field count > 1 most often wins. A tie, or no candidate at
// all, is an error value that says what happened, so the user can set
// `delimiter=` instead of getting a table with one column.
//
// Everything here is pure: no I/O, no loop.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/status.hpp"

namespace sluice::csv {

/// How one file is spelled. Delimiter and quote are single bytes (ASCII in
/// practice); they must differ and be neither CR, LF nor NUL.
struct Dialect {
  char delimiter = ',';  ///< field separator
  char quote = '"';      ///< quote character; doubled inside a quoted field
  bool header = true;    ///< the first row names the columns
};

/// The `format` option; `jsonl` is not a dialect and is handled elsewhere.
enum class Format {
  kCsv,  ///< delimiter from `delimiter` (default auto)
  kTsv,  ///< delimiter is tab unless `delimiter` says otherwise
};

/// The dialect options of API.md, as the user gave them.
struct DialectOptions {
  Format format = Format::kCsv;
  std::string delimiter = "auto";  ///< one character, "tab", "\t" or "auto"
  std::string quote = "\"";        ///< one character
  bool header = true;
};

/// The delimiters `auto` considers, in the order they are reported.
inline constexpr std::string_view kSniffCandidates = ",;\t|";
/// At most this many rows of the sample are read per candidate.
inline constexpr std::size_t kSniffMaxRows = 1000;

/// Ok if `dialect` can be parsed unambiguously (delimiter != quote, neither
/// is CR, LF or NUL); otherwise an kInvalid status naming the bad option.
core::Status ValidateDialect(const Dialect& dialect);

/// Picks the delimiter of `sample` among kSniffCandidates. `sample` is the start
/// of the file (BOM already removed); unless `sample_is_whole_file`, a last
/// row without its line end is ignored, since it may be cut. Errors (kInvalid):
/// an empty sample, no candidate giving > 1 field consistently, or a tie (the
/// message names the tied candidates).
core::Result<char> SniffDelimiter(std::string_view sample, char quote = '"',
                                  bool sample_is_whole_file = false);

/// Turns the options into a Dialect, sniffing `sample` when the delimiter is
/// `auto` (tab for Format::kTsv). Errors are kInvalid with the option's name.
core::Result<Dialect> ResolveDialect(const DialectOptions& options, std::string_view sample,
                                     bool sample_is_whole_file = false);

/// "','", "tab", "'|'": how error messages name a delimiter.
std::string DescribeDelimiter(char delimiter);

}  // namespace sluice::csv
