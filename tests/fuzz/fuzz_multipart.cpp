// Fuzz target: http::MultipartParser (and MultipartBoundary). The body is fed
// once whole and once in pieces whose sizes come from the input; both runs
// must agree — same parts (headers, bytes), same success or failure — so a
// multipart upload's outcome never depends on how TCP cut the body.
//
// Input: byte 0 picks the boundary (one of a few real-world spellings), bytes
// 1–4 seed the piece sizes, the rest is the body. The body's first line is
// also given to MultipartBoundary as a Content-Type.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_support.hpp"
#include "http/multipart_parser.hpp"

namespace {

using sluice::http::MultipartParser;
using sluice::http::PartHeaders;

struct Part {
  std::string name;
  std::optional<std::string> filename;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string data;
  bool ended = false;
  bool operator==(const Part&) const = default;
};

struct Run {
  std::vector<Part> parts;
  bool ok = false;
  bool done = false;
};

Run Parse(const std::string& boundary, std::string_view body, const std::vector<std::size_t>& pieces) {
  Run run;
  MultipartParser::Callbacks cb;
  cb.on_part_begin = [&](const PartHeaders& h) {
    FUZZ_CHECK(run.parts.empty() || run.parts.back().ended, "part begins before the last one ended");
    run.parts.push_back(Part{h.name, h.filename, h.content_type, h.headers, {}, false});
  };
  cb.on_part_data = [&](std::string_view d) {
    FUZZ_CHECK(!run.parts.empty() && !run.parts.back().ended, "data outside a part");
    FUZZ_CHECK(!d.empty(), "empty data callback");
    run.parts.back().data.append(d);
  };
  cb.on_part_end = [&] {
    FUZZ_CHECK(!run.parts.empty() && !run.parts.back().ended, "end outside a part");
    run.parts.back().ended = true;
  };
  MultipartParser parser(boundary, cb);
  bool ok = true;
  std::size_t pos = 0;
  for (std::size_t n : pieces) {
    ok = parser.Feed(body.substr(pos, n));
    pos += n;
    if (!ok) break;
  }
  if (ok) ok = parser.Finish();
  FUZZ_CHECK(ok || !parser.error().empty(), "failure without a message");
  run.ok = ok;
  run.done = parser.done();
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sluice::fuzz::ByteReader in(data, size);
  static const char* const kBoundaries[] = {"b", "XyZ", "----WebKitFormBoundary7MA4YWxkTrZu0gW",
                                            "------------------------d74496d66958873e", "a'b(c)+_,-./:=?"};
  const std::string boundary = kBoundaries[in.Byte() % 5];
  const std::uint32_t seed = in.U32();
  const std::string_view body = in.Rest();

  const std::string_view first_line = body.substr(0, body.find('\n'));
  if (auto b = sluice::http::MultipartBoundary(first_line)) {
    FUZZ_CHECK(!b->empty() && b->size() <= 70, "boundary length %zu", b->size());
  }

  const Run whole = Parse(boundary, body, {body.size()});
  const Run pieces = Parse(boundary, body, sluice::fuzz::Pieces(seed, body.size()));
  FUZZ_CHECK(whole.ok == pieces.ok, "whole body %s, in pieces %s", whole.ok ? "accepted" : "refused",
             pieces.ok ? "accepted" : "refused");
  if (whole.ok) {
    FUZZ_CHECK(whole.parts == pieces.parts, "parts differ when the body comes in pieces");
    FUZZ_CHECK(whole.done && !whole.parts.empty(), "accepted without parts");
    for (const Part& p : whole.parts) FUZZ_CHECK(p.ended, "accepted with an unended part");
  }
  return 0;
}
