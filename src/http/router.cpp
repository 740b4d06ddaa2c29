// See router.hpp. Linear scan over a few dozen routes: simpler than a trie and
// far below the cost of anything a route then does.
#include "http/router.hpp"

namespace sluice::http {
namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);  // "/v1/tables/" == "/v1/tables"
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

bool IsParam(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

bool Router::Compile(std::string_view pattern, Compiled& out) {
  if (pattern.empty() || pattern.front() != '/') return false;
  for (auto part : SplitPath(pattern)) {
    bool has_brace = part.find_first_of("{}") != std::string_view::npos;
    if (has_brace && !IsParam(part)) return false;
    out.segments.emplace_back(part);
  }
  return true;
}

bool Router::Add(Route route) {
  Compiled compiled;
  if (!Compile(route.pattern, compiled)) return false;
  for (const auto& existing : routes_) {
    if (existing.method == route.method && existing.pattern == route.pattern) return false;
  }
  routes_.push_back(std::move(route));
  compiled_.push_back(std::move(compiled));
  return true;
}

bool Router::MatchSegments(const Compiled& compiled, const std::vector<std::string_view>& parts,
                           ParamList* params) {
  if (compiled.segments.size() != parts.size()) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& segment = compiled.segments[i];
    if (IsParam(segment)) {
      if (parts[i].empty()) return false;
      if (params != nullptr) params->emplace_back(segment.substr(1, segment.size() - 2), std::string(parts[i]));
    } else if (segment != parts[i]) {
      return false;
    }
  }
  return true;
}

RouteMatch Router::Match(std::string_view method, std::string_view path) const {
  RouteMatch match;
  std::string_view wanted = (method == "HEAD") ? std::string_view("GET") : method;
  auto parts = SplitPath(path);
  for (size_t i = 0; i < routes_.size(); ++i) {
    if (!MatchSegments(compiled_[i], parts, nullptr)) continue;
    if (routes_[i].method == wanted || routes_[i].method == method) {
      match.kind = RouteMatch::Kind::kFound;
      match.route = &routes_[i];
      match.params.clear();
      MatchSegments(compiled_[i], parts, &match.params);
      return match;
    }
    if (match.allow.find(routes_[i].method) == std::string::npos) {
      if (!match.allow.empty()) match.allow += ", ";
      match.allow += routes_[i].method;
      if (routes_[i].method == "GET") match.allow += ", HEAD";
    }
  }
  match.kind = match.allow.empty() ? RouteMatch::Kind::kNotFound : RouteMatch::Kind::kMethodNotAllowed;
  return match;
}

}  // namespace sluice::http
