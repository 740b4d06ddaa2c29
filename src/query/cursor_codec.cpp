// Cursor encoding (see cursor_codec.hpp): a flat byte payload, a truncated
// HMAC-SHA256 tag, base64url. Decoding checks, in order: the alphabet and
// canonical form of the base64 (unused bits zero, so no two texts decode to
// one payload), the tag (constant-time), the version and kind, the scope
// digest, and then every length against the bytes that are really there.
// SHA-256 is fetched from OpenSSL once and the HMAC's keyed inner and outer
// states are computed once per key: OpenSSL 3's one-shot HMAC()/SHA256()
// look the algorithm up on every call, which was ~5% of a small page's CPU.
#include "query/cursor_codec.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace sluice::query {
namespace {

constexpr unsigned char kVersion = 1;
constexpr unsigned char kKindKeyset = 1;
constexpr unsigned char kKindOffset = 2;
constexpr std::size_t kScopeBytes = 8;
constexpr std::size_t kTagBytes = 16;
constexpr std::size_t kHeaderBytes = 2 + kScopeBytes;

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

core::Status Bad(std::string message) { return core::Status::Invalid("cursor: " + std::move(message)); }

/// SHA-256, fetched once.
const EVP_MD* Sha256() {
  static EVP_MD* const md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (fetched == nullptr) std::abort();  // no SHA-256: nothing safe to do
    return fetched;
  }();
  return md;
}

/// A digest context primed with one 64-byte block (the HMAC's key ^ pad).
std::shared_ptr<EVP_MD_CTX> PrimedContext(const unsigned char (&key)[SHA256_DIGEST_LENGTH], unsigned char pad) {
  unsigned char block[64];
  std::memset(block, pad, sizeof block);
  for (std::size_t i = 0; i < SHA256_DIGEST_LENGTH; ++i) block[i] ^= key[i];
  std::shared_ptr<EVP_MD_CTX> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), Sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), block, sizeof block) != 1) {
    std::abort();
  }
  OPENSSL_cleanse(block, sizeof block);
  return context;
}

std::string ScopeDigest(std::string_view scope) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  if (EVP_Digest(scope.data(), scope.size(), digest, nullptr, Sha256(), nullptr) != 1) std::abort();
  return std::string(reinterpret_cast<const char*>(digest), kScopeBytes);
}

void PutU64(std::string& out, std::uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

void PutVarint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

/// Reads from a payload with bounds checks; every getter fails once past the end.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool U8(unsigned char& out) {
    if (at_ >= data_.size()) return false;
    out = static_cast<unsigned char>(data_[at_++]);
    return true;
  }
  bool U64(std::uint64_t& out) {
    if (data_.size() - at_ < 8) return false;
    out = 0;
    for (int i = 0; i < 8; ++i) out = (out << 8) | static_cast<unsigned char>(data_[at_++]);
    return true;
  }
  bool Varint(std::uint64_t& out) {
    out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      unsigned char byte = 0;
      if (!U8(byte)) return false;
      out |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }
  bool Bytes(std::size_t count, std::string& out) {
    if (data_.size() - at_ < count) return false;
    out.assign(data_.substr(at_, count));
    at_ += count;
    return true;
  }
  bool Done() const { return at_ == data_.size(); }

 private:
  std::string_view data_;
  std::size_t at_ = 0;
};

void AppendField(std::string& out, std::string_view field) {
  PutVarint(out, field.size());
  out.append(field);
}

void AppendFilters(std::string& out, const TableSchema& schema, const std::vector<Filter>& filters) {
  PutVarint(out, filters.size());
  for (const auto& filter : filters) {
    AppendField(out, schema.columns[filter.column].name);
    AppendField(out, OpName(filter.op));
    PutVarint(out, filter.values.size());
    for (const auto& value : filter.values) AppendField(out, value);
  }
}

void AppendSort(std::string& out, const std::vector<SortKey>& sort) {
  PutVarint(out, sort.size());
  for (const auto& key : sort) {
    PutVarint(out, key.column);
    out.push_back(key.descending ? 'd' : 'a');
  }
}

}  // namespace

CursorCodec::CursorCodec(std::string_view secret) {
  unsigned char key[SHA256_DIGEST_LENGTH];
  if (secret.empty()) {
    if (RAND_bytes(key, sizeof key) != 1) std::abort();  // no randomness: nothing safe to do
  } else {
    static constexpr std::string_view kLabel = "sluice cursor key v1";
    unsigned int length = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(kLabel.data()), kLabel.size(), key, &length);
  }
  // HMAC(key, m) = H((key ^ opad) || H((key ^ ipad) || m)), key padded to
  // SHA-256's 64-byte block: both prefixes are hashed here, once.
  inner_ = PrimedContext(key, 0x36);
  outer_ = PrimedContext(key, 0x5c);
  OPENSSL_cleanse(key, sizeof key);
}

