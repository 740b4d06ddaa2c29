// Routes for the test suite only, mounted when `[server] test_routes = true`
// (never in production confs):
//   POST /v1/_test/echo        streams the request body back as a chunked
//                              response, pausing the body while the client is
//                              slow to read (exercises both directions of
//                              backpressure); upload-sized body limit.
//   GET  /v1/_test/delay?ms=N  answers after N ms (an in-flight request for
//                              shutdown tests).
//   DELETE /v1/_test/admin     answers {"caller": …}.
//   GET  /v1/_test/routes      every mounted route (method, pattern, role), so
//                              a test can check /openapi.json documents them.
// Their roles (echo: write, delay: read, admin: admin) let the auth tests
// cover every role against every level.
#pragma once

#include <uv.h>

#include "http/router.hpp"

namespace sluice::api {

void AddTestRoutes(http::Router& router, uv_loop_t* loop);

}  // namespace sluice::api
