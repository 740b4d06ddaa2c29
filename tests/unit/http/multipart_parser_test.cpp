// MultipartParser: curl- and browser-shaped bodies, fed whole, byte by byte
// and split at every position (a boundary or CRLF cut anywhere), with the
// same parts expected; malformed bodies refused with a reason.
#include "http/multipart_parser.hpp"

#include <gtest/gtest.h>

namespace sluice::http {
namespace {

struct Part {
  std::string name;
  std::string filename;  // "-" when absent
  std::string content_type;
  std::string data;
  bool ended = false;
  bool operator==(const Part&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Part& p) {
  return os << "{" << p.name << "," << p.filename << "," << p.content_type << ",[" << p.data << "]," << p.ended << "}";
}

struct Outcome {
  std::vector<Part> parts;
  bool ok = false;
  std::string error;
};

Outcome Parse(const std::string& boundary, const std::vector<std::string_view>& chunks) {
  Outcome outcome;
  MultipartParser parser(boundary, {[&](const PartHeaders& h) {
                                      outcome.parts.push_back(
                                          {h.name, h.filename.value_or("-"), h.content_type, "", false});
                                    },
                                    [&](std::string_view data) { outcome.parts.back().data.append(data); },
                                    [&] { outcome.parts.back().ended = true; }});
  bool ok = true;
  for (auto chunk : chunks) ok = ok && parser.Feed(chunk);
  outcome.ok = ok && parser.Finish();
  outcome.error = parser.error();
  return outcome;
}

/// Every way to cut `body` in two, plus byte-by-byte: all must give `expected`.
void ExpectAllSplits(const std::string& boundary, const std::string& body, const Outcome& expected) {
  auto whole = Parse(boundary, {body});
  ASSERT_EQ(whole.ok, expected.ok) << whole.error;
  ASSERT_EQ(whole.parts, expected.parts);
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    std::string_view view(body);
    auto split = Parse(boundary, {view.substr(0, cut), view.substr(cut)});
    ASSERT_EQ(split.ok, expected.ok) << "cut at " << cut << ": " << split.error;
    ASSERT_EQ(split.parts, expected.parts) << "cut at " << cut;
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < body.size(); ++i) bytes.push_back(std::string_view(body).substr(i, 1));
  auto byte_by_byte = Parse(boundary, bytes);
  ASSERT_EQ(byte_by_byte.ok, expected.ok);
  ASSERT_EQ(byte_by_byte.parts, expected.parts);
}

TEST(MultipartBoundary, FromContentType) {
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=------------------------abc123").value_or(""),
            "------------------------abc123");
  EXPECT_EQ(MultipartBoundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b;c\"").value_or(""), "a b;c");
  EXPECT_FALSE(MultipartBoundary("multipart/form-data"));
  EXPECT_FALSE(MultipartBoundary("text/csv; boundary=x"));
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'x')));
}

TEST(MultipartParser, CurlShapedFileUpload) {
  const std::string body =
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"table\"\r\n\r\n"
      "titanic\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"titanic.csv\"\r\n"
      "Content-Type: text/csv\r\n\r\n"
      "a,b\r\n1,\"x\r\n--XY\"\r\n--Xy\r\n"
      "\r\n--XyZ--\r\n";
  Outcome expected;
  expected.ok = true;
  expected.parts = {{"table", "-", "", "titanic", true},
                    {"file", "titanic.csv", "text/csv", "a,b\r\n1,\"x\r\n--XY\"\r\n--Xy\r\n", true}};
  ExpectAllSplits("XyZ", body, expected);
}

TEST(MultipartParser, PreambleEpilogueAndTransportPadding) {
  const std::string body =
      "this is a preamble\r\n"
      "--b  \r\n"
      "Content-Disposition: form-data; name=f; filename*=UTF-8''na%C3%AFve%20file.csv\r\n\r\n"
      "data\r\n"
      "--b--\r\nepilogue, ignored";
  Outcome expected;
  expected.ok = true;
  expected.parts = {{"f", "na\xc3\xafve file.csv", "", "data", true}};
  ExpectAllSplits("b", body, expected);
}

TEST(MultipartParser, EmptyPartAndBinaryData) {
  std::string binary("\0\r\n\r\n--\0\xff", 9);
  const std::string body = "--b\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n\r\n--b\r\n"
                           "Content-Disposition: form-data; name=\"bin\"; filename=\"x\"\r\n\r\n" +
                           binary + "\r\n--b--";
  Outcome expected;
  expected.ok = true;
  expected.parts = {{"e", "-", "", "", true}, {"bin", "x", "", binary, true}};
  ExpectAllSplits("b", body, expected);
}

