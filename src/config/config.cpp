// Loading the conf: inih parses the INI syntax, the option table
// (config_table.cpp) parses and checks each value, then SLUICE_<SECTION>_<KEY>
// environment variables override, then a few cross-key checks run. Every
// problem becomes a ConfigError with its file and line; loading never stops
// at the first one, so `sluice check-config` lists them all at once.
//
// Debian's inih (r55) does not pass line numbers to the handler, so we feed it
// through ini_parse_stream with our own reader, which hands over exactly one
// line per call and counts them (inih counts the same way). inih reports only
// its first syntax error, so on a syntax error the parse is simply run again
// with that line blanked out, until it comes back clean; a conf is small.
// The reader also sees section headers, so an unknown (even empty) section is
// reported once at its own line and its keys are skipped.
#include "config/config.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <ini.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config_table.hpp"

extern char** environ;  // NOLINT: POSIX

namespace sluice::config {
namespace {

/// Longest accepted line, bytes (inih's buffer also needs '\n' and '\0').
constexpr int kMaxLine = 8192;
/// Give up after this many syntax errors (each costs one re-parse).
constexpr size_t kMaxSyntaxErrors = 100;
constexpr std::string_view kBom = "\xEF\xBB\xBF";

/// Where a key got its value: (file, line) or (variable, 0).
struct Source {
  std::string file;
  int line = 0;
};

/// The state of one parse pass; inih passes it to both callbacks.
struct Pass {
  std::string_view name;      ///< file name for messages
  std::string_view text;      ///< the whole conf
  size_t pos = 0;             ///< reader position in `text`
  int line = 0;               ///< number of the line last handed to inih
  std::set<int> blanked;      ///< syntax-error lines from earlier passes
  std::set<std::string, std::less<>> unknown_sections;  ///< reported; their keys are skipped
  Config config;
  std::vector<ConfigError> errors;
  std::map<const Option*, Source> sources;  ///< keys that were set
  std::set<const Option*> failed;           ///< keys with a bad value

