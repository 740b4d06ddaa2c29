// See health_handlers.hpp. /readyz answers
//   200 {"status":"ready","checks":{"mariadb":"ok","s3":"ok"}}
//   503 {"error":{"code":"not_ready","message":"mariadb: …"},"checks":{"mariadb":"…","s3":"ok"}}
// with Retry-After on 503, so a load balancer can take the process out.
#include "api/health_handlers.hpp"

#include <map>
#include <memory>

#include "core/json_writer.hpp"
#include "http/simple_handler.hpp"

namespace sluice::api {
namespace {

struct ReadinessRun {
  std::weak_ptr<http::Exchange> exchange;
  size_t remaining = 0;
  std::map<std::string, std::string> results;  // name → "ok" or the error text
};

void Answer(ReadinessRun& run) {
  auto exchange = run.exchange.lock();
  if (!exchange || !exchange->alive()) return;
  std::string failures;
  for (const auto& [name, result] : run.results) {
    if (result == "ok") continue;
    if (!failures.empty()) failures += "; ";
    failures += name + ": " + result;
  }
  core::JsonWriter w;
  w.BeginObject();
  if (failures.empty()) {
    w.Key("status").String("ready");
  } else {
    w.Key("error").BeginObject().Key("code").String("not_ready").Key("message").String(failures).EndObject();
  }
  w.Key("checks").BeginObject();
  for (const auto& [name, result] : run.results) w.Key(name).String(result);
  w.EndObject().EndObject();
  if (failures.empty()) {
    exchange->Respond(200, std::move(w).str());
  } else {
    exchange->Respond(503, std::move(w).str(), http::kJsonType, {{"Retry-After", "5"}});
  }
}

}  // namespace

void AddHealthRoutes(http::Router& router, const std::vector<ReadinessCheck>& checks) {
  router.Add({"GET", "/healthz", "healthz", http::BodyLimit::kSmall,
              http::Simple([](http::Exchange& exchange) { exchange.Respond(200, R"({"status":"ok"})"); })});
  router.Add({"GET", "/readyz", "readyz", http::BodyLimit::kSmall, http::Simple([&checks](http::Exchange& exchange) {
                auto run = std::make_shared<ReadinessRun>();
                run->exchange = exchange.weak_from_this();
                run->remaining = checks.size();
                if (checks.empty()) {
                  Answer(*run);
                  return;
                }
                for (const auto& check : checks) {
                  check.run([run, name = check.name](core::Status status) {
                    run->results[name] = status.ok() ? "ok" : status.message();
                    if (--run->remaining == 0) Answer(*run);
                  });
                }
              })});
}

}  // namespace sluice::api
