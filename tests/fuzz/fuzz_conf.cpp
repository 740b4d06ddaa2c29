// Fuzz target: the conf loader — an INI text (inih underneath) plus
// SLUICE_<SECTION>_<KEY> environment overrides → Config or every error with
// its line — and the value syntaxes (sizes, durations, listen lists, tokens).
// Invariants: every error has a message; a loaded Config prints (Describe)
// with secrets masked; each key's printed value, written back as a conf,
// loads again to the same value (the canonical spellings round-trip); the
// value parsers round-trip through their formatters.
//
// Input: the conf text, then optionally "\0\0" and NUL-separated NAME=value
// environment entries.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/config_table.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace sluice::config;

/// A value the conf syntax can carry unchanged (no comment starters, no
/// surrounding whitespace, one line).
bool Portable(std::string_view v) {
  if (v.empty()) return true;
  if (v.front() == ' ' || v.front() == '\t' || v.back() == ' ' || v.back() == '\t') return false;
  for (char c : v) {
    if (c == ';' || c == '#' || c == '\n' || c == '\r' || c == '\0' || c == '[' || c == '=') return false;
  }
  return true;
}

void CheckValueParsers(std::string_view text) {
  std::uint64_t size = 0;
  if (ParseSize(text, size)) {
    std::uint64_t back = 0;
    FUZZ_CHECK(ParseSize(FormatSize(size), back) && back == size, "size %llu does not round-trip",
               static_cast<unsigned long long>(size));
  }
  Millis ms{};
  if (ParseDuration(text, ms)) {
    Millis back{};
    FUZZ_CHECK(ParseDuration(FormatDuration(ms), back) && back == ms, "duration %lld ms does not round-trip",
               static_cast<long long>(ms.count()));
  }
  std::vector<ListenAddress> listen;
  std::string error;
  if (ParseListen(text, listen, error)) {
    for (const ListenAddress& a : listen) {
      std::vector<ListenAddress> back;
      std::string e2;
      FUZZ_CHECK(ParseListen(FormatListen(a), back, e2) && back.size() == 1 && back[0] == a,
                 "listen %s does not round-trip", FormatListen(a).c_str());
    }
  } else {
    FUZZ_CHECK(!error.empty(), "listen error without a message");
  }
  std::vector<TokenEntry> tokens;
  error.clear();
  if (!ParseTokens(text, tokens, error)) FUZZ_CHECK(!error.empty(), "tokens error without a message");
  bool b = false;
  (void)ParseBool(text, b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = input.find(std::string_view("\0\0", 2));
  const std::string text(input.substr(0, split));
  std::vector<std::string> env_strings;
  if (split != std::string_view::npos) {
    std::string_view rest = input.substr(split + 2);
    while (!rest.empty()) {
      std::size_t nul = rest.find('\0');
      env_strings.emplace_back(rest.substr(0, nul));
      if (nul == std::string_view::npos) break;
      rest.remove_prefix(nul + 1);
    }
  }
  std::vector<const char*> env;
  for (const auto& s : env_strings) env.push_back(s.c_str());
  env.push_back(nullptr);

  CheckValueParsers(text.substr(0, 256));

  const LoadResult result = LoadString(text, "fuzz.conf", env.data());
  for (const ConfigError& e : result.errors) {
    FUZZ_CHECK(!e.message.empty(), "an error without a message");
    FUZZ_CHECK(!e.ToString().empty(), "an error that prints empty");
  }
  if (!result.ok()) return 0;

  const std::string described = Describe(result.config);
  std::string again;  // the loaded values as a conf of their own
  bool skipped = false;  // a value the syntax cannot carry: cross-key checks may then differ
  for (const Option& option : OptionTable()) {
    const std::string value = option.get(result.config);
    if (option.secret() && !value.empty()) {
      FUZZ_CHECK(described.find(std::string("] ") + std::string(option.key) + " = ***\n") != std::string::npos,
                 "secret %s not masked", std::string(option.key).c_str());
    }
    if (!Portable(value)) {
      skipped = true;
      continue;
    }
    again += "[" + std::string(option.section) + "]\n" + std::string(option.key) + " = " + value + "\n";
  }
  const char* no_env[] = {nullptr};
  const LoadResult reloaded = LoadString(again, "again.conf", no_env);
  if (skipped && !reloaded.ok()) return 0;
  FUZZ_CHECK(reloaded.ok(), "printed values do not load again: %s\n%s",
             reloaded.errors.empty() ? "" : reloaded.errors.front().ToString().c_str(), again.c_str());
  for (const Option& option : OptionTable()) {
    const std::string value = option.get(result.config);
    if (!Portable(value)) continue;
    FUZZ_CHECK(option.get(reloaded.config) == value, "[%s] %s: '%s' reloads as '%s'",
               std::string(option.section).c_str(), std::string(option.key).c_str(), value.c_str(),
               option.get(reloaded.config).c_str());
  }
  return 0;
}