  void Error(int at, std::string message) { errors.push_back(ConfigError{std::string(name), at, std::move(message)}); }
};

std::string_view LeftTrim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  return text;
}

std::string_view Trim(std::string_view text) {
  text = LeftTrim(text);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

/// A value written in double quotes loses them (`password = "a b"`).
std::string_view Unquote(std::string_view value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') return value.substr(1, value.size() - 2);
  return value;
}

/// Why inih rejected `line` (it says only where).
std::string SyntaxMessage(std::string_view line) {
  if (LeftTrim(line).starts_with('[')) return "syntax error: expected \"]\" to close the section name";
  return "syntax error: expected \"key = value\"";
}

/// Notes a `[section]` header on this line; an unknown one is an error.
void NoteSection(Pass& pass, std::string_view line) {
  line = LeftTrim(line);
  if (!line.starts_with('[')) return;
  const size_t close = line.find(']');
  if (close == std::string_view::npos) return;  // inih reports it
  const std::string_view section = line.substr(1, close - 1);
  if (IsKnownSection(section)) return;
  pass.Error(pass.line, fmt::format("[{}]: unknown section", section));
  pass.unknown_sections.emplace(section);
}

/// inih's fgets: one line per call (so inih's line count matches ours).
char* ReadLine(char* buffer, int size, void* stream) {
  Pass& pass = *static_cast<Pass*>(stream);
  if (pass.pos >= pass.text.size()) return nullptr;
  const size_t newline = pass.text.find('\n', pass.pos);
  const size_t next = newline == std::string_view::npos ? pass.text.size() : newline + 1;
  std::string_view line = pass.text.substr(pass.pos, next - pass.pos);
  pass.pos = next;
  ++pass.line;
  if (pass.line == 1 && line.starts_with(kBom)) line.remove_prefix(kBom.size());

  bool blank = true;
  if (pass.blanked.count(pass.line) != 0) {
    pass.Error(pass.line, SyntaxMessage(line));
  } else if (line.find('\0') != std::string_view::npos) {
    pass.Error(pass.line, "the line contains a NUL byte");
  } else if (line.size() - (line.ends_with('\n') ? 1 : 0) + 2 > static_cast<size_t>(size)) {
    pass.Error(pass.line, fmt::format("the line is longer than {} bytes", size - 2));
  } else {
    blank = false;
    NoteSection(pass, line);
  }
  if (blank) line = "\n";
  std::memcpy(buffer, line.data(), line.size());
  buffer[line.size()] = '\0';
  return buffer;
}

/// inih's handler: one `key = value` of the current pass.
int OnKey(void* user, const char* section_c, const char* key_c, const char* value_c) {
  Pass& pass = *static_cast<Pass*>(user);
  const std::string_view section(section_c);
  const std::string_view key(key_c);
  const std::string_view value = Unquote(value_c != nullptr ? value_c : "");
  if (section.empty()) {
    pass.Error(pass.line, fmt::format("{}: key is outside any [section]", key));
    return 1;
  }
  if (pass.unknown_sections.count(section) != 0) return 1;
  const Option* option = FindOption(section, key);
  if (option == nullptr) {
    pass.Error(pass.line, fmt::format("[{}] {}: unknown key", section, key));
    return 1;
  }
  if (auto it = pass.sources.find(option); it != pass.sources.end()) {
    pass.Error(pass.line, fmt::format("[{}] {}: set twice (first on line {})", section, key, it->second.line));
    return 1;
  }
  pass.sources[option] = Source{std::string(pass.name), pass.line};
  std::string why;
  if (!option->set(pass.config, value, why)) {
    pass.Error(pass.line, fmt::format("[{}] {}: {}", section, key, why));
    pass.failed.insert(option);
  }
  return 1;  // errors are collected, never returned to inih
}

/// Parses the INI text, re-running past each syntax error. Not reentrant:
/// inih's knobs are process globals, so one parse at a time.
Pass ParseText(std::string_view text, std::string_view name) {
  static std::mutex mutex;
  const std::lock_guard<std::mutex> lock(mutex);
  ini_allow_multiline = false;  // an indented line is a key, not a continuation
  ini_allow_bom = false;        // ReadLine strips it
  ini_start_comment_prefixes = const_cast<char*>(";#");
  ini_allow_inline_comments = true;  // `key = 8M   ; comment` (after whitespace)
  ini_inline_comment_prefixes = const_cast<char*>(";#");
  ini_allow_no_value = false;
  ini_stop_on_first_error = false;
  ini_use_stack = false;        // heap buffer of ini_initial_alloc bytes...
  ini_allow_realloc = false;    // ...that never grows, so one reader call = one line
  ini_initial_alloc = kMaxLine + 2;
  ini_max_line = kMaxLine + 2;

  std::set<int> blanked;
  while (true) {
    Pass pass;
    pass.name = name;
    pass.text = text;
    pass.blanked = blanked;
    const int rc = ini_parse_stream(ReadLine, &pass, OnKey, &pass);
    if (rc == 0) return pass;
    if (rc < 0) {
      pass.Error(0, "out of memory while parsing");
      return pass;
    }
    if (blanked.count(rc) != 0 || blanked.size() >= kMaxSyntaxErrors) {
      pass.Error(rc, "too many syntax errors; stopped here");
      return pass;
    }
    blanked.insert(rc);
  }
}

/// "NAME=value" entries of `env` (nullptr = the process environment).
std::map<std::string, std::string, std::less<>> SluiceVariables(const char* const* env) {
  if (env == nullptr) env = environ;
  std::map<std::string, std::string, std::less<>> vars;
  for (; env != nullptr && *env != nullptr; ++env) {
    const std::string_view entry(*env);
    const size_t eq = entry.find('=');
    if (!entry.starts_with("SLUICE_") || eq == std::string_view::npos) continue;
    vars.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));  // first one wins, as getenv
  }
  return vars;
}

/// Applies SLUICE_<SECTION>_<KEY> overrides. A SLUICE_<SECTION>_ variable of a
/// known section that matches no key is an error (a typo would otherwise drop
/// a secret silently); other SLUICE_* names (SLUICE_TEST_*) are not ours.
void ApplyEnvironment(Pass& pass, const char* const* env) {
  auto vars = SluiceVariables(env);
  for (const Option& option : OptionTable()) {
    const std::string name = EnvName(option.section, option.key);
    auto it = vars.find(name);
    if (it == vars.end()) continue;
    const std::string_view value = Trim(it->second);
    pass.sources[&option] = Source{name, 0};
    pass.failed.erase(&option);
    std::string why;
    if (!option.set(pass.config, value, why)) {
      pass.errors.push_back(ConfigError{name, 0, why});
      pass.failed.insert(&option);
    }
    vars.erase(it);
  }
  std::set<std::string> prefixes;
  for (const Option& option : OptionTable()) prefixes.insert(EnvName(option.section, ""));
  for (const auto& [name, value] : vars) {
    for (const std::string& prefix : prefixes) {
      if (name.starts_with(prefix)) {
        pass.errors.push_back(ConfigError{name, 0, "unknown setting (not a SLUICE_<SECTION>_<KEY> of any key)"});
        break;
      }
    }
  }
}

