// Header: the header row → the table's column names, exactly as API.md says.
//
// A name is the header's own text (`Number of Plays` stays as it is):
//  - leading/trailing ASCII whitespace and a leading UTF-8 BOM removed;
//  - empty → `c<N>` (N = 1-based column position);
//  - cut to 64 characters (code points, never inside one), trailing
//    whitespace the cut exposes removed;
//  - duplicates, compared as MariaDB compares column names (case-insensitive,
//    accent-sensitive), get `_2`, `_3`…: the first of equal names keeps its
//    name, and a name the file itself uses is never taken by a generated one
//    (`a,a,a_2` → `a, a_3, a_2`). Suffixed names are cut so they fit in 64
//    characters too. `_row` is taken by the hidden row key, so a `_row`
//    column becomes `_row_2`.
// MariaDB also refuses U+0000 and characters outside the Basic Multilingual
// Plane in identifiers, and the text must be UTF-8: those become U+FFFD.
// With header=false the columns are `c1`…`cN`. The original header text is
// kept next to each name for the catalog.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::csv {

/// A column of the target table.
struct Column {
  std::string name;    ///< the column name in MariaDB
  std::string header;  ///< the header cell as it was in the file ("" without header)
};

/// MariaDB's limit on a column name, in characters.
inline constexpr std::size_t kMaxColumnNameChars = 64;
/// The hidden row key every table has; no header column may take it.
inline constexpr std::string_view kRowKeyColumn = "_row";

/// Column names for a header row (`header=true`).
std::vector<Column> NameColumns(std::span<const std::string_view> header);
std::vector<Column> NameColumns(std::span<const std::string> header);

/// `c1`…`cN` (`header=false`).
std::vector<Column> DefaultColumns(std::size_t count);

/// The key MariaDB compares column names by: simple upper-case folding of
/// ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic letters.
std::string FoldColumnName(std::string_view name);

/// True if MariaDB would take `a` and `b` for the same column name.
bool SameColumnName(std::string_view a, std::string_view b);

}  // namespace sluice::csv
