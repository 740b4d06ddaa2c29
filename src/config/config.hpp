// Config: the server's settings, read from an INI file (API.md "Command line
// and configuration") and overridden by SLUICE_<SECTION>_<KEY> environment
// variables. Loaded once at start (and again on SIGHUP); immutable once loaded —
// a reload builds a new Config and swaps it in.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "log/logger.hpp"

namespace sluice::config {

using Millis = std::chrono::milliseconds;

/// A host:port to listen on.
struct ListenAddress {
  std::string host;  ///< numeric IPv4/IPv6 or "localhost"
  uint16_t port = 0;
  bool operator==(const ListenAddress&) const = default;
};

/// One `role:token` pair from [auth] tokens.
struct TokenEntry {
  std::string role;   ///< read | write | admin
  std::string token;
  bool operator==(const TokenEntry&) const = default;
};

struct ServerConfig {
  std::vector<ListenAddress> listen{{"127.0.0.1", 8080}};
  int workers = 0;                          ///< parse threads; 0 = one per core
  uint64_t memory_budget = 256ull << 20;    ///< bytes in flight for all uploads
  uint64_t max_upload_bytes = 0;            ///< 0 = no limit
  int max_concurrent_uploads = 16;
  Millis upload_queue_wait{30000};          ///< an upload waits this long for room in memory_budget (503 past it)
  int max_page_rows = 10000;
  uint64_t max_field_bytes = 16ull << 20;   ///< a longer CSV field / JSON value makes its row bad
  uint64_t max_body_bytes = 1ull << 20;     ///< body limit of non-upload requests
  uint32_t max_header_bytes = 16384;        ///< request line + headers (431 past it)
  uint32_t max_headers = 100;               ///< header count (431 past it)
  uint32_t max_url_bytes = 8192;            ///< request target (414 past it)
  int max_connections = 1024;
  Millis header_timeout{10000};             ///< first byte → end of headers (408)
  Millis idle_timeout{60000};               ///< no bytes while waiting for some
  Millis shutdown_grace{30000};             ///< in-flight requests get this long
  bool test_routes = false;                 ///< mount /v1/_test/* (test suite only)
  std::vector<ListenAddress> tls_listen;    ///< HTTPS addresses (empty = no TLS listener)
  std::string tls_cert;                     ///< PEM certificate chain for tls_listen
  std::string tls_key;                      ///< PEM private key for tls_listen
};

struct MariadbConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 3306;
  std::string socket;
  std::string user = "sluice";
  std::string password;                     ///< secret
  std::string database = "sluice";
  int pool_size = 4;
  Millis connect_timeout{5000};
  Millis max_statement_time{30000};         ///< per query statement (/rows, /aggregate); 0 = no limit
};

struct S3Config {
  std::string endpoint;                     ///< empty = AWS for the region
  std::string region = "us-east-1";
  std::string bucket = "sluice";
  std::string prefix;
  std::string access_key;                   ///< secret
  std::string secret_key;                   ///< secret
  std::string session_token;                ///< secret
  bool path_style = false;
  uint64_t part_size = 8ull << 20;          ///< at least 5M
  int max_parts_in_flight = 4;              ///< parts of one upload hashing or uploading at once
  int retries = 4;
};

struct AuthConfig {
  std::vector<TokenEntry> tokens;           ///< secret
  std::string jwt_secret;                   ///< secret
};

struct LogConfig {
  log::Level level = log::Level::kInfo;
  log::Format format = log::Format::kText;
};

struct Config {
  std::string path;                         ///< the file it came from ("" = defaults)
  ServerConfig server;
  MariadbConfig mariadb;
  S3Config s3;
  AuthConfig auth;
  LogConfig log;
};

/// One problem found while loading: "<file>:<line>: <message>" when it has a
/// line, "<VAR>: <message>" for an environment override.
struct ConfigError {
  std::string file;      ///< file name, or the environment variable's name
  int line = 0;          ///< 1-based; 0 when not from a file line
  std::string message;
  std::string ToString() const;
};

/// The outcome of loading: the config, or every error found (not only the first).
struct LoadResult {
  Config config;
  std::vector<ConfigError> errors;
  bool ok() const { return errors.empty(); }
};

/// Reads `path` (an INI file), applies `SLUICE_<SECTION>_<KEY>` overrides from
/// `environ`, validates everything, and reports every error with its line.
LoadResult LoadFile(const std::string& path);
/// The same from text in memory (`name` is used in messages); `env` lists
/// "NAME=value" strings (pass nullptr to read the process environment).
LoadResult LoadString(const std::string& text, const std::string& name, const char* const* env = nullptr);

/// Parses "8M", "512K", "1G", "1024" (bytes). False on anything else.
bool ParseSize(std::string_view text, uint64_t& out);
/// Parses "250ms", "30s", "5m", "1h" (a bare number is seconds). False otherwise.
bool ParseDuration(std::string_view text, Millis& out);

/// Parses true/false, yes/no, on/off, 1/0 (any case). False otherwise.
bool ParseBool(std::string_view text, bool& out);
/// Parses a comma-separated `host:port` list (IPv6 as `[::1]:8080`; hosts are
/// numeric or "localhost"; ports 1..65535). On failure returns false and sets
/// `error` to a message naming the bad entry.
bool ParseListen(std::string_view text, std::vector<ListenAddress>& out, std::string& error);
/// Parses a comma-separated `role:token` list (role = read|write|admin). An
/// empty text is an empty list. Error messages never contain a token.
bool ParseTokens(std::string_view text, std::vector<TokenEntry>& out, std::string& error);

/// The shortest exact spelling of a size: 268435456 → "256M", 1000 → "1000".
std::string FormatSize(uint64_t bytes);
/// The shortest exact spelling of a duration: 30000ms → "30s", 250ms → "250ms".
std::string FormatDuration(Millis duration);
/// "host:port", with IPv6 hosts in brackets ("[::1]:8080").
std::string FormatListen(const ListenAddress& address);
/// True for 127.0.0.0/8, ::1 and "localhost" (API.md: with no tokens the
/// server refuses to listen on anything else).
bool IsLoopback(const ListenAddress& address);

/// Every setting as `[section] key = value`, one per line, in the order of
/// conf/sluice.conf; secret values print as `***` (empty ones stay empty).
/// Used by `check-config` and the start-up log.
std::string Describe(const Config& config);

/// One documented key, for help output and tests.
struct OptionInfo {
  std::string_view section;
  std::string_view key;
  std::string_view default_text;  ///< as written in conf/sluice.conf
  std::string_view help;          ///< the one-line comment
  bool secret = false;            ///< never logged; Describe prints `***`
};
/// Every key the loader knows, in the order of conf/sluice.conf.
std::vector<OptionInfo> Options();
/// The environment variable that overrides a key: ("s3", "secret_key") →
/// "SLUICE_S3_SECRET_KEY".
std::string EnvName(std::string_view section, std::string_view key);

}  // namespace sluice::config
