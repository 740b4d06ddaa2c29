// See test_routes.hpp.
#include "api/test_routes.hpp"

#include <charconv>
#include <string>

#include "core/json_writer.hpp"
#include "http/exchange.hpp"
#include "http/simple_handler.hpp"
#include "uv/uv_handle.hpp"

namespace sluice::api {
namespace {

class EchoHandler final : public http::Handler {
 public:
  void OnBody(http::Exchange& exchange, std::string_view chunk) override {
    Begin(exchange);  // at the first byte, so Expect: 100-continue is answered first
    if (!exchange.Write(chunk)) exchange.PauseBody();  // resume in OnDrain
  }
  void OnDrain(http::Exchange& exchange) override { exchange.ResumeBody(); }
  void OnBodyEnd(http::Exchange& exchange) override {
    Begin(exchange);
    exchange.EndStream();
  }

 private:
  static void Begin(http::Exchange& exchange) {
    if (exchange.responded()) return;
    auto type = exchange.request().Header("Content-Type");
    exchange.BeginStream(200, type ? *type : "application/octet-stream");
  }
};

class DelayHandler final : public http::Handler {
 public:
  explicit DelayHandler(uv_loop_t* loop) : loop_(loop) {}
  void OnBodyEnd(http::Exchange& exchange) override {
    uint64_t millis = 0;
    auto text = exchange.request().Query("ms");
    if (!text || std::from_chars(text->data(), text->data() + text->size(), millis).ec != std::errc() ||
        millis > 600000) {
      exchange.RespondError(400, "invalid_parameter", "ms must be a number of milliseconds up to 600000", "ms");
      return;
    }
    exchange_ = exchange.weak_from_this();
    millis_ = millis;
    timer_.Init(uv_timer_init, loop_);
    timer_->data = this;
    uv_timer_start(timer_.get(), OnTimer, millis, 0);
  }

 private:
  static void OnTimer(uv_timer_t* timer) {
    auto* self = static_cast<DelayHandler*>(timer->data);
    if (auto exchange = self->exchange_.lock()) {
      exchange->Respond(200, "{\"slept_ms\":" + std::to_string(self->millis_) + "}");
    }
  }

  uv_loop_t* loop_;
  glue::UvHandle<uv_timer_t> timer_;
  std::weak_ptr<http::Exchange> exchange_;
  uint64_t millis_ = 0;
};

}  // namespace

void AddTestRoutes(http::Router& router, uv_loop_t* loop) {
  router.Add({"GET", "/v1/_test/routes", "test.routes", http::BodyLimit::kSmall,
              http::Simple([&router](http::Exchange& exchange) {
                core::JsonWriter w;
                w.BeginArray();
                for (const auto& route : router.routes()) {
                  w.BeginObject().Key("method").String(route.method).Key("pattern").String(route.pattern);
                  w.Key("role").String(auth::RoleName(route.role)).EndObject();
                }
                w.EndArray();
                exchange.Respond(200, std::move(w).str());
              })});
  router.Add({"POST", "/v1/_test/echo", "test.echo", http::BodyLimit::kUpload,
              [] { return std::make_unique<EchoHandler>(); }, auth::Role::kWrite});
  router.Add({"GET", "/v1/_test/delay", "test.delay", http::BodyLimit::kSmall,
              [loop] { return std::make_unique<DelayHandler>(loop); }, auth::Role::kRead});
  router.Add({"DELETE", "/v1/_test/admin", "test.admin", http::BodyLimit::kSmall,
              http::Simple([](http::Exchange& exchange) {
                exchange.Respond(200, "{\"caller\":\"" + exchange.request().caller + "\"}");
              }),
              auth::Role::kAdmin});
}

}  // namespace sluice::api
