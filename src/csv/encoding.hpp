// Encoding: which text encoding a file is in, and turning it into UTF-8.
//
// sluice stores UTF-8 (utf8mb4). A file is either UTF-8 (validated with
// simdjson's SIMD validator, several GB/s) or Latin-1, transcoded here. The
// delimiter, quote, CR and LF are ASCII in both, and ASCII bytes never occur
// inside a UTF-8 multi-byte sequence, so the splitter and the parser work on
// the raw bytes and only the field text is validated or transcoded.
//
// `latin-1` is read the way MariaDB reads its `latin1`: as Windows-1252, so
// 0x80 is the euro sign and 0x93/0x94 are curly quotes (what Excel writes),
// and the five bytes cp1252 leaves undefined map to U+0081, U+008D, U+008F,
// U+0090 and U+009D as in MariaDB.
//
// `auto` (the default) is decided once, on the first block of the file:
// a UTF-8 BOM, or a first block that is valid UTF-8 (pure ASCII included),
// means UTF-8 for the whole file; otherwise the file is Latin-1. Later rows
// with invalid UTF-8 in a file decided UTF-8 are bad rows; they do not change
// the decision (rows already loaded cannot be re-read).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sluice::csv {

/// The `encoding` option.
enum class Encoding {
  kUtf8,    ///< validated; invalid text makes a bad row
  kLatin1,  ///< Windows-1252, transcoded to UTF-8; every byte is valid
  kAuto,    ///< UTF-8, or Latin-1 when the first block is not valid UTF-8
};

/// The UTF-8 byte order mark.
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

/// "utf-8" / "utf8", "latin-1" / "latin1" / "iso-8859-1" / "cp1252" /
/// "windows-1252", "auto" (any case); anything else is kInvalid.
core::Result<Encoding> ParseEncoding(std::string_view name);

/// "utf-8", "latin-1" or "auto".
std::string_view EncodingName(Encoding encoding);

/// True if `text` is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF).
bool IsValidUtf8(std::string_view text) noexcept;

/// True if `text` starts with a UTF-8 BOM.
bool HasUtf8Bom(std::string_view text) noexcept;

/// `text` without a leading UTF-8 BOM.
std::string_view StripUtf8Bom(std::string_view text) noexcept;

/// Appends `latin1` (Windows-1252) to `out` as UTF-8.
void AppendLatin1AsUtf8(std::string_view latin1, std::string& out);

/// `latin1` (Windows-1252) as UTF-8.
std::string Latin1ToUtf8(std::string_view latin1);

/// The encoding a file is read in: `requested` unless it is kAuto, in which
/// case the rule above decides on `first_block` (the first block of the file,
/// which ends at a row boundary) and `had_bom`.
Encoding DecideEncoding(Encoding requested, std::string_view first_block, bool had_bom) noexcept;

}  // namespace sluice::csv
