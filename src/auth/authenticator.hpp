// Authenticator: decides who a request is from its `Authorization: Bearer …`
// header (API.md "Authentication"). Two kinds of credential:
//  - static tokens from [auth] tokens, each with a role, compared in constant
//    time (CRYPTO_memcmp over SHA-256 digests, so neither content nor length
//    leaks through timing);
//  - JWTs (HS256 only) signed with [auth] jwt_secret, carrying `exp`
//    (required), optional `nbf`, and a `role` claim. `alg` must be exactly
//    HS256 — "none" and every other algorithm are refused.
// Roles nest: admin ⊃ write ⊃ read. With no tokens and no jwt_secret
// configured, auth is off and every request acts as admin (the server then
// refuses to listen beyond loopback). Pure code: the clock is passed in.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/role.hpp"
#include "config/config.hpp"

namespace sluice::auth {

/// Who made the request.
struct Principal {
  Role role = Role::kNone;
  std::string subject;  ///< "token:<n>" for the n-th static token, the JWT's `sub`, or "anonymous"
};

/// Why a request was refused (401 unless stated).
struct AuthError {
  int status = 401;
  std::string code;     ///< "unauthorized" (401) or "forbidden" (403)
  std::string message;
};

class Authenticator {
 public:
  explicit Authenticator(const config::AuthConfig& config);

  /// False when no tokens and no JWT secret are configured (everyone is admin).
  bool enabled() const { return !tokens_.empty() || !jwt_secret_.empty(); }

  /// Checks the Authorization header (nullopt when absent) against `needed`.
  /// `now` is seconds since the epoch.
  struct Outcome {
    std::optional<Principal> principal;  ///< set when allowed
    std::optional<AuthError> error;      ///< set when refused
  };
  Outcome Check(std::optional<std::string_view> authorization, Role needed, int64_t now) const;

  /// Identifies the caller without a role check (401 errors only).
  Outcome Identify(std::optional<std::string_view> authorization, int64_t now) const;

 private:
  struct TokenDigest {
    unsigned char sha256[32];
    Role role;
  };
  Outcome VerifyJwt(std::string_view jwt, int64_t now) const;

  std::vector<TokenDigest> tokens_;
  std::string jwt_secret_;
};

/// base64url without padding (RFC 4648 §5) — for JWTs and tests.
std::string Base64UrlEncode(std::string_view bytes);
bool Base64UrlDecode(std::string_view text, std::string& out);

/// Signs a JWT with HS256 (tests and tools: `sluice` never issues tokens
/// itself, but tests need real ones).
std::string SignJwtHs256(std::string_view header_json, std::string_view payload_json, std::string_view secret);

}  // namespace sluice::auth
