// core::AppendJsonString against a plain byte-by-byte reference escaper
// written here from RFC 8259 (§7) — every byte value at every position
// around the eight-byte words the fast path checks, random strings, and
// golden cases (control characters, DEL, quotes, backslash, UTF-8) — plus
// the JsonWriter that builds on it.
#include "core/json_writer.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>

namespace sluice::core {
namespace {

/// The reference: one byte at a time, no tricks.
std::string Reference(std::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\b') {
      out += "\\b";
    } else if (c == '\f') {
      out += "\\f";
    } else if (c < 0x20 || c == 0x7f) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
      out += buffer;
    } else {
      out.push_back(ch);
    }
  }
  out += "\"";
  return out;
}

std::string Escaped(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

TEST(AppendJsonString, GoldenCases) {
  EXPECT_EQ(Escaped(""), "\"\"");
  EXPECT_EQ(Escaped("plain text, long enough for two words"), "\"plain text, long enough for two words\"");
  EXPECT_EQ(Escaped("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(Escaped("C:\\dir\\file"), "\"C:\\\\dir\\\\file\"");
  EXPECT_EQ(Escaped("a\nb\rc\td\be\ff"), "\"a\\nb\\rc\\td\\be\\ff\"");
  EXPECT_EQ(Escaped(std::string("\x00\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(Escaped("0123456789abcde\x7f"), "\"0123456789abcde\\u007f\"");  // DEL as the last byte of a word
  EXPECT_EQ(Escaped("\x7f" "0123456789abcdef"), "\"\\u007f0123456789abcdef\"");
  EXPECT_EQ(Escaped(" /~\x80\xff"), "\" /~\x80\xff\"");      // space, slash, tilde and high bytes pass
  EXPECT_EQ(Escaped("Zoë — 日本語 🙂"), "\"Zoë — 日本語 🙂\"");  // UTF-8 passes through
}

TEST(AppendJsonString, AppendsToWhatIsThere) {
  std::string out = "[";
  AppendJsonString(out, "a\"");
  out += ",";
  AppendJsonString(out, "b");
  out += "]";
  EXPECT_EQ(out, "[\"a\\\"\",\"b\"]");
}

TEST(AppendJsonString, EveryByteAtEveryPositionAroundTheWords) {
  for (int byte = 0; byte < 256; ++byte) {
    for (std::size_t length = 1; length <= 25; ++length) {
      for (std::size_t at = 0; at < length; ++at) {
        std::string text(length, 'x');
        text[at] = static_cast<char>(byte);
        ASSERT_EQ(Escaped(text), Reference(text)) << "byte " << byte << " at " << at << " of " << length;
      }
    }
  }
}

TEST(AppendJsonString, BytesNextToTheBoundsOfTheWordChecks) {
  // The word check finds "a byte below 0x20" and "a byte equal to '"', '\', DEL";
  // the values right next to those bounds must pass through unescaped.
  for (int byte : {0x1f, 0x20, 0x21, 0x23, 0x5b, 0x5c, 0x5d, 0x7e, 0x7f, 0x80, 0xa0, 0xa2, 0xdc, 0xff}) {
    std::string text(16, static_cast<char>(byte));
    ASSERT_EQ(Escaped(text), Reference(text)) << byte;
  }
}

TEST(AppendJsonString, RandomStringsMatchTheReference) {
  std::mt19937 random(7);
  for (int round = 0; round < 5000; ++round) {
    std::string text;
    std::size_t length = random() % 70;
    for (std::size_t i = 0; i < length; ++i) {
      // Runs of plain text with bytes of any value among them.
      text.push_back(random() % 4 == 0 ? static_cast<char>(random() % 256) : static_cast<char>('a' + random() % 26));
    }
    ASSERT_EQ(Escaped(text), Reference(text)) << round;
  }
}

TEST(JsonWriter, ObjectsArraysAndEscapedKeys) {
  JsonWriter writer;
  writer.BeginObject().Key("a\"b").String("x\ny").Key("n").Int(-3).Key("list").BeginArray().Uint(1).Bool(true).Null();
  writer.EndArray().Key("raw").Raw("{}").EndObject();
  EXPECT_EQ(writer.str(), "{\"a\\\"b\":\"x\\ny\",\"n\":-3,\"list\":[1,true,null],\"raw\":{}}");
}

}  // namespace
}  // namespace sluice::core