TEST(MultipartParser, TruncatedBodyFails) {
  const std::string body = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc\r\n--b";
  auto outcome = Parse("b", {body});
  EXPECT_FALSE(outcome.ok);
  EXPECT_NE(outcome.error.find("closing multipart boundary"), std::string::npos);
  ASSERT_EQ(outcome.parts.size(), 1u);
  EXPECT_EQ(outcome.parts[0].data, "abc");
  auto cut_in_data = Parse("b", {body.substr(0, body.size() - 5)});  // ends inside the file's bytes
  EXPECT_FALSE(cut_in_data.ok);
  ASSERT_EQ(cut_in_data.parts.size(), 1u);
  EXPECT_FALSE(cut_in_data.parts[0].ended);
}

TEST(MultipartParser, RefusesMalformedBodies) {
  EXPECT_NE(Parse("b", {"no boundary at all"}).error.find("no multipart boundary"), std::string::npos);
  EXPECT_NE(Parse("b", {"--b\r\nX-Other: 1\r\n\r\nx\r\n--b--"}).error.find("form-data"), std::string::npos);
  EXPECT_NE(Parse("b", {"--b\r\nno colon here\r\n\r\nx\r\n--b--"}).error.find("no ':'"), std::string::npos);
  EXPECT_NE(Parse("b", {"--b--"}).error.find("no parts"), std::string::npos);
  EXPECT_NE(Parse("b", {"--bjunk\r\n"}).error.find("garbage"), std::string::npos);
  std::string huge = "--b\r\nContent-Disposition: form-data; name=\"x\"\r\nX-Pad: " + std::string(17000, 'a');
  EXPECT_NE(Parse("b", {huge}).error.find("16 KiB"), std::string::npos);
}

TEST(MultipartParser, LargePartStreamsWithoutBuffering) {
  size_t delivered_max = 0;
  size_t total = 0;
  MultipartParser parser("b", {[](const PartHeaders&) {},
                               [&](std::string_view data) {
                                 total += data.size();
                                 delivered_max = std::max(delivered_max, data.size());
                               },
                               [] {}});
  ASSERT_TRUE(parser.Feed("--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"big\"\r\n\r\n"));
  std::string chunk(65536, 'z');
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(parser.Feed(chunk));
  ASSERT_TRUE(parser.Feed("\r\n--b--\r\n"));
  EXPECT_TRUE(parser.Finish());
  EXPECT_EQ(total, 100u * 65536u);
  EXPECT_LE(delivered_max, 65536u + 8);  // never more than a chunk and a boundary at once
}

// The outcome must not depend on how the body is cut at the limits either:
// whitespace after a boundary is fine up to 256 bytes and garbage past that,
// whole or byte by byte; a part's header block of exactly 16 KiB is fine even
// when its closing CRLFCRLF arrives a byte at a time.
TEST(MultipartParser, LimitsDoNotDependOnHowTheBodyIsCut) {
  const std::string part_head = "Content-Disposition: form-data; name=\"f\"; filename=\"a.csv\"";
  auto body_with = [&](const std::string& after_boundary, const std::string& headers) {
    return "--b" + after_boundary + "\r\n" + headers + "\r\n\r\nx\r\n--b--\r\n";
  };
  Outcome ok;
  ok.ok = true;
  ok.parts = {{"f", "a.csv", "", "x", true}};
  ExpectAllSplits("b", body_with(std::string(256, ' '), part_head), ok);
  Outcome refused;
  refused.ok = false;
  ExpectAllSplits("b", body_with(std::string(257, ' '), part_head), refused);

  const std::string padded = part_head + "\r\nX-Pad: " + std::string(16384 - part_head.size() - 9, 'p');
  ASSERT_EQ(padded.size(), 16384u);
  // Whole, byte by byte, and cut around the end of the header block (every
  // cut of a 16 KiB body would take long under the sanitizers).
  for (const auto& [body, expected] : {std::pair{body_with("", padded), ok}, std::pair{body_with("", padded + "q"), refused}}) {
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < body.size(); ++i) bytes.push_back(std::string_view(body).substr(i, 1));
    EXPECT_EQ(Parse("b", {body}).ok, expected.ok);
    EXPECT_EQ(Parse("b", bytes).ok, expected.ok) << Parse("b", bytes).error;
    const size_t end = body.find("\r\n\r\n", 8);
    for (size_t cut = end - 2; cut <= end + 5; ++cut) {
      auto split = Parse("b", {std::string_view(body).substr(0, cut), std::string_view(body).substr(cut)});
      EXPECT_EQ(split.ok, expected.ok) << "cut at " << cut << ": " << split.error;
    }
  }
}

}  // namespace
}  // namespace sluice::http
