// Defer: run a function on the next loop turn, so an operation that can
// finish at once (a validation error, an empty input) still reports through
// the loop like every other outcome — callbacks never run inside the call
// that asked for them. One heap-allocated zero-delay timer per call, freed in
// its close callback.
#pragma once

#include <uv.h>

#include <functional>

namespace sluice::ingest {

/// Runs `fn` from a zero-delay timer on `loop` (the loop thread only). If the
/// loop closes the timer before it fires (it never does while it runs), `fn`
/// is dropped.
void Defer(uv_loop_t* loop, std::function<void()> fn);

}  // namespace sluice::ingest
