// Value syntax of the conf file: sizes ("8M"), durations ("30s"), booleans,
// `listen` address lists and `tokens` role:token lists, plus the canonical
// spellings Describe() prints. These are pure functions with no I/O, shared by
// the file loader, the environment overrides and the command line, so a value
// means the same thing wherever it is written. Every parser rejects rather
// than guesses: no negative sizes, no fractions, no silent overflow.
#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace sluice::config {
namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = kKiB * 1024;
constexpr uint64_t kGiB = kMiB * 1024;

/// Strips ASCII spaces and tabs from both ends.
std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

/// Parses one or more decimal digits into `out`; false on anything else or
/// on overflow of uint64_t.
bool ParseDigits(std::string_view text, uint64_t& out) {
  if (text.empty()) return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

/// Splits on commas; each piece is trimmed. "" gives one empty piece.
std::vector<std::string_view> SplitList(std::string_view text) {
  std::vector<std::string_view> parts;
  while (true) {
    const size_t comma = text.find(',');
    parts.push_back(Trim(text.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return parts;
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

/// Parses one `host:port` entry; `error` explains a failure.
bool ParseOneAddress(std::string_view entry, ListenAddress& out, std::string& error) {
  std::string_view host;
  std::string_view port_text;
  bool ipv6 = false;
  if (!entry.empty() && entry.front() == '[') {
    const size_t close = entry.find(']');
    if (close == std::string_view::npos || close + 1 >= entry.size() || entry[close + 1] != ':') {
      error = fmt::format("\"{}\" is not [ipv6]:port", entry);
      return false;
    }
    host = entry.substr(1, close - 1);
    port_text = entry.substr(close + 2);
    ipv6 = true;
  } else {
    const size_t colon = entry.rfind(':');
    if (colon == std::string_view::npos) {
      error = fmt::format("\"{}\" is not host:port", entry);
      return false;
    }
    host = entry.substr(0, colon);
    port_text = entry.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      error = fmt::format("\"{}\": write IPv6 addresses in brackets, e.g. [::1]:8080", entry);
      return false;
    }
  }
  if (host.empty()) {
    error = fmt::format("\"{}\" has no host (use 0.0.0.0 or [::] for every address)", entry);
    return false;
  }
  const std::string host_string(host);
  unsigned char buffer[16];
  const bool numeric = ipv6 ? inet_pton(AF_INET6, host_string.c_str(), buffer) == 1
                            : inet_pton(AF_INET, host_string.c_str(), buffer) == 1;
  if (!numeric && (ipv6 || host != "localhost")) {
    error = fmt::format("\"{}\": host must be a numeric IPv4 or [IPv6] address or localhost", entry);
    return false;
  }
  uint64_t port = 0;
  if (!ParseDigits(port_text, port) || port > 65535) {  // 0 = any free port (tests)
    error = fmt::format("\"{}\": port must be 0..65535", entry);
    return false;
  }
  out.host = host_string;
  out.port = static_cast<uint16_t>(port);
  return true;
}

}  // namespace

bool ParseSize(std::string_view text, uint64_t& out) {
  if (text.empty()) return false;
  uint64_t multiplier = 1;
  switch (text.back()) {
    case 'K': case 'k': multiplier = kKiB; break;
    case 'M': case 'm': multiplier = kMiB; break;
    case 'G': case 'g': multiplier = kGiB; break;
    default: break;
  }
  if (multiplier != 1) text.remove_suffix(1);
  uint64_t count = 0;
  if (!ParseDigits(text, count)) return false;
  if (count > std::numeric_limits<uint64_t>::max() / multiplier) return false;
  out = count * multiplier;
  return true;
}

bool ParseDuration(std::string_view text, Millis& out) {
  int64_t multiplier = 1000;  // a bare number is seconds
  if (text.ends_with("ms")) {
    multiplier = 1;
    text.remove_suffix(2);
  } else if (text.ends_with('s')) {
    text.remove_suffix(1);
  } else if (text.ends_with('m')) {
    multiplier = 60 * 1000;
    text.remove_suffix(1);
  } else if (text.ends_with('h')) {
    multiplier = 60 * 60 * 1000;
    text.remove_suffix(1);
  }
  uint64_t count = 0;
  if (!ParseDigits(text, count)) return false;
  const auto max = static_cast<uint64_t>(std::numeric_limits<Millis::rep>::max());
  if (count > max / static_cast<uint64_t>(multiplier)) return false;
  out = Millis(static_cast<Millis::rep>(count) * multiplier);
  return true;
}

bool ParseBool(std::string_view text, bool& out) {
  for (std::string_view yes : {"true", "yes", "on", "1"}) {
    if (EqualsNoCase(text, yes)) {
      out = true;
      return true;
    }
  }
  for (std::string_view no : {"false", "no", "off", "0"}) {
    if (EqualsNoCase(text, no)) {
      out = false;
      return true;
    }
  }
  return false;
}

bool ParseListen(std::string_view text, std::vector<ListenAddress>& out, std::string& error) {
  if (Trim(text).empty()) {
    error = "needs at least one host:port";
    return false;
  }
  std::vector<ListenAddress> addresses;
  for (std::string_view entry : SplitList(text)) {
    if (entry.empty()) {
      error = "has an empty entry (check the commas)";
      return false;
    }
    ListenAddress address;
    if (!ParseOneAddress(entry, address, error)) return false;
    for (const ListenAddress& earlier : addresses) {
      if (earlier == address) {
        error = fmt::format("\"{}\" is listed twice", entry);
        return false;
      }
    }
    addresses.push_back(std::move(address));
  }
  out = std::move(addresses);
  return true;
}

bool ParseTokens(std::string_view text, std::vector<TokenEntry>& out, std::string& error) {
  std::vector<TokenEntry> entries;
  if (Trim(text).empty()) {
    out.clear();
    return true;
  }
  int index = 0;
  for (std::string_view entry : SplitList(text)) {
    ++index;
    if (entry.empty()) {
      error = fmt::format("entry {} is empty (check the commas)", index);
      return false;
    }
    const size_t colon = entry.find(':');
    if (colon == std::string_view::npos) {
      error = fmt::format("entry {} is not role:token", index);
      return false;
    }
    const std::string_view role = Trim(entry.substr(0, colon));
    const std::string_view token = Trim(entry.substr(colon + 1));
    if (role != "read" && role != "write" && role != "admin") {
      // The role is not secret, but it may be a token pasted in the wrong
      // place: quote it only if it is short and plain.
      error = role.size() <= 16 ? fmt::format("entry {}: role \"{}\" is not read, write or admin", index, role)
                                : fmt::format("entry {}: role is not read, write or admin", index);
      return false;
    }
    if (token.empty()) {
      error = fmt::format("entry {}: the token is empty", index);
      return false;
    }
    if (token.find_first_of(" \t") != std::string_view::npos) {
      error = fmt::format("entry {}: the token contains whitespace", index);
      return false;
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].token == token) {
        error = fmt::format("entry {} repeats the token of entry {}", index, i + 1);
        return false;
      }
    }
    entries.push_back(TokenEntry{std::string(role), std::string(token)});
  }
  out = std::move(entries);
  return true;
}

std::string FormatSize(uint64_t bytes) {
  if (bytes == 0) return "0";
  if (bytes % kGiB == 0) return fmt::format("{}G", bytes / kGiB);
  if (bytes % kMiB == 0) return fmt::format("{}M", bytes / kMiB);
  if (bytes % kKiB == 0) return fmt::format("{}K", bytes / kKiB);
  return fmt::format("{}", bytes);
}

std::string FormatDuration(Millis duration) {
  const int64_t ms = duration.count();
  if (ms == 0) return "0s";
  if (ms % (60 * 60 * 1000) == 0) return fmt::format("{}h", ms / (60 * 60 * 1000));
  if (ms % (60 * 1000) == 0) return fmt::format("{}m", ms / (60 * 1000));
  if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

std::string FormatListen(const ListenAddress& address) {
  if (address.host.find(':') != std::string::npos) return fmt::format("[{}]:{}", address.host, address.port);
  return fmt::format("{}:{}", address.host, address.port);
}

bool IsLoopback(const ListenAddress& address) {
  if (address.host == "localhost" || address.host == "::1") return true;
  unsigned char v4[4];
  if (inet_pton(AF_INET, address.host.c_str(), v4) == 1) return v4[0] == 127;
  unsigned char v6[16];
  if (inet_pton(AF_INET6, address.host.c_str(), v6) == 1) {
    static constexpr unsigned char kLoop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(v6, v6 + 16, kLoop6)) return true;
    return std::equal(v6, v6 + 12, kMapped) && v6[12] == 127;  // ::ffff:127.x.y.z
  }
  return false;
}

std::string EnvName(std::string_view section, std::string_view key) {
  std::string name = "SLUICE_";
  for (char c : section) name.push_back((c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c);
  name.push_back('_');
  for (char c : key) name.push_back((c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c);
  return name;
}

}  // namespace sluice::config
