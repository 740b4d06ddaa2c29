// SigV4 signing steps (see sigv4.hpp). Pure string work plus OpenSSL's
// SHA-256 and HMAC; no clock, no I/O. The order of the steps follows the AWS
// documents, so each intermediate can be compared with a published vector.
#include "s3/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace sluice::s3 {
namespace {

constexpr char kHexLower[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

// Trims leading/trailing blanks and turns each run of blanks into one space.
std::string TrimAll(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool pending_space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

std::span<const unsigned char> Bytes(std::string_view s) {
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

}  // namespace

AmzDate FormatAmzDate(std::chrono::sys_seconds t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{t - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  AmzDate out;
  out.date_time = buf;
  out.date = out.date_time.substr(0, 8);
  return out;
}

std::string UriEncode(std::string_view in, bool encode_slash) {
  std::string out;
  out.reserve(in.size() + in.size() / 2);
  for (char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHexUpper[c >> 4]);
      out.push_back(kHexUpper[c & 0x0f]);
    }
  }
  return out;
}

std::string CanonicalQueryString(const KeyValues& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& [name, value] : params) encoded.emplace_back(UriEncode(name, true), UriEncode(value, true));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

CanonicalHeaderSet CanonicalizeHeaders(const KeyValues& headers) {
  std::vector<std::pair<std::string, std::string>> lowered;
  lowered.reserve(headers.size());
  for (const auto& [name, value] : headers) lowered.emplace_back(Lower(TrimAll(name)), TrimAll(value));
  // Stable: repeated names keep the caller's order when their values are joined.
  std::stable_sort(lowered.begin(), lowered.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  CanonicalHeaderSet out;
  for (size_t i = 0; i < lowered.size(); ++i) {
    const bool repeat = i > 0 && lowered[i].first == lowered[i - 1].first;
    if (repeat) {
      out.canonical.pop_back();  // the '\n' of the previous line
      out.canonical.push_back(',');
    } else {
      if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
      out.signed_headers += lowered[i].first;
      out.canonical += lowered[i].first;
      out.canonical.push_back(':');
    }
    out.canonical += lowered[i].second;
    out.canonical.push_back('\n');
  }
  return out;
}

std::string CanonicalRequest(std::string_view method, std::string_view path, const KeyValues& query,
                             const KeyValues& headers, std::string_view payload_hash) {
  const CanonicalHeaderSet h = CanonicalizeHeaders(headers);
  std::string out;
  out += method;
  out.push_back('\n');
  out += path.empty() ? std::string("/") : UriEncode(path, false);
  out.push_back('\n');
  out += CanonicalQueryString(query);
  out.push_back('\n');
  out += h.canonical;
  out.push_back('\n');
  out += h.signed_headers;
  out.push_back('\n');
  out += payload_hash;
  return out;
}

std::string CredentialScope(std::string_view date, std::string_view region, std::string_view service) {
  std::string out;
  out.reserve(date.size() + region.size() + service.size() + 16);
  out += date;
  out += '/';
  out += region;
  out += '/';
  out += service;
  out += "/aws4_request";
  return out;
}

std::string StringToSign(std::string_view date_time, std::string_view scope, std::string_view canonical_request) {
  std::string out;
  out += kAlgorithm;
  out.push_back('\n');
  out += date_time;
  out.push_back('\n');
  out += scope;
  out.push_back('\n');
  out += Sha256Hex(canonical_request);
  return out;
}

Digest HmacSha256(std::span<const unsigned char> key, std::string_view data) {
  Digest out{};
  unsigned int len = 0;
  const unsigned char* rc = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                                 reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  if (rc == nullptr || len != out.size()) std::abort();  // OpenSSL without SHA-256: nothing can work
  return out;
}

Digest SigningKey(std::string_view secret_key, std::string_view date, std::string_view region,
                  std::string_view service) {
  std::string first = "AWS4";
  first += secret_key;
  Digest k = HmacSha256(Bytes(first), date);
  OPENSSL_cleanse(first.data(), first.size());
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  return HmacSha256(k, "aws4_request");
}

std::string HexEncode(std::span<const unsigned char> bytes) {
  std::string out;
  out.resize(bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kHexLower[bytes[i] >> 4];
    out[2 * i + 1] = kHexLower[bytes[i] & 0x0f];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  Digest d{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr) != 1) std::abort();
  return HexEncode(d);
}

// ---- Sha256 ----

void Sha256::CtxDeleter::operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) std::abort();
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Update(std::string_view data) {
  if (EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1) std::abort();
}

Digest Sha256::Final() {
  Digest d{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), d.data(), &len) != 1) std::abort();
  return d;
}

