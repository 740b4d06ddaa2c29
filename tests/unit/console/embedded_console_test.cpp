// The console as embedded in this build: the page is there, every file it
// (or a script) names is embedded too, and nothing in it needs what the CSP
// forbids — no inline script, no inline style, no other origin.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

#include "console/asset_store.hpp"
#include "console/embedded_files.hpp"

namespace sluice::console {
namespace {

std::set<std::string> EmbeddedNames() {
  std::set<std::string> names;
  for (const auto& file : EmbeddedFiles()) names.emplace(file.name);
  return names;
}

std::string_view Bytes(std::string_view name) {
  for (const auto& file : EmbeddedFiles()) {
    if (file.name == name) return file.bytes;
  }
  return {};
}

TEST(EmbeddedConsole, HasThePageItsStyleAndScripts) {
  auto names = EmbeddedNames();
  for (const char* name : {"index.html", "console.css", "app.js", "api.js", "upload.js", "uploads.js",
                           "table_browser.js", "favicon.svg"}) {
    EXPECT_TRUE(names.count(name)) << name << " is not embedded";
  }
  EXPECT_NE(Bytes("index.html").find("<!doctype html>"), std::string_view::npos);
}

TEST(EmbeddedConsole, EveryReferencedFileIsEmbedded) {
  auto names = EmbeddedNames();
  std::regex page_ref(R"re((?:src|href)="/assets/([^"]+)")re");
  std::string page(Bytes("index.html"));
  int refs = 0;
  for (std::sregex_iterator it(page.begin(), page.end(), page_ref), end; it != end; ++it, ++refs) {
    EXPECT_TRUE(names.count((*it)[1])) << "index.html names /assets/" << (*it)[1];
  }
  EXPECT_GE(refs, 3);
  std::regex import_ref(R"re(from '\./([^']+)')re");
  for (const auto& file : EmbeddedFiles()) {
    if (!file.name.ends_with(".js")) continue;
    std::string text(file.bytes);
    for (std::sregex_iterator it(text.begin(), text.end(), import_ref), end; it != end; ++it) {
      EXPECT_TRUE(names.count((*it)[1])) << file.name << " imports ./" << (*it)[1];
    }
  }
}

TEST(EmbeddedConsole, NothingTheSecurityPolicyForbids) {
  std::string page(Bytes("index.html"));
  // Every <script> has a src and no body; no <style> element, no style="".
  std::regex script_tag(R"re(<script([^>]*)>([^<]*)</script>)re");
  for (std::sregex_iterator it(page.begin(), page.end(), script_tag), end; it != end; ++it) {
    EXPECT_NE((*it)[1].str().find("src=\"/assets/"), std::string::npos) << (*it)[0];
    EXPECT_EQ((*it)[2].str(), "") << "inline script: " << (*it)[0];
  }
  for (const auto& file : EmbeddedFiles()) {
    std::string text(file.bytes);
    EXPECT_EQ(text.find("<style"), std::string::npos) << file.name;
    EXPECT_EQ(text.find(" style=\""), std::string::npos) << file.name;
    EXPECT_EQ(text.find("onclick=\""), std::string::npos) << file.name;
    EXPECT_EQ(text.find("innerHTML"), std::string::npos) << file.name;  // text nodes only (dom.js)
    EXPECT_EQ(text.find("eval("), std::string::npos) << file.name;
    EXPECT_EQ(text.find("https://"), std::string::npos) << file.name << " reaches another origin";
  }
}

TEST(EmbeddedConsole, StoreServesEveryFileCompressed) {
  AssetStore store(EmbeddedFiles());
  for (const auto& asset : store.assets()) {
    EXPECT_NE(asset.content_type, "application/octet-stream") << asset.name;
    if (asset.bytes.size() > 1000) {
      EXPECT_FALSE(asset.gzip.empty()) << asset.name;
    }
  }
}

}  // namespace
}  // namespace sluice::console
