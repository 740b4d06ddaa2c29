// See console_routes.hpp. The store is built once (first call, at start-up,
// before the server listens): compressing the few small files takes well
// under a millisecond of the loop's time, never per request.
#include "api/console_routes.hpp"

#include <fmt/format.h>

#include "console/asset_store.hpp"
#include "http/accept_encoding.hpp"
#include "http/simple_handler.hpp"

namespace sluice::api {
namespace {

const console::AssetStore& Store() {
  static const console::AssetStore store(console::EmbeddedFiles());
  return store;
}

void ServeAsset(http::Exchange& exchange, std::string_view name) {
  const auto& request = exchange.request();
  auto reply = Store().Serve(name, request.Header("If-None-Match"), http::AcceptsGzip(request.Header("Accept-Encoding")));
  if (reply.status == 404) {
    exchange.RespondError(404, "not_found", fmt::format("the console has no file named '{}'", name), "name");
    return;
  }
  exchange.Respond(reply.status, std::string(reply.body), reply.status == 304 ? "" : reply.content_type,
                   std::move(reply.headers));
}

}  // namespace

void AddConsoleRoutes(http::Router& router) {
  (void)Store();
  router.Add({"GET", "/", "console", http::BodyLimit::kSmall,
              http::Simple([](http::Exchange& exchange) { ServeAsset(exchange, "index.html"); })});
  router.Add({"GET", "/assets/{name}", "console.assets", http::BodyLimit::kSmall,
              http::Simple([](http::Exchange& exchange) {
                ServeAsset(exchange, exchange.request().PathParam("name"));
              })});
}

}  // namespace sluice::api
