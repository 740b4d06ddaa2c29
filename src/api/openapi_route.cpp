// See openapi_route.hpp. The document text comes from the generated
// openapi_document.inc (CMake reads src/api/openapi.json into a raw string).
#include "api/openapi_route.hpp"

#include "http/simple_handler.hpp"

namespace sluice::api {
namespace {
#include "openapi_document.inc"
}  // namespace

std::string_view OpenApiDocument() { return kOpenApiDocument; }

void AddOpenApiRoute(http::Router& router) {
  router.Add({"GET", "/openapi.json", "openapi", http::BodyLimit::kSmall, http::Simple([](http::Exchange& exchange) {
                exchange.Respond(200, std::string(OpenApiDocument()), "application/json; charset=utf-8",
                                 {{"Cache-Control", "max-age=300"}});
              })});
}

}  // namespace sluice::api
