// SimpleHandler: for routes whose answer needs only the request (health
// checks, lookups): the body (if any, within the route's small limit) is
// ignored and `fn` runs once the request is complete.
#pragma once

#include <functional>
#include <memory>
#include <utility>

#include "http/exchange.hpp"
#include "http/router.hpp"

namespace sluice::http {

class SimpleHandler final : public Handler {
 public:
  explicit SimpleHandler(std::function<void(Exchange&)> fn) : fn_(std::move(fn)) {}
  void OnBodyEnd(Exchange& exchange) override { fn_(exchange); }

 private:
  std::function<void(Exchange&)> fn_;
};

/// A route factory that makes a SimpleHandler running `fn`.
inline HandlerFactory Simple(std::function<void(Exchange&)> fn) {
  return [fn = std::move(fn)] { return std::make_unique<SimpleHandler>(fn); };
}

}  // namespace sluice::http
