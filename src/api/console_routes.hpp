// The web console's routes: GET / (the page, index.html) and GET
// /assets/{name} (its CSS, scripts and icon), served from the files embedded
// at build time (console::AssetStore: gzip, ETag/304, a strict CSP). Both are
// public: the console holds no data — every API call it makes carries the
// token the user typed, so auth is enforced where the data is.
#pragma once

#include "http/router.hpp"

namespace sluice::api {

void AddConsoleRoutes(http::Router& router);

}  // namespace sluice::api