/// Checks that span keys. Each error goes where the first named key was set
/// (its line or variable), or the file with no line for defaults. A check is
/// skipped when one of its keys already has an error.
void CrossCheck(Pass& pass) {
  auto where = [&pass](std::string_view section, std::string_view key) -> Source {
    auto it = pass.sources.find(FindOption(section, key));
    return it != pass.sources.end() ? it->second : Source{std::string(pass.name), 0};
  };
  auto clean = [&pass](std::initializer_list<std::pair<std::string_view, std::string_view>> keys) {
    for (const auto& [section, key] : keys) {
      if (pass.failed.count(FindOption(section, key)) != 0) return false;
    }
    return true;
  };
  auto report = [&pass](Source at, std::string message) {
    pass.errors.push_back(ConfigError{std::move(at.file), at.line, std::move(message)});
  };
  const Config& c = pass.config;
  if (c.s3.access_key.empty() != c.s3.secret_key.empty() && clean({{"s3", "access_key"}, {"s3", "secret_key"}})) {
    const bool has_access = !c.s3.access_key.empty();
    report(where("s3", has_access ? "access_key" : "secret_key"),
           has_access ? "[s3] access_key is set but [s3] secret_key is empty"
                      : "[s3] secret_key is set but [s3] access_key is empty");
  }
  if (c.server.memory_budget < c.s3.part_size && clean({{"server", "memory_budget"}, {"s3", "part_size"}})) {
    const bool budget_set = pass.sources.count(FindOption("server", "memory_budget")) != 0;
    report(budget_set ? where("server", "memory_budget") : where("s3", "part_size"),
           fmt::format("[server] memory_budget {} is below [s3] part_size {}", FormatSize(c.server.memory_budget),
                       FormatSize(c.s3.part_size)));
  }
  if (!c.server.tls_listen.empty() && (c.server.tls_cert.empty() || c.server.tls_key.empty()) &&
      clean({{"server", "tls_listen"}, {"server", "tls_cert"}, {"server", "tls_key"}})) {
    report(where("server", "tls_listen"), "[server] tls_listen needs both tls_cert and tls_key");
  }
  if (c.mariadb.host.empty() && c.mariadb.socket.empty() && clean({{"mariadb", "host"}, {"mariadb", "socket"}})) {
    report(where("mariadb", "host"), "[mariadb] host is empty and no socket is set");
  }
}

LoadResult Load(std::string_view text, const std::string& name, const char* const* env) {
  Pass pass = ParseText(text, name);  // its errors are in line order: the last pass saw every one
  ApplyEnvironment(pass, env);
  CrossCheck(pass);
  LoadResult result;
  result.config = std::move(pass.config);
  result.config.path = name;
  result.errors = std::move(pass.errors);
  return result;
}

}  // namespace

std::string ConfigError::ToString() const {
  if (line > 0) return fmt::format("{}:{}: {}", file, line, message);
  return fmt::format("{}: {}", file, message);
}

LoadResult LoadString(const std::string& text, const std::string& name, const char* const* env) {
  return Load(text, name, env);
}

LoadResult LoadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  std::string text;
  int error = fd < 0 ? errno : 0;
  if (fd >= 0) {
    char chunk[16384];
    while (true) {
      const ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n > 0) {
        text.append(chunk, static_cast<size_t>(n));
      } else if (n == 0) {
        break;
      } else if (errno != EINTR) {
        error = errno;
        break;
      }
    }
    ::close(fd);
  }
  if (error != 0) {
    LoadResult result;
    result.config.path = path;
    result.errors.push_back(ConfigError{path, 0, fmt::format("cannot read: {}", std::strerror(error))});
    return result;
  }
  return Load(text, path, nullptr);
}

std::string Describe(const Config& config) {
  std::string text;
  for (const Option& option : OptionTable()) {
    std::string value = option.get(config);
    if (option.secret() && !value.empty()) value = "***";
    if (value.empty()) {
      text += fmt::format("[{}] {} =\n", option.section, option.key);
    } else {
      text += fmt::format("[{}] {} = {}\n", option.section, option.key, value);
    }
  }
  return text;
}

}  // namespace sluice::config
