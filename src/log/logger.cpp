// Logger set-up over spdlog: one shared stderr sink, a formatter per format,
// named loggers created on first use. See logger.hpp for the why.
#include "log/logger.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cstdlib>
#include <mutex>

#include <fmt/chrono.h>

namespace sluice::log {
namespace {

spdlog::level::level_enum ToSpd(Level level) {
  switch (level) {
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

void AppendJsonEscaped(spdlog::memory_buf_t& out, std::string_view text) {
  for (unsigned char c : text) {
    switch (c) {
      case '"': out.append(std::string_view("\\\"")); break;
      case '\\': out.append(std::string_view("\\\\")); break;
      case '\n': out.append(std::string_view("\\n")); break;
      case '\r': out.append(std::string_view("\\r")); break;
      case '\t': out.append(std::string_view("\\t")); break;
      default:
        if (c < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
}

/// {"ts":"…","level":"info","logger":"http","msg":"…"} per line.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                      msg.time.time_since_epoch()).count() % 1000;
    fmt::format_to(std::back_inserter(dest), R"({{"ts":"{:%Y-%m-%dT%H:%M:%S}.{:03}Z","level":")",
                   fmt::gmtime(std::chrono::system_clock::to_time_t(msg.time)), millis);
    auto level = spdlog::level::to_string_view(msg.level);
    dest.append(level.data(), level.data() + level.size());
    dest.append(std::string_view(R"(","logger":")"));
    AppendJsonEscaped(dest, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    dest.append(std::string_view(R"(","msg":")"));
    AppendJsonEscaped(dest, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(std::string_view("\"}\n"));
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

/// `%*` → the sd-daemon priority prefix (<3> err, <4> warning, <6> info, <7> debug).
class SdPriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string_view prefix = "<6>";
    if (msg.level >= spdlog::level::err) prefix = "<3>";
    else if (msg.level == spdlog::level::warn) prefix = "<4>";
    else if (msg.level <= spdlog::level::debug) prefix = "<7>";
    dest.append(prefix.data(), prefix.data() + prefix.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<SdPriorityFlag>(); }
};

struct LogState {
  std::mutex mutex;
  std::shared_ptr<spdlog::sinks::stderr_sink_mt> sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  spdlog::level::level_enum level = spdlog::level::info;
};

LogState& State() {
  static LogState state;
  return state;
}

}  // namespace

void Init(Level level, Format format) {
  auto& state = State();
  std::lock_guard lock(state.mutex);
  state.level = ToSpd(level);
  if (format == Format::kJson) {
    state.sink->set_formatter(std::make_unique<JsonFormatter>());
  } else if (std::getenv("JOURNAL_STREAM") != nullptr) {
    // journald adds its own timestamp; the <N> prefix carries the priority.
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<SdPriorityFlag>('*').set_pattern("%*%l [%n] %v");
    state.sink->set_formatter(std::move(formatter));
  } else {
    state.sink->set_formatter(
        std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%e%z %l [%n] %v"));
  }
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& logger) { logger->set_level(state.level); });
}

void SetLevel(Level level) {
  auto& state = State();
  std::lock_guard lock(state.mutex);
  state.level = ToSpd(level);
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& logger) { logger->set_level(state.level); });
}

std::shared_ptr<spdlog::logger> Get(std::string_view module) {
  auto& state = State();
  std::lock_guard lock(state.mutex);
  std::string name(module);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, state.sink);
  logger->set_level(state.level);
  logger->flush_on(spdlog::level::trace);
  spdlog::register_logger(logger);
  return logger;
}

bool ParseLevel(std::string_view text, Level& out) {
  if (text == "debug") out = Level::kDebug;
  else if (text == "info") out = Level::kInfo;
  else if (text == "warn") out = Level::kWarn;
  else if (text == "error") out = Level::kError;
  else return false;
  return true;
}

bool ParseFormat(std::string_view text, Format& out) {
  if (text == "text") out = Format::kText;
  else if (text == "json") out = Format::kJson;
  else return false;
  return true;
}

}  // namespace sluice::log
