// JsonWriter: builds compact JSON text into a string, escaping as RFC 8259
// requires (control characters, quotes, backslashes; UTF-8 passes through).
// Small on purpose: responses are written field by field, never through a DOM.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::core {

/// Appends `text` to `out` as a quoted JSON string: `"`, `\` and the control
/// characters escaped (\n \r \t \b \f by name, the rest and DEL as \u00XX),
/// every other byte (UTF-8 included) as it is.
void AppendJsonString(std::string& out, std::string_view text);

/// The most bytes the JSON string of `size` bytes of text can take: six per
/// byte (\u00XX) and the quotes.
constexpr std::size_t MaxJsonStringSize(std::size_t size) { return 6 * size + 2; }

/// AppendJsonString's bytes written at `dest`, which has room for
/// MaxJsonStringSize(text.size()); returns the end of what it wrote. For hot
/// loops that size their buffer once for many strings.
char* WriteJsonString(char* dest, std::string_view text);

/// Streaming writer: `w.BeginObject(); w.Key("a"); w.Int(1); w.EndObject();`.
/// Commas are inserted automatically.
class JsonWriter {
 public:
  JsonWriter& BeginObject() { Separator(); out_.push_back('{'); first_ = true; return *this; }
  JsonWriter& EndObject() { out_.push_back('}'); first_ = false; return *this; }
  JsonWriter& BeginArray() { Separator(); out_.push_back('['); first_ = true; return *this; }
  JsonWriter& EndArray() { out_.push_back(']'); first_ = false; return *this; }
  JsonWriter& Key(std::string_view key) {
    Separator();
    AppendJsonString(out_, key);
    out_.push_back(':');
    after_key_ = true;
    return *this;
  }
  JsonWriter& String(std::string_view value) { Separator(); AppendJsonString(out_, value); return *this; }
  JsonWriter& Int(int64_t value) { Separator(); out_ += std::to_string(value); return *this; }
  JsonWriter& Uint(uint64_t value) { Separator(); out_ += std::to_string(value); return *this; }
  JsonWriter& Bool(bool value) { Separator(); out_ += value ? "true" : "false"; return *this; }
  JsonWriter& Null() { Separator(); out_ += "null"; return *this; }
  /// Inserts already-encoded JSON as one value.
  JsonWriter& Raw(std::string_view json) { Separator(); out_.append(json); return *this; }

  const std::string& str() const& { return out_; }
  std::string str() && { return std::move(out_); }

 private:
  void Separator() {
    if (after_key_) { after_key_ = false; return; }
    if (!first_) out_.push_back(',');
    first_ = false;
  }
  std::string out_;
  bool first_ = true;
  bool after_key_ = false;
};

}  // namespace sluice::core
