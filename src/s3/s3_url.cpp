// S3 addressing (see s3_url.hpp): endpoint parsing, the virtual-hosted /
// path-style choice, and URL assembly with keys encoded once.
#include "s3/s3_url.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace sluice::s3 {
namespace {

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool IsIpv4(std::string_view h) {
  int dots = 0;
  int digits = 0;
  for (char c : h) {
    if (c == '.') {
      if (digits == 0) return false;
      ++dots;
      digits = 0;
    } else if (c >= '0' && c <= '9') {
      if (++digits > 3) return false;
    } else {
      return false;
    }
  }
  return dots == 3 && digits > 0;
}

// Letters, digits, '-', '.', and '_' (not DNS-legal, but container service
// names such as "s3_server" use it and curl resolves them).
bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_';
}

}  // namespace

std::string Endpoint::Authority() const {
  if (port == 0) return host;
  return fmt::format("{}:{}", host, port);
}

bool Endpoint::HostIsAddress() const {
  return IsIpv4(host) || (!host.empty() && host.front() == '[') || host == "localhost";
}

std::string AwsEndpointForRegion(std::string_view region) {
  const std::string_view suffix = StartsWith(region, "cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return fmt::format("https://s3.{}.{}", region.empty() ? std::string_view("us-east-1") : region, suffix);
}

core::Result<Endpoint> ParseEndpoint(std::string_view endpoint, std::string_view region) {
  std::string fallback;
  if (endpoint.empty()) {
    fallback = AwsEndpointForRegion(region);
    endpoint = fallback;
  }
  const std::string original(endpoint);
  Endpoint out;
  if (const size_t sep = endpoint.find("://"); sep != std::string_view::npos) {
    out.scheme = std::string(endpoint.substr(0, sep));
    std::transform(out.scheme.begin(), out.scheme.end(), out.scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    endpoint.remove_prefix(sep + 3);
  } else {
    out.scheme = "https";
  }
  if (out.scheme != "http" && out.scheme != "https") {
    return core::Status::Invalid(fmt::format("s3 endpoint '{}': scheme must be http or https", original));
  }
  if (!endpoint.empty() && endpoint.back() == '/') endpoint.remove_suffix(1);
  if (endpoint.find_first_of("/?#@") != std::string_view::npos) {
    return core::Status::Invalid(
        fmt::format("s3 endpoint '{}': only scheme://host[:port] is allowed (no path, query or user)", original));
  }
  std::string_view host = endpoint;
  std::string_view port;
  if (StartsWith(endpoint, "[")) {
    const size_t close = endpoint.find(']');
    if (close == std::string_view::npos) {
      return core::Status::Invalid(fmt::format("s3 endpoint '{}': unterminated IPv6 literal", original));
    }
    host = endpoint.substr(0, close + 1);
    std::string_view rest = endpoint.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return core::Status::Invalid(fmt::format("s3 endpoint '{}': bad port", original));
      port = rest.substr(1);
    }
  } else if (const size_t colon = endpoint.rfind(':'); colon != std::string_view::npos) {
    host = endpoint.substr(0, colon);
    port = endpoint.substr(colon + 1);
  }
  if (host.empty()) return core::Status::Invalid(fmt::format("s3 endpoint '{}': no host", original));
  if (host.front() != '[' && !std::all_of(host.begin(), host.end(), IsHostChar)) {
    return core::Status::Invalid(fmt::format("s3 endpoint '{}': bad host name", original));
  }
  out.host = std::string(host);
  std::transform(out.host.begin(), out.host.end(), out.host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!port.empty() || endpoint.back() == ':') {
    int value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value < 1 || value > 65535) {
      return core::Status::Invalid(fmt::format("s3 endpoint '{}': bad port", original));
    }
    out.port = value;
  }
  return out;
}

bool IsVirtualHostableBucket(std::string_view bucket, bool https) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(bucket.front()) || !alnum(bucket.back())) return false;
  for (size_t i = 0; i < bucket.size(); ++i) {
    const char c = bucket[i];
    if (c == '.') {
      if (https || bucket[i - 1] == '.') return false;
    } else if (!alnum(c) && c != '-') {
      return false;
    }
  }
  return !IsIpv4(bucket);
}

UrlBuilder::UrlBuilder(Endpoint endpoint, std::string bucket, bool path_style)
    : endpoint_(std::move(endpoint)), bucket_(std::move(bucket)) {
  virtual_hosted_ = !path_style && !endpoint_.HostIsAddress() &&
                    IsVirtualHostableBucket(bucket_, endpoint_.scheme == "https");
}

S3Location UrlBuilder::Object(std::string_view key, const KeyValues& query) const {
  S3Location out;
  if (virtual_hosted_) {
    out.host = bucket_ + "." + endpoint_.Authority();
    out.path = "/";
    out.path += key;
  } else {
    out.host = endpoint_.Authority();
    out.path = "/" + bucket_;
    if (!key.empty()) {
      out.path += '/';
      out.path += key;
    }
  }
  out.query = query;
  out.url = endpoint_.scheme + "://" + out.host + UriEncode(out.path, false);
  if (!query.empty()) {
    out.url += '?';
    out.url += CanonicalQueryString(query);
  }
  return out;
}

}  // namespace sluice::s3
