// Accept-Encoding: does the client take gzip? Shared by every answer that may
// be compressed (query results, the console's files).
#pragma once

#include <optional>
#include <string_view>

namespace sluice::http {

/// True when the Accept-Encoding header allows gzip (or x-gzip) with q > 0.
bool AcceptsGzip(std::optional<std::string_view> header);

}  // namespace sluice::http