std::string CursorCodec::Tag(std::string_view payload) const {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char inner[SHA256_DIGEST_LENGTH];
  unsigned char mac[SHA256_DIGEST_LENGTH];
  if (!context || EVP_MD_CTX_copy_ex(context.get(), inner_.get()) != 1 ||
      EVP_DigestUpdate(context.get(), payload.data(), payload.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), inner, nullptr) != 1 || EVP_MD_CTX_copy_ex(context.get(), outer_.get()) != 1 ||
      EVP_DigestUpdate(context.get(), inner, sizeof inner) != 1 ||
      EVP_DigestFinal_ex(context.get(), mac, nullptr) != 1) {
    std::abort();
  }
  return std::string(reinterpret_cast<const char*>(mac), kTagBytes);
}

std::string CursorCodec::Encode(std::string_view scope, const CursorPosition& position) const {
  std::string payload;
  payload.push_back(static_cast<char>(kVersion));
  if (const auto* keyset = std::get_if<KeysetPosition>(&position)) {
    payload.push_back(static_cast<char>(kKindKeyset));
    payload += ScopeDigest(scope);
    PutU64(payload, static_cast<std::uint64_t>(keyset->row));
    PutVarint(payload, keyset->values.size());
    for (const auto& value : keyset->values) {
      payload.push_back(value ? 1 : 0);
      if (value) AppendField(payload, *value);
    }
  } else {
    payload.push_back(static_cast<char>(kKindOffset));
    payload += ScopeDigest(scope);
    PutU64(payload, std::get<std::uint64_t>(position));
  }
  payload += Tag(payload);
  return Base64UrlEncode(payload);
}

core::Result<CursorPosition> CursorCodec::Decode(std::string_view token, std::string_view scope,
                                                 std::size_t key_count) const {
  std::string bytes;
  if (!Base64UrlDecode(token, bytes) || bytes.size() < kHeaderBytes + kTagBytes) {
    return Bad("not a cursor of this server (use the next_cursor of the previous page as it is)");
  }
  std::string_view payload(bytes.data(), bytes.size() - kTagBytes);
  std::string tag = Tag(payload);
  if (CRYPTO_memcmp(tag.data(), bytes.data() + payload.size(), kTagBytes) != 0) {
    return Bad("the cursor was altered or comes from another server (use next_cursor as it is)");
  }
  Reader reader(payload);
  unsigned char version = 0, kind = 0;
  std::string digest;
  reader.U8(version);
  reader.U8(kind);
  reader.Bytes(kScopeBytes, digest);
  if (version != kVersion) return Bad("cursor from another version of sluice");
  if (digest != ScopeDigest(scope)) {
    return Bad("the cursor belongs to another query (table, filters and sort must stay the same between pages)");
  }
  if (kind == kKindOffset) {
    std::uint64_t offset = 0;
    if (!reader.U64(offset) || !reader.Done()) return Bad("malformed cursor");
    return CursorPosition(offset);
  }
  if (kind != kKindKeyset) return Bad("malformed cursor");
  KeysetPosition position;
  std::uint64_t row = 0, count = 0;
  if (!reader.U64(row) || !reader.Varint(count) || count != key_count) return Bad("malformed cursor");
  position.row = static_cast<std::int64_t>(row);
  for (std::uint64_t i = 0; i < count; ++i) {
    unsigned char present = 0;
    if (!reader.U8(present) || present > 1) return Bad("malformed cursor");
    if (present == 0) {
      position.values.emplace_back(std::nullopt);
      continue;
    }
    std::uint64_t length = 0;
    std::string value;
    if (!reader.Varint(length) || !reader.Bytes(length, value)) return Bad("malformed cursor");
    position.values.emplace_back(std::move(value));
  }
  if (!reader.Done()) return Bad("malformed cursor");
  return CursorPosition(std::move(position));
}

std::string RowsCursorScope(const TableSchema& schema, const RowsQuery& query) {
  std::string scope = "rows";
  AppendField(scope, schema.name);
  AppendFilters(scope, schema, query.filters);
  AppendSort(scope, query.sort);
  return scope;
}

std::string AggregateCursorScope(const TableSchema& schema, const AggregateQuery& query) {
  std::string scope = "aggregate";
  AppendField(scope, schema.name);
  AppendFilters(scope, schema, query.filters);
  PutVarint(scope, query.group_by.size());
  for (std::size_t index : query.group_by) AppendField(scope, schema.columns[index].name);
  PutVarint(scope, query.aggregates.size());
  for (const auto& aggregate : query.aggregates) AppendField(scope, aggregate.name);
  AppendSort(scope, query.sort);
  return scope;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    std::uint32_t v = at(i) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    std::uint32_t v = (at(i) << 16) | (at(i + 1) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

bool Base64UrlDecode(std::string_view text, std::string& out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  if (text.size() % 4 == 1) return false;
  out.clear();
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return false;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  // Canonical form only: the bits left over must be zero.
  return (buffer & ((1u << bits) - 1)) == 0;
}

}  // namespace sluice::query
