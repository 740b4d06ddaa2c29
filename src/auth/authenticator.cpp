// See authenticator.hpp.
#include "auth/authenticator.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <simdjson.h>

#include <fmt/format.h>

namespace sluice::auth {
namespace {

void Sha256(std::string_view data, unsigned char out[32]) {
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &length);
  return std::string(reinterpret_cast<char*>(mac), length);
}

AuthError Unauthorized(std::string message) { return {401, "unauthorized", std::move(message)}; }

}  // namespace

std::optional<Role> ParseRole(std::string_view text) {
  if (text == "read") return Role::kRead;
  if (text == "write") return Role::kWrite;
  if (text == "admin") return Role::kAdmin;
  return std::nullopt;
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kRead: return "read";
    case Role::kWrite: return "write";
    case Role::kAdmin: return "admin";
    case Role::kNone: break;
  }
  return "none";
}

std::string Base64UrlEncode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint8_t(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (bytes.size() - i == 1) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
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
  out.clear();
  if (text.size() % 4 == 1) return false;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return false;
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero (canonical encoding).
  return (buffer & ((1u << bits) - 1)) == 0;
}

std::string SignJwtHs256(std::string_view header_json, std::string_view payload_json, std::string_view secret) {
  std::string signing_input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload_json);
  return signing_input + "." + Base64UrlEncode(HmacSha256(secret, signing_input));
}

Authenticator::Authenticator(const config::AuthConfig& config) : jwt_secret_(config.jwt_secret) {
  for (const auto& entry : config.tokens) {
    TokenDigest digest{};
    Sha256(entry.token, digest.sha256);
    digest.role = ParseRole(entry.role).value_or(Role::kNone);
    tokens_.push_back(digest);
  }
}

Authenticator::Outcome Authenticator::Identify(std::optional<std::string_view> authorization, int64_t now) const {
  if (!enabled()) return {Principal{Role::kAdmin, "anonymous"}, std::nullopt};
  if (!authorization) return {std::nullopt, Unauthorized("this endpoint needs an Authorization: Bearer <token> header")};
  std::string_view value = *authorization;
  constexpr std::string_view kBearer = "bearer ";
  bool bearer = value.size() > kBearer.size();
  for (size_t i = 0; bearer && i < kBearer.size(); ++i) {
    char c = value[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bearer = (c == kBearer[i]);
  }
  if (!bearer) return {std::nullopt, Unauthorized("the Authorization header must be \"Bearer <token>\"")};
  std::string_view credential = value.substr(kBearer.size());
  while (!credential.empty() && credential.front() == ' ') credential.remove_prefix(1);
  while (!credential.empty() && credential.back() == ' ') credential.remove_suffix(1);

  // Static tokens: compare digests in constant time, and look at every entry.
  unsigned char digest[32];
  Sha256(credential, digest);
  std::optional<size_t> matched;
  for (size_t i = 0; i < tokens_.size(); ++i) {
    if (CRYPTO_memcmp(digest, tokens_[i].sha256, sizeof digest) == 0 && !matched) matched = i;
  }
  if (matched) return {Principal{tokens_[*matched].role, fmt::format("token:{}", *matched + 1)}, std::nullopt};

  if (!jwt_secret_.empty() && std::count(credential.begin(), credential.end(), '.') == 2) {
    return VerifyJwt(credential, now);
  }
  return {std::nullopt, Unauthorized("the token is not valid")};
}

Authenticator::Outcome Authenticator::Check(std::optional<std::string_view> authorization, Role needed,
                                            int64_t now) const {
  Outcome outcome = Identify(authorization, now);
  if (!outcome.principal) return outcome;
  if (static_cast<int>(outcome.principal->role) < static_cast<int>(needed)) {
    return {std::nullopt, AuthError{403, "forbidden",
                                    fmt::format("this endpoint needs the {} role; the token has {}",
                                                RoleName(needed), RoleName(outcome.principal->role))}};
  }
  return outcome;
}

Authenticator::Outcome Authenticator::VerifyJwt(std::string_view jwt, int64_t now) const {
  size_t first = jwt.find('.');
  size_t second = jwt.find('.', first + 1);
  std::string_view header_b64 = jwt.substr(0, first);
  std::string_view payload_b64 = jwt.substr(first + 1, second - first - 1);
  std::string_view signature_b64 = jwt.substr(second + 1);
  std::string header;
  std::string payload;
  std::string signature;
  if (!Base64UrlDecode(header_b64, header) || !Base64UrlDecode(payload_b64, payload) ||
      !Base64UrlDecode(signature_b64, signature)) {
    return {std::nullopt, Unauthorized("the JWT is not valid base64url")};
  }
  simdjson::dom::parser parser;
  simdjson::dom::element header_doc;
  if (parser.parse(header).get(header_doc) != simdjson::SUCCESS || !header_doc.is_object()) {
    return {std::nullopt, Unauthorized("the JWT header is not a JSON object")};
  }
  std::string_view alg;
  if (header_doc["alg"].get(alg) != simdjson::SUCCESS || alg != "HS256") {
    return {std::nullopt, Unauthorized("the JWT must be signed with HS256")};
  }
  // Signature before reading any claim: an unsigned payload is never trusted.
  std::string expected = HmacSha256(jwt_secret_, jwt.substr(0, second));
  if (signature.size() != expected.size() ||
      CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
    return {std::nullopt, Unauthorized("the JWT signature does not match")};
  }
  simdjson::dom::parser payload_parser;
  simdjson::dom::element claims;
  if (payload_parser.parse(payload).get(claims) != simdjson::SUCCESS || !claims.is_object()) {
    return {std::nullopt, Unauthorized("the JWT payload is not a JSON object")};
  }
  auto number_claim = [&](const char* name) -> std::optional<int64_t> {
    simdjson::dom::element element;
    if (claims[name].get(element) != simdjson::SUCCESS) return std::nullopt;
    int64_t integer = 0;
    double real = 0;
    if (element.get(integer) == simdjson::SUCCESS) return integer;
    if (element.get(real) == simdjson::SUCCESS) return static_cast<int64_t>(real);
    return std::nullopt;
  };
  auto exp = number_claim("exp");
  if (!exp) return {std::nullopt, Unauthorized("the JWT has no numeric exp claim")};
  if (now >= *exp) return {std::nullopt, Unauthorized("the JWT has expired")};
  if (auto nbf = number_claim("nbf"); nbf && now < *nbf) {
    return {std::nullopt, Unauthorized("the JWT is not valid yet (nbf)")};
  }
  std::string_view role_text;
  std::optional<Role> role;
  if (claims["role"].get(role_text) == simdjson::SUCCESS) role = ParseRole(role_text);
  if (!role) return {std::nullopt, Unauthorized("the JWT role claim must be read, write or admin")};
  std::string_view subject = "jwt";
  if (claims["sub"].get(subject) != simdjson::SUCCESS) subject = "jwt";
  return {Principal{*role, std::string(subject)}, std::nullopt};
}

}  // namespace sluice::auth
