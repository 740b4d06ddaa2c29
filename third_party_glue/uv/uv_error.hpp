// Converts libuv's negative error codes into core::Status at the boundary,
// keeping the code and libuv's own name and text ("ECONNRESET: connection reset by peer").
#pragma once

#include <string_view>

#include "core/status.hpp"

namespace sluice::glue {

/// Status{kUv, rc, "<what>: <UV_NAME>: <text>"}; Ok when rc >= 0.
core::Status UvStatus(int rc, std::string_view what);

}  // namespace sluice::glue
