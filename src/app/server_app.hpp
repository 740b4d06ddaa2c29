// ServerApp: `sluice serve`. Builds everything the server needs from the
// Config (loop, routes, HTTP server, database pool, S3 client), listens, tells
// systemd READY=1, and runs the loop until SIGTERM/SIGINT. Signals:
//   SIGTERM, SIGINT  graceful stop: STOPPING=1, stop accepting, finish
//                    in-flight requests within [server] shutdown_grace, exit 0
//                    (a second signal stops at once)
//   SIGHUP           reload: re-read the conf; log level/format and request
//                    limits change in place; a bad conf is logged and ignored
#pragma once

#include <memory>
#include <string>

#include "config/config.hpp"

namespace sluice::app {

/// Runs the server with `config` (loaded from `config.path`); returns the
/// process exit code.
int RunServer(config::Config config);

/// True when every listen address is loopback (127.0.0.0/8, ::1, localhost).
bool AllLoopback(const std::vector<config::ListenAddress>& addresses);

}  // namespace sluice::app
