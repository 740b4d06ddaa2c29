// The upload options of API.md ("Uploads") as one table of names, checked the
// same way whether they come from a query string, a form field or a
// `sluice ingest --flag`: ApplyOption validates a value and stores it in
// IngestOptions, so a bad option is a 400 naming the parameter before any
// byte of the body is read. Also the two names an upload derives from its
// file name: the default table name (DeriveTableName) and the S3 key part
// (SafeObjectName). Pure: no loop, no I/O.
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "config/config.hpp"
#include "csv/dialect.hpp"
#include "csv/encoding.hpp"
#include "csv/type_inference.hpp"
#include "db/table_ddl.hpp"
#include "ingest/ingest_job.hpp"

namespace sluice::ingest {
namespace {

constexpr std::string_view kTypePrefix = "type.";

core::Status Bad(std::string* param, std::string_view name, std::string message) {
  if (param != nullptr) *param = std::string(name);
  return core::Status::Invalid(std::move(message));
}

/// One character, `tab` or `\t` (as csv::ResolveDialect reads it); never CR, LF, NUL.
bool OneChar(std::string_view value) {
  if (value == "tab" || value == "\\t") return true;
  return value.size() == 1 && value[0] != '\r' && value[0] != '\n' && value[0] != '\0';
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

/// The last path component (after '/' or '\').
std::string_view BaseName(std::string_view path) {
  auto slash = path.find_last_of("/\\");
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool EndsWithNoCase(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && Lower(text.substr(text.size() - suffix.size())) == suffix;
}

}  // namespace

bool IsOptionName(std::string_view name) {
  static constexpr std::string_view kNames[] = {"table",  "mode",     "format", "delimiter", "quote",   "header",
                                                 "encoding", "types", "on_error", "filename"};
  if (name.starts_with(kTypePrefix)) return true;
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

core::Status ApplyOption(IngestOptions& options, std::string_view name, std::string_view value, std::string* param) {
  if (name == "table") {
    if (value.empty()) return Bad(param, name, "table must not be empty");
    if (auto status = db::ValidateTableName(value); !status.ok()) {
      return Bad(param, name, fmt::format("table: {}", status.message()));
    }
    options.table = std::string(value);
  } else if (name == "mode") {
    if (value != "create" && value != "replace" && value != "append") {
      return Bad(param, name, fmt::format("mode must be create, replace or append, got '{}'", value));
    }
    options.mode = std::string(value);
  } else if (name == "format") {
    std::string format = Lower(value);
    if (format == "ndjson") format = "jsonl";
    if (format != "csv" && format != "tsv" && format != "jsonl") {
      return Bad(param, name, fmt::format("format must be csv, tsv or jsonl, got '{}'", value));
    }
    options.format = format;
  } else if (name == "delimiter") {
    if (value != "auto" && !OneChar(value)) {
      return Bad(param, name, fmt::format("delimiter must be one character or auto, got '{}'", value));
    }
    options.delimiter = std::string(value);
  } else if (name == "quote") {
    if (!OneChar(value) || value == "tab" || value == "\\t") {
      return Bad(param, name, fmt::format("quote must be one character, got '{}'", value));
    }
    options.quote = std::string(value);
  } else if (name == "header") {
    bool header = true;
    if (!config::ParseBool(value, header)) {
      return Bad(param, name, fmt::format("header must be true or false, got '{}'", value));
    }
    options.header = header;
  } else if (name == "encoding") {
    auto encoding = csv::ParseEncoding(value);
    if (!encoding) return Bad(param, name, fmt::format("encoding must be utf-8, latin-1 or auto, got '{}'", value));
    options.encoding = std::string(csv::EncodingName(*encoding));
  } else if (name == "types") {
    if (value != "infer" && value != "text") {
      return Bad(param, name, fmt::format("types must be infer or text, got '{}'", value));
    }
    options.types = std::string(value);
  } else if (name.starts_with(kTypePrefix)) {
    std::string_view column = name.substr(kTypePrefix.size());
    if (column.empty()) return Bad(param, name, "type.{column}: the column name is missing");
    if (auto type = csv::ParseTypeName(value); !type) return Bad(param, name, type.error().message());
    options.type_overrides.emplace_back(std::string(column), std::string(value));
  } else if (name == "on_error") {
    if (value != "skip" && value != "abort") {
      return Bad(param, name, fmt::format("on_error must be skip or abort, got '{}'", value));
    }
    options.on_error = std::string(value);
  } else if (name == "filename") {
    if (value.empty()) return Bad(param, name, "filename must not be empty");
    options.filename = std::string(value);
  } else {
    return Bad(param, name, fmt::format("unknown parameter '{}'", name));
  }
  return core::Status::Ok();
}

std::string DeriveTableName(std::string_view filename) {
  std::string_view base = BaseName(filename);
  if (EndsWithNoCase(base, ".gz")) base.remove_suffix(3);
  if (auto dot = base.rfind('.'); dot != std::string_view::npos && dot > 0) base = base.substr(0, dot);
  std::string name;
  for (char c : base) {
    char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    bool keep = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '_';
    if (!keep) l = '_';
    if (l == '_' && !name.empty() && name.back() == '_') continue;  // one '_' per run of odd characters
    name.push_back(l);
  }
  while (!name.empty() && name.back() == '_') name.pop_back();
  while (!name.empty() && name.front() == '_') name.erase(name.begin());
  if (name.empty()) name = "upload";
  if (name.size() > 64) name.resize(64);
  // Names sluice keeps for itself (`_sluice_…`, the catalog's `sluice_…`) get a prefix.
  if (!db::ValidateTableName(name).ok()) name = "t_" + name;
  if (name.size() > 64) name.resize(64);
  while (name.size() > 1 && name.back() == '_') name.pop_back();
  return name;
}

std::string SafeObjectName(std::string_view filename) {
  std::string_view base = BaseName(filename);
  std::string name;
  std::size_t i = 0;
  while (i < base.size()) {
    auto c = static_cast<unsigned char>(base[i]);
    if (c < 0x20 || c == 0x7F) {  // control characters
      name.push_back('_');
      ++i;
      continue;
    }
    if (c < 0x80) {
      name.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    // Keep a well-formed UTF-8 sequence whole; a stray byte becomes '_'.
    std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (len > 1 && i + len <= base.size() && csv::IsValidUtf8(base.substr(i, len))) {
      name.append(base.substr(i, len));
      i += len;
    } else {
      name.push_back('_');
      ++i;
    }
  }
  if (name.empty() || name == "." || name == "..") name = "upload";
  if (name.size() > 200) {  // keys are at most 1024 bytes; keep room for the prefix and id
    std::size_t cut = 200;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
    name.resize(cut);
  }
  return name;
}

}  // namespace sluice::ingest
