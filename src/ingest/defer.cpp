// See defer.hpp. The timer and the function live in one heap block owned by
// the handle's data pointer until the close callback frees it.
#include "ingest/defer.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>

namespace sluice::ingest {
namespace {

struct Deferred {
  uv_timer_t timer{};
  std::function<void()> fn;
};

void OnClosed(uv_handle_t* handle) noexcept { delete static_cast<Deferred*>(handle->data); }

void OnFire(uv_timer_t* handle) noexcept {
  auto* deferred = static_cast<Deferred*>(handle->data);
  auto fn = std::move(deferred->fn);
  uv_close(reinterpret_cast<uv_handle_t*>(&deferred->timer), &OnClosed);
  if (fn) fn();
}

}  // namespace

void Defer(uv_loop_t* loop, std::function<void()> fn) {
  auto deferred = std::make_unique<Deferred>();
  deferred->fn = std::move(fn);
  deferred->timer.data = deferred.get();
  if (uv_timer_init(loop, &deferred->timer) != 0 || uv_timer_start(&deferred->timer, &OnFire, 0, 0) != 0) {
    std::fprintf(stderr, "sluice: Defer: cannot start a timer\n");
    std::abort();
  }
  deferred.release();  // OnClosed frees it
}

}  // namespace sluice::ingest
