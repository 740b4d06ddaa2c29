// HTTP status reason phrases and the API's error body
// (`{"error":{"code","message","param"}}`, API.md) — the one place that
// decides how an error looks on the wire.
#pragma once

#include <string>
#include <string_view>

namespace sluice::http {

/// "OK", "Not Found", ... ("Unknown" for codes we never send).
std::string_view ReasonPhrase(int status);

/// The API error body. `param` is omitted when empty; `error_id` (the id a
/// 500 carries so it can be found in the log) is omitted when empty.
std::string ErrorBody(std::string_view code, std::string_view message, std::string_view param = {},
                      std::string_view error_id = {});

}  // namespace sluice::http
