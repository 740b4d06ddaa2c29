// See asset_store.hpp.
#include "console/asset_store.hpp"

#include <openssl/sha.h>

#include <array>

#include "zlib/gzip_stream.hpp"

namespace sluice::console {
namespace {

std::string HexPrefix(std::string_view bytes, std::size_t hex_chars) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest.data());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < digest.size() && out.size() < hex_chars; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

std::string Gzip(std::string_view bytes) {
  std::string out;
  glue::GzipDeflater deflater(9);
  auto sink = [&out](std::string_view piece) { out.append(piece); };
  deflater.Feed(bytes, sink);
  deflater.Finish(sink);
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

AssetStore::AssetStore(std::span<const EmbeddedFile> files) {
  assets_.reserve(files.size());
  for (const auto& file : files) {
    Asset asset;
    asset.name = std::string(file.name);
    asset.content_type = std::string(ContentTypeFor(file.name));
    asset.bytes = file.bytes;
    std::string gz = Gzip(file.bytes);
    if (gz.size() < file.bytes.size()) asset.gzip = std::move(gz);
    std::string hash = HexPrefix(file.bytes, 20);
    asset.etag = "\"" + hash + "\"";
    asset.gzip_etag = "\"" + hash + "-gz\"";
    assets_.push_back(std::move(asset));
  }
}

const Asset* AssetStore::Find(std::string_view name) const {
  for (const auto& asset : assets_) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

std::string_view AssetStore::ContentTypeFor(std::string_view name) {
  if (EndsWith(name, ".html")) return "text/html; charset=utf-8";
  if (EndsWith(name, ".css")) return "text/css; charset=utf-8";
  if (EndsWith(name, ".js")) return "text/javascript; charset=utf-8";
  if (EndsWith(name, ".svg")) return "image/svg+xml";
  if (EndsWith(name, ".png")) return "image/png";
  if (EndsWith(name, ".json")) return "application/json; charset=utf-8";
  return "application/octet-stream";
}

bool AssetStore::IfNoneMatchHits(std::string_view if_none_match, std::string_view etag) {
  std::string_view rest = if_none_match;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view tag = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (tag == "*") return true;
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    if (tag == etag) return true;
  }
  return false;
}

AssetReply AssetStore::Serve(std::string_view name, std::optional<std::string_view> if_none_match,
                             bool accepts_gzip) const {
  AssetReply reply;
  const Asset* asset = Find(name);
  if (asset == nullptr) {
    reply.status = 404;
    return reply;
  }
  bool gzip = accepts_gzip && !asset->gzip.empty();
  const std::string& etag = gzip ? asset->gzip_etag : asset->etag;
  reply.content_type = asset->content_type;
  reply.headers = {{"ETag", etag},
                   {"Cache-Control", "no-cache"},
                   {"Vary", "Accept-Encoding"},
                   {"Content-Security-Policy", std::string(kContentSecurityPolicy)},
                   {"X-Content-Type-Options", "nosniff"},
                   {"Referrer-Policy", "no-referrer"}};
  // Either representation's tag revalidates (both are the same file); the
  // 304 names the one the client holds, so its cache entry stays fresh.
  if (if_none_match) {
    const std::string* held = nullptr;
    if (IfNoneMatchHits(*if_none_match, etag)) {
      held = &etag;
    } else if (IfNoneMatchHits(*if_none_match, asset->etag)) {
      held = &asset->etag;
    } else if (IfNoneMatchHits(*if_none_match, asset->gzip_etag)) {
      held = &asset->gzip_etag;
    }
    if (held != nullptr) {
      reply.status = 304;
      reply.headers[0].second = *held;
      return reply;
    }
  }
  if (gzip) {
    reply.headers.emplace_back("Content-Encoding", "gzip");
    reply.body = asset->gzip;
  } else {
    reply.body = asset->bytes;
  }
  return reply;
}

}  // namespace sluice::console
