// Logging: one line per event on stderr, for journald or a terminal.
// Each module takes a named logger (`log::Get("http")`); spdlog checks the
// level before it formats, so a disabled debug line costs a comparison.
// Formats: `text` (timestamp, level, module, message — or, when stderr is
// journald's stream, the sd-daemon `<N>` priority prefix instead of a
// timestamp) and `json` (one object per line). Secrets never reach a log line:
// config values flagged secret are printed as "***".
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>

namespace sluice::log {

enum class Level { kDebug, kInfo, kWarn, kError };
enum class Format { kText, kJson };

/// Sets up the stderr sink. Call once at start; safe to call again (reload).
void Init(Level level, Format format);
/// Changes the level of every logger (SIGHUP reload).
void SetLevel(Level level);
/// The logger of one module ("http", "db", "s3", "ingest", "access", ...).
std::shared_ptr<spdlog::logger> Get(std::string_view module);

/// Parses "debug|info|warn|error"; false on anything else.
bool ParseLevel(std::string_view text, Level& out);
/// Parses "text|json"; false on anything else.
bool ParseFormat(std::string_view text, Format& out);

}  // namespace sluice::log
