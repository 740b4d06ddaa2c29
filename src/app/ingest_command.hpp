// `sluice ingest FILE`: the upload pipeline without HTTP. It runs the same
// IngestJob the API runs (S3 copy, staging table, publish, catalog record), fed
// from a file or stdin read on the loop (uv_fs_read for files, a uv pipe or
// tty for stdin — never a blocking read on the loop thread), and prints the
// final upload record as JSON on stdout.
//
// Exit codes: 0 the upload is `done`; 1 it failed or was cancelled (the
// error on stderr, the record on stdout when one exists); 2 bad usage (an
// unknown or invalid option, an unreadable conf).
//
// S3: the original is copied to `<prefix>uploads/<id>/<name>` when [s3]
// access_key and secret_key are set (endpoint empty = AWS), unless --no-s3;
// without keys there is no copy and a note says so on stderr.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sluice::app {

/// What `sluice ingest` was asked to do.
struct IngestCommandArgs {
  std::string file;         ///< a path, or "-" for stdin
  std::string config_path;  ///< empty: /etc/sluice/sluice.conf if readable, else built-in defaults (+ SLUICE_* always)
  /// Upload options by API name (table, mode, format, delimiter, quote, header,
  /// encoding, types, type.{column}, on_error, filename), in the order given.
  std::vector<std::pair<std::string, std::string>> options;
  bool gzip = false;        ///< the input is gzip whatever its name
  bool no_s3 = false;       ///< no S3 copy of the original
  std::string sha256;       ///< the expected SHA-256 (hex), like Content-Digest
};

/// Runs the command; returns the process exit code (see above).
int RunIngestCommand(const IngestCommandArgs& args);

}  // namespace sluice::app
