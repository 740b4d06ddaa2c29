// AssetStore: content types, the gzip copy, ETags and the 200/304/404 decision
// with its headers (the strict CSP above all), from files made up here.
#include "console/asset_store.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "zlib/gzip_stream.hpp"

namespace sluice::console {
namespace {

std::string Header(const AssetReply& reply, std::string_view name) {
  for (const auto& [n, v] : reply.headers) {
    if (http::EqualsIgnoreCase(n, name)) return v;
  }
  return "";
}

std::string Gunzip(std::string_view gz) {
  std::string out;
  glue::GzipInflater inflater;
  EXPECT_TRUE(inflater.Feed(gz, [&out](std::string_view piece) { out.append(piece); }));
  EXPECT_TRUE(inflater.Finish());
  return out;
}

class AssetStoreTest : public ::testing::Test {
 protected:
  std::string page_ = "<!doctype html><title>x</title>" + std::string(2000, 'a');
  std::string script_ = "export const x = 1;\n";
  std::string tiny_ = "x";
  std::vector<EmbeddedFile> files_{{"index.html", page_}, {"app.js", script_}, {"dot.svg", tiny_}};
  AssetStore store_{files_};
};

TEST_F(AssetStoreTest, ContentTypesByExtension) {
  EXPECT_EQ(AssetStore::ContentTypeFor("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(AssetStore::ContentTypeFor("console.css"), "text/css; charset=utf-8");
  EXPECT_EQ(AssetStore::ContentTypeFor("app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(AssetStore::ContentTypeFor("favicon.svg"), "image/svg+xml");
  EXPECT_EQ(AssetStore::ContentTypeFor("shot.png"), "image/png");
  EXPECT_EQ(AssetStore::ContentTypeFor("README"), "application/octet-stream");
  EXPECT_EQ(store_.Find("app.js")->content_type, "text/javascript; charset=utf-8");
}

TEST_F(AssetStoreTest, GzipCopyOnlyWhenSmallerAndDecodesToTheFile) {
  const Asset* page = store_.Find("index.html");
  ASSERT_NE(page, nullptr);
  ASSERT_FALSE(page->gzip.empty());
  EXPECT_LT(page->gzip.size(), page->bytes.size());
  EXPECT_EQ(Gunzip(page->gzip), page_);
  EXPECT_TRUE(store_.Find("dot.svg")->gzip.empty());  // one byte: gzip would be bigger
}

TEST_F(AssetStoreTest, EtagsFollowTheBytesAndDifferPerRepresentation) {
  const Asset* page = store_.Find("index.html");
  const Asset* script = store_.Find("app.js");
  EXPECT_EQ(page->etag.front(), '"');
  EXPECT_EQ(page->etag.back(), '"');
  EXPECT_EQ(page->etag.size(), 22u);
  EXPECT_NE(page->etag, script->etag);
  EXPECT_NE(page->etag, page->gzip_etag);
  std::string same_bytes = page_;
  std::vector<EmbeddedFile> again{{"other.html", same_bytes}};
  EXPECT_EQ(AssetStore(again).Find("other.html")->etag, page->etag);  // content, not name
}

TEST_F(AssetStoreTest, ServesIdentityWithTheStrictPolicy) {
  auto reply = store_.Serve("index.html", std::nullopt, false);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, page_);
  EXPECT_EQ(reply.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(Header(reply, "ETag"), store_.Find("index.html")->etag);
  EXPECT_EQ(Header(reply, "Content-Encoding"), "");
  EXPECT_EQ(Header(reply, "Vary"), "Accept-Encoding");
  EXPECT_EQ(Header(reply, "Cache-Control"), "no-cache");
  EXPECT_EQ(Header(reply, "X-Content-Type-Options"), "nosniff");
  std::string csp = Header(reply, "Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;  // no unsafe-inline, no unsafe-eval
}

TEST_F(AssetStoreTest, ServesGzipWhenAccepted) {
  auto reply = store_.Serve("index.html", std::nullopt, true);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(Header(reply, "Content-Encoding"), "gzip");
  EXPECT_EQ(Header(reply, "ETag"), store_.Find("index.html")->gzip_etag);
  EXPECT_EQ(Gunzip(reply.body), page_);
  // A file with no gzip copy goes out as it is.
  auto tiny = store_.Serve("dot.svg", std::nullopt, true);
  EXPECT_EQ(Header(tiny, "Content-Encoding"), "");
  EXPECT_EQ(tiny.body, "x");
}

TEST_F(AssetStoreTest, NotModifiedOnAMatchingTag) {
  const Asset* page = store_.Find("index.html");
  for (const std::string& inm : {page->etag, page->gzip_etag, "W/" + page->etag, "\"nope\", " + page->etag,
                                 std::string("*")}) {
    auto reply = store_.Serve("index.html", inm, true);
    EXPECT_EQ(reply.status, 304) << inm;
    EXPECT_TRUE(reply.body.empty()) << inm;
    EXPECT_FALSE(Header(reply, "ETag").empty()) << inm;
    EXPECT_FALSE(Header(reply, "Content-Security-Policy").empty()) << inm;
  }
  // The 304 names the tag the client holds.
  EXPECT_EQ(Header(store_.Serve("index.html", page->etag, true), "ETag"), page->etag);
  EXPECT_EQ(Header(store_.Serve("index.html", page->gzip_etag, false), "ETag"), page->gzip_etag);
}

TEST_F(AssetStoreTest, FullAnswerOnAnotherTag) {
  for (const std::string& inm : {std::string("\"nope\""), std::string(), store_.Find("app.js")->etag}) {
    auto reply = store_.Serve("index.html", inm, false);
    EXPECT_EQ(reply.status, 200) << inm;
    EXPECT_EQ(reply.body, page_);
  }
}

TEST_F(AssetStoreTest, UnknownNameIs404) {
  EXPECT_EQ(store_.Serve("nope.js", std::nullopt, true).status, 404);
  EXPECT_EQ(store_.Serve("", std::nullopt, true).status, 404);
  EXPECT_EQ(store_.Serve("../index.html", std::nullopt, true).status, 404);
}

TEST(IfNoneMatch, ListsAndWeakTags) {
  EXPECT_TRUE(AssetStore::IfNoneMatchHits("\"a\"", "\"a\""));
  EXPECT_TRUE(AssetStore::IfNoneMatchHits(" \"b\" ,W/\"a\"", "\"a\""));
  EXPECT_TRUE(AssetStore::IfNoneMatchHits("*", "\"a\""));
  EXPECT_FALSE(AssetStore::IfNoneMatchHits("\"ab\"", "\"a\""));
  EXPECT_FALSE(AssetStore::IfNoneMatchHits("a", "\"a\""));
  EXPECT_FALSE(AssetStore::IfNoneMatchHits("", "\"a\""));
}

}  // namespace
}  // namespace sluice::console
