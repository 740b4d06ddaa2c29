// The option table's rows and the typed codecs that build them. Each codec
// (Int, Size, Duration, Bool, Text, ...) binds one Config member through a
// pair of member pointers and returns the row's setter (parse, range-check,
// store) and getter (canonical text). Error texts name the bad value and the
// limit ("\"3M\" is below the minimum 5M"); the loader prefixes the location
// and key. Keep the rows in the order and wording of conf/sluice.conf.
#include "config/config_table.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::config {
namespace {

/// `config.*section.*member`, readable and writable.
template <class S, class T>
struct Field {
  S Config::*section;
  T S::*member;
  T& operator()(Config& config) const { return (config.*section).*member; }
  const T& operator()(const Config& config) const { return (config.*section).*member; }
};

/// A row's setter and getter.
struct Codec {
  OptionSetter set;
  OptionGetter get;
};

/// Extra check on a string value; false + `error` to reject.
using TextCheck = bool (*)(std::string_view value, std::string& error);

bool ParseInteger(std::string_view text, int64_t& out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

template <class S, class T>
Codec Int(S Config::*section, T S::*member, int64_t min, int64_t max) {
  Field<S, T> field{section, member};
  return {[field, min, max](Config& config, std::string_view value, std::string& error) {
            int64_t number = 0;
            if (!ParseInteger(value, number)) {
              error = fmt::format("\"{}\" is not an integer", value);
              return false;
            }
            if (number < min) {
              error = fmt::format("\"{}\" is below the minimum {}", value, min);
              return false;
            }
            if (number > max) {
              error = fmt::format("\"{}\" is above the maximum {}", value, max);
              return false;
            }
            field(config) = static_cast<T>(number);
            return true;
          },
          [field](const Config& config) { return fmt::format("{}", field(config)); }};
}

template <class S, class T>
Codec Size(S Config::*section, T S::*member, uint64_t min, uint64_t max) {
  Field<S, T> field{section, member};
  return {[field, min, max](Config& config, std::string_view value, std::string& error) {
            uint64_t bytes = 0;
            if (!ParseSize(value, bytes)) {
              error = fmt::format("\"{}\" is not a size (bytes, or a number with K, M or G)", value);
              return false;
            }
            if (bytes < min) {
              error = fmt::format("\"{}\" is below the minimum {}", value, FormatSize(min));
              return false;
            }
            if (bytes > max) {
              error = fmt::format("\"{}\" is above the maximum {}", value, FormatSize(max));
              return false;
            }
            field(config) = static_cast<T>(bytes);
            return true;
          },
          [field](const Config& config) { return FormatSize(field(config)); }};
}

template <class S>
Codec Duration(S Config::*section, Millis S::*member, Millis min, Millis max) {
  Field<S, Millis> field{section, member};
  return {[field, min, max](Config& config, std::string_view value, std::string& error) {
            Millis duration{};
            if (!ParseDuration(value, duration)) {
              error = fmt::format("\"{}\" is not a duration (e.g. 250ms, 30s, 5m, 1h)", value);
              return false;
            }
            if (duration < min) {
              error = fmt::format("\"{}\" is below the minimum {}", value, FormatDuration(min));
              return false;
            }
            if (duration > max) {
              error = fmt::format("\"{}\" is above the maximum {}", value, FormatDuration(max));
              return false;
            }
            field(config) = duration;
            return true;
          },
          [field](const Config& config) { return FormatDuration(field(config)); }};
}

template <class S>
Codec Bool(S Config::*section, bool S::*member) {
  Field<S, bool> field{section, member};
  return {[field](Config& config, std::string_view value, std::string& error) {
            if (!ParseBool(value, field(config))) {
              error = fmt::format("\"{}\" is not a boolean (true/false, yes/no, on/off, 1/0)", value);
              return false;
            }
            return true;
          },
          [field](const Config& config) { return std::string(field(config) ? "true" : "false"); }};
}

template <class S>
Codec Text(S Config::*section, std::string S::*member, TextCheck check = nullptr) {
  Field<S, std::string> field{section, member};
  return {[field, check](Config& config, std::string_view value, std::string& error) {
            if (check != nullptr && !check(value, error)) return false;
            field(config) = std::string(value);
            return true;
          },
          [field](const Config& config) { return field(config); }};
}

/// tls_listen: like listen, but empty means "no TLS listener".
Codec TlsListen() {
  return {[](Config& config, std::string_view value, std::string& error) {
            config.server.tls_listen.clear();
            if (value.empty()) return true;
            return ParseListen(value, config.server.tls_listen, error);
          },
          [](const Config& config) {
            std::string text;
            for (const ListenAddress& address : config.server.tls_listen) {
              if (!text.empty()) text += ",";
              text += FormatListen(address);
            }
            return text;
          }};
}

Codec Listen() {
  return {[](Config& config, std::string_view value, std::string& error) {
            return ParseListen(value, config.server.listen, error);
          },
          [](const Config& config) {
            std::string text;
            for (const ListenAddress& address : config.server.listen) {
              if (!text.empty()) text += ",";
              text += FormatListen(address);
            }
            return text;
          }};
}

Codec Tokens() {
  return {[](Config& config, std::string_view value, std::string& error) {
            return ParseTokens(value, config.auth.tokens, error);
          },
          [](const Config& config) {
            std::string text;
            for (const TokenEntry& entry : config.auth.tokens) {
              if (!text.empty()) text += ",";
              text += fmt::format("{}:{}", entry.role, entry.token);
            }
            return text;
          }};
}

Codec Level() {
  return {[](Config& config, std::string_view value, std::string& error) {
            if (log::ParseLevel(value, config.log.level)) return true;
            error = fmt::format("\"{}\" is not a level (debug, info, warn, error)", value);
            return false;
          },
          [](const Config& config) -> std::string {
            switch (config.log.level) {
              case log::Level::kDebug: return "debug";
              case log::Level::kInfo: return "info";
              case log::Level::kWarn: return "warn";
              case log::Level::kError: return "error";
            }
            return "info";
          }};
}

Codec Format() {
  return {[](Config& config, std::string_view value, std::string& error) {
            if (log::ParseFormat(value, config.log.format)) return true;
            error = fmt::format("\"{}\" is not a format (text, json)", value);
            return false;
          },
          [](const Config& config) {
            return std::string(config.log.format == log::Format::kJson ? "json" : "text");
          }};
}

// ---- string checks ----

bool NonEmpty(std::string_view value, std::string& error) {
  if (!value.empty()) return true;
  error = "must not be empty";
  return false;
}

bool NoSpaces(std::string_view value, std::string& error) {
  if (!NonEmpty(value, error)) return false;
  if (value.find_first_of(" \t") == std::string_view::npos) return true;
  error = fmt::format("\"{}\" must not contain spaces", value);
  return false;
}

bool AbsolutePathOrEmpty(std::string_view value, std::string& error) {
  if (value.empty() || value.front() == '/') return true;
  error = fmt::format("\"{}\" must be an absolute path", value);
  return false;
}

bool Identifier(std::string_view value, std::string& error) {
  if (!NonEmpty(value, error)) return false;
  const bool plain = value.size() <= 64 && value.find_first_not_of(
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$") == std::string_view::npos;
  if (plain) return true;
  error = fmt::format("\"{}\" must be 1-64 letters, digits, _ or $", value);
  return false;
}

bool Endpoint(std::string_view value, std::string& error) {
  if (value.empty()) return true;
  size_t scheme = 0;
  if (value.starts_with("http://")) scheme = 7;
  else if (value.starts_with("https://")) scheme = 8;
  if (scheme != 0 && value.size() > scheme && value.find_first_of(" \t") == std::string_view::npos) return true;
  error = fmt::format("\"{}\" is not an http:// or https:// URL", value);
  return false;
}

bool Bucket(std::string_view value, std::string& error) {
  constexpr std::string_view kAlnum = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bool ok = value.size() >= 3 && value.size() <= 63 &&
                  value.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") == std::string_view::npos &&
                  kAlnum.find(value.front()) != std::string_view::npos &&
                  kAlnum.find(value.back()) != std::string_view::npos;
  if (ok) return true;
  error = fmt::format("\"{}\" is not a bucket name (3-63 of a-z 0-9 . -, starting and ending alphanumeric)", value);
  return false;
}

bool Prefix(std::string_view value, std::string& error) {
  if (value.empty() || value.front() != '/') return true;
  error = fmt::format("\"{}\" must not start with /", value);
  return false;
}

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr uint64_t kGiB = 1024 * kMiB;
constexpr uint64_t kNoMax = std::numeric_limits<uint64_t>::max();
constexpr Millis kSecond{1000};
constexpr Millis kMinute{60 * 1000};
constexpr Millis kHour{60 * 60 * 1000};

using C = Config;
using Srv = ServerConfig;
using Db = MariadbConfig;
using S3 = S3Config;

std::vector<Option> BuildTable() {
  std::vector<Option> rows;
  auto add = [&rows](std::string_view section, std::string_view key, std::string_view default_text,
                     std::string_view help, Codec codec, uint32_t flags = 0) {
    rows.push_back(Option{section, key, default_text, help, std::move(codec.set), std::move(codec.get), flags});
  };
  // [server]
  add("server", "listen", "127.0.0.1:8080", "host:port; several separated by commas; IPv6 as [::1]:8080", Listen());
  add("server", "workers", "0", "parse threads, 0 = one per core", Int(&C::server, &Srv::workers, 0, 256));
  add("server", "memory_budget", "256M", "bytes in flight for all uploads together",
      Size(&C::server, &Srv::memory_budget, 1 * kMiB, kNoMax));
  add("server", "max_upload_bytes", "0", "0 = no limit", Size(&C::server, &Srv::max_upload_bytes, 0, kNoMax));
  add("server", "max_concurrent_uploads", "16", "uploads in progress at once; more get 429/503",
      Int(&C::server, &Srv::max_concurrent_uploads, 1, 10000));
  add("server", "upload_queue_wait", "30s", "an upload waits this long for room in memory_budget; 503 past it",
      Duration(&C::server, &Srv::upload_queue_wait, Millis(0), kHour));
  add("server", "max_page_rows", "10000", "largest limit a /rows or /aggregate request may ask for",
      Int(&C::server, &Srv::max_page_rows, 1, 1000000));
  add("server", "max_field_bytes", "16M", "longest CSV field or JSON value; a row with a longer one is a bad row",
      Size(&C::server, &Srv::max_field_bytes, 1 * kKiB, 64 * kMiB));
  add("server", "max_body_bytes", "1M", "body limit of requests other than uploads (413 past it)",
      Size(&C::server, &Srv::max_body_bytes, 1 * kKiB, 1 * kGiB));
  add("server", "max_header_bytes", "16K", "request line + headers (431 past it)",
      Size(&C::server, &Srv::max_header_bytes, 1 * kKiB, 1 * kMiB));
  add("server", "max_headers", "100", "header count (431 past it)", Int(&C::server, &Srv::max_headers, 1, 10000));
  add("server", "max_url_bytes", "8K", "request target (414 past it)",
      Size(&C::server, &Srv::max_url_bytes, 256, 1 * kMiB));
  add("server", "max_connections", "1024", "open connections; more are closed at once",
      Int(&C::server, &Srv::max_connections, 1, 1000000));
  add("server", "header_timeout", "10s", "first byte to end of headers (408 past it)",
      Duration(&C::server, &Srv::header_timeout, Millis(1), kHour));
  add("server", "idle_timeout", "60s", "a connection waiting for bytes is closed after this",
      Duration(&C::server, &Srv::idle_timeout, Millis(1), 24 * kHour));
  add("server", "shutdown_grace", "30s", "on SIGTERM, in-flight requests get this long",
      Duration(&C::server, &Srv::shutdown_grace, Millis(0), kHour));
  add("server", "test_routes", "false", "mount /v1/_test/* (the test suite only; never in production)",
      Bool(&C::server, &Srv::test_routes));
  add("server", "tls_listen", "", "HTTPS host:port list; empty = no TLS listener (needs tls_cert and tls_key)",
      TlsListen());
  add("server", "tls_cert", "", "PEM certificate (chain) file for tls_listen", Text(&C::server, &Srv::tls_cert));
  add("server", "tls_key", "", "PEM private key file for tls_listen", Text(&C::server, &Srv::tls_key));
  // [mariadb]
  add("mariadb", "host", "127.0.0.1", "ignored when socket is set", Text(&C::mariadb, &Db::host));
  add("mariadb", "port", "3306", "TCP port", Int(&C::mariadb, &Db::port, 1, 65535));
  add("mariadb", "socket", "", "used instead of host/port when set", Text(&C::mariadb, &Db::socket, AbsolutePathOrEmpty));
  add("mariadb", "user", "sluice", "login", Text(&C::mariadb, &Db::user, NonEmpty));
  add("mariadb", "password", "", "better set SLUICE_MARIADB_PASSWORD", Text(&C::mariadb, &Db::password), kSecret);
  add("mariadb", "database", "sluice", "schema the tables live in", Text(&C::mariadb, &Db::database, Identifier));
  add("mariadb", "pool_size", "4", "connections kept open", Int(&C::mariadb, &Db::pool_size, 1, 256));
  add("mariadb", "connect_timeout", "5s", "per connection attempt",
      Duration(&C::mariadb, &Db::connect_timeout, kSecond, 10 * kMinute));
  add("mariadb", "max_statement_time", "30s", "longest a query may run (answered 503 past it); 0 = no limit",
      Duration(&C::mariadb, &Db::max_statement_time, Millis(0), 24 * kHour));
  // [s3]
  add("s3", "endpoint", "", "empty = AWS for the region; e.g. http://127.0.0.1:4568",
      Text(&C::s3, &S3::endpoint, Endpoint));
  add("s3", "region", "us-east-1", "signing region", Text(&C::s3, &S3::region, NoSpaces));
  add("s3", "bucket", "sluice", "where uploaded files are kept", Text(&C::s3, &S3::bucket, Bucket));
  add("s3", "prefix", "", "key prefix inside the bucket, e.g. sluice/", Text(&C::s3, &S3::prefix, Prefix));
  add("s3", "access_key", "", "better set SLUICE_S3_ACCESS_KEY", Text(&C::s3, &S3::access_key), kSecret);
  add("s3", "secret_key", "", "better set SLUICE_S3_SECRET_KEY", Text(&C::s3, &S3::secret_key), kSecret);
  add("s3", "session_token", "", "temporary credentials only", Text(&C::s3, &S3::session_token), kSecret);
  add("s3", "path_style", "false", "true for most local S3-compatible servers", Bool(&C::s3, &S3::path_style));
  add("s3", "part_size", "8M", "multipart part size; at least 5M", Size(&C::s3, &S3::part_size, 5 * kMiB, 5 * kGiB));
  add("s3", "max_parts_in_flight", "4", "parts of one upload sent at once; memory <= part_size x (this + 2)",
      Int(&C::s3, &S3::max_parts_in_flight, 1, 64));
  add("s3", "retries", "4", "retries of a failed S3 request", Int(&C::s3, &S3::retries, 0, 20));
  // [auth]
  add("auth", "tokens", "", "role:token pairs, comma-separated (role = read|write|admin)", Tokens(), kSecret);
  add("auth", "jwt_secret", "", "HS256 key for JWTs; empty = no JWTs", Text(&C::auth, &AuthConfig::jwt_secret),
      kSecret);
  // [log]
  add("log", "level", "info", "debug|info|warn|error", Level());
  add("log", "format", "text", "text|json", Format());
  return rows;
}

}  // namespace

std::span<const Option> OptionTable() {
  static const std::vector<Option> kTable = BuildTable();
  return kTable;
}

const Option* FindOption(std::string_view section, std::string_view key) {
  for (const Option& option : OptionTable()) {
    if (option.section == section && option.key == key) return &option;
  }
  return nullptr;
}

bool IsKnownSection(std::string_view section) {
  for (const Option& option : OptionTable()) {
    if (option.section == section) return true;
  }
  return false;
}

std::vector<OptionInfo> Options() {
  std::vector<OptionInfo> infos;
  for (const Option& option : OptionTable()) {
    infos.push_back(OptionInfo{option.section, option.key, option.default_text, option.help, option.secret()});
  }
  return infos;
}

}  // namespace sluice::config
