// Router: maps (method, path) to a route — nothing else (Seastar routes.hh).
// Patterns are '/'-separated segments, literal or `{name}` (one segment each):
// "/v1/uploads/{id}/events". A path that matches under other methods gives
// 405 with the Allow list; no match at all gives 404. HEAD is served by a GET
// route. Pure code: tests drive it without sockets.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/role.hpp"
#include "http/request.hpp"

namespace sluice::http {

class Handler;

/// How big a route's request body may be.
enum class BodyLimit {
  kSmall,   ///< [server] max_body_bytes (JSON bodies, forms)
  kUpload,  ///< [server] max_upload_bytes (0 = unlimited): streamed file bodies
};

using HandlerFactory = std::function<std::unique_ptr<Handler>()>;

struct Route {
  std::string method;     ///< "GET", "POST", "DELETE", ...
  std::string pattern;    ///< "/v1/uploads/{id}"
  std::string name;       ///< stable label for logs and metrics, e.g. "uploads.get"
  BodyLimit body_limit = BodyLimit::kSmall;
  HandlerFactory factory;
  auth::Role role = auth::Role::kNone;  ///< the least role a caller needs; kNone = public
};

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed };
  Kind kind = Kind::kNotFound;
  const Route* route = nullptr;   ///< set when kFound
  ParamList params;               ///< path parameters when kFound
  std::string allow;              ///< "GET, DELETE" when kMethodNotAllowed
};

class Router {
 public:
  /// Adds a route. Returns false (and adds nothing) when the pattern is
  /// malformed or the same method+pattern already exists.
  bool Add(Route route);
  RouteMatch Match(std::string_view method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  struct Compiled {
    std::vector<std::string> segments;  ///< "{id}" kept with braces
  };
  static bool Compile(std::string_view pattern, Compiled& out);
  static bool MatchSegments(const Compiled& compiled, const std::vector<std::string_view>& parts,
                            ParamList* params);

  std::vector<Route> routes_;
  std::vector<Compiled> compiled_;
};

}  // namespace sluice::http
