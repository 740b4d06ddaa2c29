// SQL quoting for MariaDB: identifiers in backticks and string literals, for
// the statements sluice builds itself (DDL, LOAD DATA, INSERT, the catalog).
// Names come straight from CSV headers and file names, so they may hold any
// character — backticks, quotes, backslashes, spaces, emoji, control bytes —
// and the only safe way to put them in SQL is to check what MariaDB cannot
// store, then quote the rest (duckdb-mysql's WriteIdentifier does the same).
//
// Identifiers: MariaDB takes any Unicode BMP character except U+0000 in a
// quoted identifier, at most 64 characters, and refuses a name that ends with
// a space (checked against the server: a trailing tab or NBSP is accepted,
// U+0020 is not). Characters outside the BMP are refused because identifiers
// are utf8mb3 in the data dictionary. Quoting doubles every backtick.
//
// String literals are escaped as mysql_real_escape_string does for utf8mb4
// (NUL, \n, \r, \, ', ", ^Z): correct unless the session sets
// NO_BACKSLASH_ESCAPES, which sluice never does.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/status.hpp"

namespace sluice::db {

/// MariaDB's limit on a table or column name, in characters (code points).
inline constexpr std::size_t kMaxIdentifierChars = 64;

/// Ok when MariaDB can store `name` as a table or column name: not empty,
/// valid UTF-8, no U+0000, no character outside the BMP, at most 64
/// characters, no trailing space. Otherwise kInvalid naming the problem.
core::Status ValidateIdentifier(std::string_view name);

/// `name` in backticks with inner backticks doubled, after ValidateIdentifier.
core::Result<std::string> QuoteIdentifier(std::string_view name);

/// Appends `name` quoted, without validating it (the caller did).
void AppendIdentifier(std::string& out, std::string_view name);

/// `text` as a single-quoted SQL string literal (any bytes, NUL included).
std::string QuoteString(std::string_view text);

/// Appends `text` as a single-quoted SQL string literal.
void AppendString(std::string& out, std::string_view text);

/// The number of UTF-8 code points in `text`, or -1 when it is not valid UTF-8
/// (overlongs, surrogates and values past U+10FFFF are invalid).
long Utf8Length(std::string_view text);

}  // namespace sluice::db
