// GET /healthz (the process is up) and GET /readyz (every dependency answers:
// MariaDB, S3 — each a named asynchronous check run in parallel; 503 with the
// failing parts otherwise).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "http/router.hpp"

namespace sluice::api {

/// One dependency check: calls `done` with Ok or the reason it failed.
struct ReadinessCheck {
  std::string name;  ///< "mariadb", "s3"
  std::function<void(std::function<void(core::Status)> done)> run;
};

/// Adds /healthz and /readyz to `router`. `checks` must outlive the router.
void AddHealthRoutes(http::Router& router, const std::vector<ReadinessCheck>& checks);

}  // namespace sluice::api
