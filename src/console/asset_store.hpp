// AssetStore: the web console's files ready to serve. Built once at start from
// the embedded files: each gets its Content-Type, a gzip copy (zlib level 9,
// kept only when smaller) and an ETag per representation (a SHA-256 prefix of
// the bytes; the gzip copy's ends in "-gz", as the bytes differ). Serve() is
// the whole HTTP decision for one request — 200 or 304 (If-None-Match), which
// representation, and the headers: a strict Content-Security-Policy (only the
// console's own files: no inline script or style, no other origin),
// `Cache-Control: no-cache` (revalidate with the ETag each time, so a new
// binary's console shows at once), Vary, nosniff. Pure code: no sockets.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "console/embedded_files.hpp"
#include "http/request.hpp"

namespace sluice::console {

/// The policy every console answer carries.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

struct Asset {
  std::string name;          ///< "app.js"
  std::string content_type;  ///< "text/javascript; charset=utf-8"
  std::string_view bytes;    ///< the file as embedded
  std::string gzip;          ///< gzip of `bytes`; empty when it would not be smaller
  std::string etag;          ///< "\"<hex>\""
  std::string gzip_etag;     ///< "\"<hex>-gz\""
};

struct AssetReply {
  int status = 200;          ///< 200, 304 or 404
  std::string_view body;     ///< empty on 304 and 404
  std::string content_type;  ///< of the asset (empty on 404)
  http::HeaderList headers;
};

class AssetStore {
 public:
  explicit AssetStore(std::span<const EmbeddedFile> files);

  const Asset* Find(std::string_view name) const;
  const std::vector<Asset>& assets() const { return assets_; }

  /// The answer for GET of `name` given the request's If-None-Match and
  /// whether its Accept-Encoding takes gzip.
  AssetReply Serve(std::string_view name, std::optional<std::string_view> if_none_match, bool accepts_gzip) const;

  /// "text/html; charset=utf-8" for "x.html", by extension;
  /// application/octet-stream for anything unknown.
  static std::string_view ContentTypeFor(std::string_view name);
  /// If-None-Match (a list of entity tags, or "*") against `etag`, with the
  /// weak comparison RFC 9110 13.1.2 asks for (a W/ prefix is ignored).
  static bool IfNoneMatchHits(std::string_view if_none_match, std::string_view etag);

 private:
  std::vector<Asset> assets_;
};

}  // namespace sluice::console
