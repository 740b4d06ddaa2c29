// GET /openapi.json: the API as OpenAPI 3.0. The document is
// src/api/openapi.json, embedded into the binary at build time; a test walks
// the router's routes and fails when one is missing from it.
#pragma once

#include <string_view>

#include "http/router.hpp"

namespace sluice::api {

/// The embedded document.
std::string_view OpenApiDocument();
void AddOpenApiRoute(http::Router& router);

}  // namespace sluice::api
