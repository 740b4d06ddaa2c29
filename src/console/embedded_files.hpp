// The web console's files as embedded in the binary: name (relative to
// src/console/assets/) and bytes. The definition is generated at build time
// by src/console/embed_assets.cmake.
#pragma once

#include <span>
#include <string_view>

namespace sluice::console {

struct EmbeddedFile {
  std::string_view name;   ///< "index.html", "app.js"
  std::string_view bytes;  ///< the file's contents, static storage
};

/// Every file of src/console/assets/ at build time, sorted by name.
std::span<const EmbeddedFile> EmbeddedFiles();

}  // namespace sluice::console
