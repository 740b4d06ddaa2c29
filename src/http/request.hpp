// Request: what a handler sees of one HTTP request once its headers are in —
// method, target split into path and decoded query parameters, headers with
// case-insensitive lookup, path parameters filled by the router, and the
// request id that tags every response and log line. Pure data, no loop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;
using ParamList = std::vector<std::pair<std::string, std::string>>;

/// ASCII case-insensitive equality (header names, tokens).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

/// Decodes %XX escapes (and '+' as space when `plus_is_space`). Returns false
/// on a malformed escape; `out` then holds nothing useful.
bool PercentDecode(std::string_view in, std::string& out, bool plus_is_space);

/// Splits "a=1&b=&c" into decoded pairs (a missing '=' gives an empty value).
/// Returns false on a malformed escape.
bool ParseQueryString(std::string_view query, ParamList& out);

struct Request {
  std::string method;        ///< "GET", "POST", ...
  std::string target;        ///< as sent: "/v1/uploads?filename=a.csv"
  std::string path;          ///< decoded path: "/v1/uploads"
  std::string raw_query;     ///< "filename=a.csv" (not decoded)
  ParamList query;           ///< decoded query parameters, in order
  ParamList path_params;     ///< from the route pattern, e.g. {"id", "01J..."}
  HeaderList headers;        ///< in arrival order, names as sent
  std::string id;            ///< request id (X-Request-Id)
  std::string peer;          ///< client address "ip:port"
  int http_major = 1;
  int http_minor = 1;
  std::optional<uint64_t> content_length;
  bool chunked = false;
  int caller_role = 0;       ///< the authenticated caller's auth::Role (0 = none/public)
  std::string caller;        ///< who: "token:2", a JWT's sub, or "anonymous"

  /// First header with that name (case-insensitive), or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const;
  /// First query parameter with that name (exact), or nullopt.
  std::optional<std::string_view> Query(std::string_view name) const;
  /// Path parameter from the route (e.g. "id"); empty when absent.
  std::string_view PathParam(std::string_view name) const;
  bool IsHead() const { return method == "HEAD"; }
};

}  // namespace sluice::http
