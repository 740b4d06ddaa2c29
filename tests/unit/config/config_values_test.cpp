// Value syntax of the conf (config_values.cpp): sizes, durations, booleans,
// listen lists, token lists, and the canonical spellings printed back.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace sluice::config {
namespace {

uint64_t Size(std::string_view text) {
  uint64_t out = 12345;
  EXPECT_TRUE(ParseSize(text, out)) << text;
  return out;
}

bool SizeFails(std::string_view text) {
  uint64_t out = 12345;
  const bool ok = ParseSize(text, out);
  EXPECT_EQ(out, 12345u) << "output touched on failure: " << text;
  return !ok;
}

TEST(ParseSize, UnitsAndBytes) {
  EXPECT_EQ(Size("0"), 0u);
  EXPECT_EQ(Size("1024"), 1024u);
  EXPECT_EQ(Size("512K"), 512u * 1024);
  EXPECT_EQ(Size("8M"), 8u * 1024 * 1024);
  EXPECT_EQ(Size("1G"), 1024u * 1024 * 1024);
  EXPECT_EQ(Size("3g"), 3ull << 30);
  EXPECT_EQ(Size("2k"), 2048u);
  EXPECT_EQ(Size("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(Size("17179869183G"), 17179869183ull << 30);
}

TEST(ParseSize, RejectsBadUnitsNegativeEmptyAndOverflow) {
  for (const char* bad : {"", "M", "8X", "8MB", "8 M", " 8M", "8M ", "-1", "-1M", "+5", "1.5M", "0x10", "8T",
                          "18446744073709551616", "17179869184G", "99999999999999999999K", "1e6"}) {
    EXPECT_TRUE(SizeFails(bad)) << bad;
  }
}

Millis Duration(std::string_view text) {
  Millis out{-1};
  EXPECT_TRUE(ParseDuration(text, out)) << text;
  return out;
}

TEST(ParseDuration, Units) {
  EXPECT_EQ(Duration("250ms"), Millis(250));
  EXPECT_EQ(Duration("30s"), Millis(30000));
  EXPECT_EQ(Duration("5m"), Millis(300000));
  EXPECT_EQ(Duration("1h"), Millis(3600000));
  EXPECT_EQ(Duration("7"), Millis(7000));
  EXPECT_EQ(Duration("0"), Millis(0));
  EXPECT_EQ(Duration("0ms"), Millis(0));
  EXPECT_EQ(Duration("9223372036854775807ms"), Millis(INT64_MAX));
}

TEST(ParseDuration, RejectsBadUnitsNegativeEmptyAndOverflow) {
  for (const char* bad : {"", "ms", "s", "5x", "5 s", "-1s", "-5", "1.5s", "5S", "5M", "1d", "1m30s", "5sec",
                          "9223372036854775808ms", "9223372036854776s", "99999999999999999999"}) {
    Millis out{-1};
    EXPECT_FALSE(ParseDuration(bad, out)) << bad;
    EXPECT_EQ(out, Millis(-1)) << bad;
  }
}

TEST(ParseBool, AllSpellings) {
  for (const char* yes : {"true", "yes", "on", "1", "TRUE", "Yes", "On"}) {
    bool out = false;
    EXPECT_TRUE(ParseBool(yes, out)) << yes;
    EXPECT_TRUE(out) << yes;
  }
  for (const char* no : {"false", "no", "off", "0", "False", "NO", "OFF"}) {
    bool out = true;
    EXPECT_TRUE(ParseBool(no, out)) << no;
    EXPECT_FALSE(out) << no;
  }
  for (const char* bad : {"", "2", "y", "n", "truth", "enable", " true"}) {
    bool out = true;
    EXPECT_FALSE(ParseBool(bad, out)) << bad;
    EXPECT_TRUE(out);
  }
}

TEST(ParseListen, OneAndSeveralIncludingIpv6) {
  std::vector<ListenAddress> out;
  std::string error;
  ASSERT_TRUE(ParseListen("127.0.0.1:8080", out, error)) << error;
  EXPECT_EQ(out, (std::vector<ListenAddress>{{"127.0.0.1", 8080}}));
  ASSERT_TRUE(ParseListen("0.0.0.0:80, [::1]:8080 ,[::]:1,localhost:65535", out, error)) << error;
  EXPECT_EQ(out, (std::vector<ListenAddress>{{"0.0.0.0", 80}, {"::1", 8080}, {"::", 1}, {"localhost", 65535}}));
  ASSERT_TRUE(ParseListen("127.0.0.1:0", out, error)) << error;  // 0 = any free port
  EXPECT_EQ(out, (std::vector<ListenAddress>{{"127.0.0.1", 0}}));
  ASSERT_TRUE(ParseListen("[fe80::1:2]:9000", out, error)) << error;
  EXPECT_EQ(out, (std::vector<ListenAddress>{{"fe80::1:2", 9000}}));
}

TEST(ParseListen, Errors) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"", "needs at least one host:port"},
      {"127.0.0.1", "\"127.0.0.1\" is not host:port"},
      {"127.0.0.1:65536", "\"127.0.0.1:65536\": port must be 0..65535"},
      {"127.0.0.1:-1", "\"127.0.0.1:-1\": port must be 0..65535"},
      {"127.0.0.1:", "\"127.0.0.1:\": port must be 0..65535"},
      {"127.0.0.1:80x", "\"127.0.0.1:80x\": port must be 0..65535"},
      {":8080", "\":8080\" has no host (use 0.0.0.0 or [::] for every address)"},
      {"::1:8080", "\"::1:8080\": write IPv6 addresses in brackets, e.g. [::1]:8080"},
      {"[::1]8080", "\"[::1]8080\" is not [ipv6]:port"},
      {"[::1", "\"[::1\" is not [ipv6]:port"},
      {"[127.0.0.1]:80", "\"[127.0.0.1]:80\": host must be a numeric IPv4 or [IPv6] address or localhost"},
      {"example.com:80", "\"example.com:80\": host must be a numeric IPv4 or [IPv6] address or localhost"},
      {"256.1.1.1:80", "\"256.1.1.1:80\": host must be a numeric IPv4 or [IPv6] address or localhost"},
      {"127.0.0.1:80,", "has an empty entry (check the commas)"},
      {"127.0.0.1:80, 127.0.0.1:80", "\"127.0.0.1:80\" is listed twice"},
  };
  for (const Case& c : cases) {
    std::vector<ListenAddress> out{{"keep", 1}};
    std::string error;
    EXPECT_FALSE(ParseListen(c.text, out, error)) << c.text;
    EXPECT_EQ(error, c.error) << c.text;
    EXPECT_EQ(out, (std::vector<ListenAddress>{{"keep", 1}})) << c.text;
  }
}

