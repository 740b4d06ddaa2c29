// See uv_error.hpp.
#include "uv/uv_error.hpp"

#include <fmt/format.h>
#include <uv.h>

namespace sluice::glue {

core::Status UvStatus(int rc, std::string_view what) {
  if (rc >= 0) return core::Status::Ok();
  return {core::ErrorDomain::kUv, rc, fmt::format("{}: {}: {}", what, uv_err_name(rc), uv_strerror(rc))};
}

}  // namespace sluice::glue
