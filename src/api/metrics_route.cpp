// See metrics_route.hpp.
#include "api/metrics_route.hpp"

#include "http/simple_handler.hpp"

namespace sluice::api {

void AddMetricsRoute(http::Router& router, metrics::Registry& registry) {
  router.Add({"GET", "/metrics", "metrics", http::BodyLimit::kSmall,
              http::Simple([&registry](http::Exchange& exchange) {
                exchange.Respond(200, registry.Render(), "text/plain; version=0.0.4; charset=utf-8");
              }),
              auth::Role::kRead});
}

}  // namespace sluice::api