TEST(ParseTokens, PairsAndEmpty) {
  std::vector<TokenEntry> out{{"read", "old"}};
  std::string error;
  ASSERT_TRUE(ParseTokens("", out, error));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(ParseTokens("read:r1, write : w-2,admin:a:b=c", out, error)) << error;
  EXPECT_EQ(out, (std::vector<TokenEntry>{{"read", "r1"}, {"write", "w-2"}, {"admin", "a:b=c"}}));
}

TEST(ParseTokens, ErrorsNeverShowTheToken) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"read:ok,s3cr3t", "entry 2 is not role:token"},
      {"boss:s3cr3t", "entry 1: role \"boss\" is not read, write or admin"},
      {"Read:s3cr3t", "entry 1: role \"Read\" is not read, write or admin"},
      {"s3cr3t-s3cr3t-s3cr3t-s3cr3t:x", "entry 1: role is not read, write or admin"},
      {"read:", "entry 1: the token is empty"},
      {"read:  ", "entry 1: the token is empty"},
      {"read:s3 cr3t", "entry 1: the token contains whitespace"},
      {"read:a,,write:b", "entry 2 is empty (check the commas)"},
      {"read:s3cr3t,admin:s3cr3t", "entry 2 repeats the token of entry 1"},
  };
  for (const Case& c : cases) {
    std::vector<TokenEntry> out;
    std::string error;
    EXPECT_FALSE(ParseTokens(c.text, out, error)) << c.text;
    EXPECT_EQ(error, c.error) << c.text;
    EXPECT_EQ(error.find("s3cr3t"), std::string::npos) << error;
  }
}

TEST(Format, SizesDurationsAddresses) {
  EXPECT_EQ(FormatSize(0), "0");
  EXPECT_EQ(FormatSize(1000), "1000");
  EXPECT_EQ(FormatSize(16384), "16K");
  EXPECT_EQ(FormatSize(256ull << 20), "256M");
  EXPECT_EQ(FormatSize(5ull << 30), "5G");
  EXPECT_EQ(FormatSize((1ull << 20) + 1024), "1025K");
  EXPECT_EQ(FormatDuration(Millis(0)), "0s");
  EXPECT_EQ(FormatDuration(Millis(250)), "250ms");
  EXPECT_EQ(FormatDuration(Millis(1500)), "1500ms");
  EXPECT_EQ(FormatDuration(Millis(30000)), "30s");
  EXPECT_EQ(FormatDuration(Millis(60000)), "1m");
  EXPECT_EQ(FormatDuration(Millis(90000)), "90s");
  EXPECT_EQ(FormatDuration(Millis(7200000)), "2h");
  EXPECT_EQ(FormatListen({"127.0.0.1", 80}), "127.0.0.1:80");
  EXPECT_EQ(FormatListen({"::1", 8080}), "[::1]:8080");
}

TEST(Format, RoundTripsThroughTheParsers) {
  for (uint64_t bytes : std::vector<uint64_t>{0, 1, 1023, 1024, 5ull << 20, (3ull << 30) + 7, UINT64_MAX}) {
    uint64_t back = 0;
    ASSERT_TRUE(ParseSize(FormatSize(bytes), back)) << bytes;
    EXPECT_EQ(back, bytes);
  }
  for (int64_t ms : std::vector<int64_t>{0, 1, 999, 1000, 61000, 3600000, 86400000}) {
    Millis back{};
    ASSERT_TRUE(ParseDuration(FormatDuration(Millis(ms)), back)) << ms;
    EXPECT_EQ(back, Millis(ms));
  }
}

TEST(IsLoopback, Addresses) {
  EXPECT_TRUE(IsLoopback({"127.0.0.1", 1}));
  EXPECT_TRUE(IsLoopback({"127.9.9.9", 1}));
  EXPECT_TRUE(IsLoopback({"::1", 1}));
  EXPECT_TRUE(IsLoopback({"localhost", 1}));
  EXPECT_TRUE(IsLoopback({"::ffff:127.0.0.1", 1}));
  EXPECT_FALSE(IsLoopback({"0.0.0.0", 1}));
  EXPECT_FALSE(IsLoopback({"::", 1}));
  EXPECT_FALSE(IsLoopback({"10.0.0.1", 1}));
  EXPECT_FALSE(IsLoopback({"::ffff:10.0.0.1", 1}));
}

TEST(EnvName, UpperCasesSectionAndKey) {
  EXPECT_EQ(EnvName("s3", "secret_key"), "SLUICE_S3_SECRET_KEY");
  EXPECT_EQ(EnvName("server", "max_upload_bytes"), "SLUICE_SERVER_MAX_UPLOAD_BYTES");
}

}  // namespace
}  // namespace sluice::config
