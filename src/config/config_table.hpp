// The option table: one row per conf key (Redis `static_configs[]`). A row
// knows its section and key, the default as written in conf/sluice.conf, the
// one-line help, how to parse-validate-store a value into a Config, how to
// print the stored value back, and its flags (kSecret). The loader, the
// environment overrides, Describe() and Options() all walk this one table, so
// adding a key means adding one row. Internal to src/config (and its tests).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace sluice::config {

/// Row flags.
enum OptionFlag : uint32_t {
  kSecret = 1u << 0,  ///< never printed: Describe shows "***"; errors never echo the value
};

/// Parses and validates `value` and stores it in `config`. On failure returns
/// false, leaves `config` unchanged and sets `error` (without the key's name).
using OptionSetter = std::function<bool(Config& config, std::string_view value, std::string& error)>;
/// The stored value in canonical conf syntax ("256M", "30s", "true").
using OptionGetter = std::function<std::string(const Config& config)>;

/// One conf key.
struct Option {
  std::string_view section;
  std::string_view key;
  std::string_view default_text;  ///< the default as conf syntax
  std::string_view help;          ///< one line, as in conf/sluice.conf
  OptionSetter set;
  OptionGetter get;
  uint32_t flags = 0;

  bool secret() const { return (flags & kSecret) != 0; }
};

/// Every row, in conf/sluice.conf order.
std::span<const Option> OptionTable();
/// The row for `[section] key`, or nullptr.
const Option* FindOption(std::string_view section, std::string_view key);
/// True when `section` is one of the table's sections.
bool IsKnownSection(std::string_view section);

}  // namespace sluice::config
