// GET /metrics: the Prometheus text exposition of the server's Registry
// (needs the read role when auth is on: counts reveal route and table use).
#pragma once

#include "http/router.hpp"
#include "metrics/registry.hpp"

namespace sluice::api {

/// Adds GET /metrics rendering `registry` (which must outlive the router).
void AddMetricsRoute(http::Router& router, metrics::Registry& registry);

}  // namespace sluice::api