std::string Sha256::FinalHex() { return HexEncode(Final()); }

// ---- Signer ----

Signer::Signer(Credentials credentials, std::string region, std::string service)
    : credentials_(std::move(credentials)), region_(std::move(region)), service_(std::move(service)) {}

HeaderSignature Signer::Sign(const RequestToSign& request, std::chrono::sys_seconds now,
                             bool add_content_sha256) const {
  const AmzDate when = FormatAmzDate(now);
  HeaderSignature out;
  out.headers.reserve(request.headers.size() + 4);
  for (const auto& kv : request.headers) {
    if (IEquals(kv.first, "x-amz-date") || IEquals(kv.first, "authorization") ||
        (add_content_sha256 && IEquals(kv.first, "x-amz-content-sha256")) ||
        (!credentials_.session_token.empty() && IEquals(kv.first, "x-amz-security-token"))) {
      continue;  // ours to set
    }
    out.headers.push_back(kv);
  }
  out.headers.emplace_back("x-amz-date", when.date_time);
  if (add_content_sha256) out.headers.emplace_back("x-amz-content-sha256", request.payload_hash);
  if (!credentials_.session_token.empty()) out.headers.emplace_back("x-amz-security-token", credentials_.session_token);

  out.canonical_request =
      CanonicalRequest(request.method, request.path, request.query, out.headers, request.payload_hash);
  out.signed_headers = CanonicalizeHeaders(out.headers).signed_headers;
  const std::string scope = CredentialScope(when.date, region_, service_);
  out.string_to_sign = StringToSign(when.date_time, scope, out.canonical_request);
  Digest key = SigningKey(credentials_.secret_key, when.date, region_, service_);
  out.signature = HexEncode(HmacSha256(key, out.string_to_sign));
  OPENSSL_cleanse(key.data(), key.size());

  out.authorization.reserve(200);
  out.authorization += kAlgorithm;
  out.authorization += " Credential=";
  out.authorization += credentials_.access_key;
  out.authorization += '/';
  out.authorization += scope;
  out.authorization += ", SignedHeaders=";
  out.authorization += out.signed_headers;
  out.authorization += ", Signature=";
  out.authorization += out.signature;
  out.headers.emplace_back("authorization", out.authorization);
  return out;
}

QuerySignature Signer::Presign(std::string_view method, std::string_view host, std::string_view path,
                               const KeyValues& query, std::chrono::seconds expires,
                               std::chrono::sys_seconds now) const {
  const AmzDate when = FormatAmzDate(now);
  const std::string scope = CredentialScope(when.date, region_, service_);
  KeyValues params = query;
  params.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  params.emplace_back("X-Amz-Credential", credentials_.access_key + "/" + scope);
  params.emplace_back("X-Amz-Date", when.date_time);
  params.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
  if (!credentials_.session_token.empty()) params.emplace_back("X-Amz-Security-Token", credentials_.session_token);
  params.emplace_back("X-Amz-SignedHeaders", "host");

  const KeyValues headers{{"host", std::string(host)}};
  QuerySignature out;
  out.canonical_request = CanonicalRequest(method, path, params, headers, kUnsignedPayload);
  out.string_to_sign = StringToSign(when.date_time, scope, out.canonical_request);
  Digest key = SigningKey(credentials_.secret_key, when.date, region_, service_);
  out.signature = HexEncode(HmacSha256(key, out.string_to_sign));
  OPENSSL_cleanse(key.data(), key.size());
  out.query_string = CanonicalQueryString(params) + "&X-Amz-Signature=" + out.signature;
  return out;
}

}  // namespace sluice::s3
