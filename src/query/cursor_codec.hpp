// Cursors: the opaque `next_cursor` of a page and the `cursor` parameter that
// brings it back. A cursor is base64url of a small binary payload followed by
// a 128-bit HMAC-SHA256 tag over it, so a client can neither read meaning
// into it nor alter it: any change (a flipped bit, a truncation, another
// query's cursor) is refused, which the API answers with 400.
//
// Payload: version (1), kind, the first 8 bytes of SHA-256 of the query's
// scope (table, filters, sort or grouping — a cursor only works for the query
// that made it; select, limit and format may change between pages), then
//   keyset: `_row` and the last row's sort-key values (NULL or bytes), or
//   offset: the next page's offset (aggregates; rows whose sort keys are too
//           long for a URL).
//
// The key: derived from the conf's [auth] jwt_secret when one is set (so a
// cursor survives a restart and works on every process sharing that conf), a
// random per-process key otherwise.
//
// Pure: OpenSSL for the hash, HMAC and randomness; no loop.
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "core/result.hpp"
#include "query/query_model.hpp"

namespace sluice::query {

/// Where the next page starts: after a keyset position, or at an offset.
using CursorPosition = std::variant<KeysetPosition, std::uint64_t>;

/// Signs and checks cursors; see the top of this file.
class CursorCodec {
 public:
  /// Keyed from `secret`; an empty secret means a random per-process key.
  explicit CursorCodec(std::string_view secret);

  /// A keyset cursor for `scope` (see RowsCursorScope).
  std::string Encode(std::string_view scope, const CursorPosition& position) const;

  /// The position in `token`, or kInvalid when it is not a cursor this codec
  /// made for `scope` (tampered, truncated, another query's, another key's).
  /// A keyset position always has `key_count` values.
  core::Result<CursorPosition> Decode(std::string_view token, std::string_view scope, std::size_t key_count) const;

 private:
  std::string Tag(std::string_view payload) const;
  /// SHA-256 states after the HMAC key's inner / outer block (copied per tag).
  std::shared_ptr<EVP_MD_CTX> inner_;
  std::shared_ptr<EVP_MD_CTX> outer_;
};

/// The scope of a /rows cursor: the table, the filters and the sort.
std::string RowsCursorScope(const TableSchema& schema, const RowsQuery& query);
/// The scope of a /aggregate cursor: the table, filters, grouping, aggregates and sort.
std::string AggregateCursorScope(const TableSchema& schema, const AggregateQuery& query);

/// base64url without padding (RFC 4648 §5).
std::string Base64UrlEncode(std::string_view bytes);
/// The inverse; false on any character outside the alphabet, padding, or an
/// impossible length.
bool Base64UrlDecode(std::string_view text, std::string& out);

}  // namespace sluice::query
