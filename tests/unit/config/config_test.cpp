// The conf loader (config.cpp, config_table.cpp): defaults, every key, INI
// syntax and comments, every error path with its exact line, environment
// overrides, cross-key checks, Describe() masking, and conf/sluice.conf.
#include "config/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/config_table.hpp"

namespace sluice::config {
namespace {

const char* const kNoEnv[] = {nullptr};

LoadResult Load(const std::string& text, const char* const* env = kNoEnv) {
  return LoadString(text, "sluice.conf", env);
}

std::vector<std::string> Errors(const LoadResult& result) {
  std::vector<std::string> lines;
  for (const ConfigError& error : result.errors) lines.push_back(error.ToString());
  return lines;
}

using Lines = std::vector<std::string>;

TEST(ConfigLoad, EmptyTextGivesDefaults) {
  const LoadResult r = Load("");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  const Config& c = r.config;
  EXPECT_EQ(c.path, "sluice.conf");
  EXPECT_EQ(c.server.listen, (std::vector<ListenAddress>{{"127.0.0.1", 8080}}));
  EXPECT_EQ(c.server.workers, 0);
  EXPECT_EQ(c.server.memory_budget, 256ull << 20);
  EXPECT_EQ(c.server.max_upload_bytes, 0u);
  EXPECT_EQ(c.server.max_concurrent_uploads, 16);
  EXPECT_EQ(c.server.max_page_rows, 10000);
  EXPECT_EQ(c.server.max_field_bytes, 16u << 20);
  EXPECT_EQ(c.server.max_body_bytes, 1ull << 20);
  EXPECT_EQ(c.server.max_header_bytes, 16384u);
  EXPECT_EQ(c.server.max_headers, 100u);
  EXPECT_EQ(c.server.max_url_bytes, 8192u);
  EXPECT_EQ(c.server.max_connections, 1024);
  EXPECT_EQ(c.server.header_timeout, Millis(10000));
  EXPECT_EQ(c.server.idle_timeout, Millis(60000));
  EXPECT_EQ(c.server.shutdown_grace, Millis(30000));
  EXPECT_FALSE(c.server.test_routes);
  EXPECT_EQ(c.mariadb.host, "127.0.0.1");
  EXPECT_EQ(c.mariadb.port, 3306);
  EXPECT_EQ(c.mariadb.user, "sluice");
  EXPECT_EQ(c.mariadb.database, "sluice");
  EXPECT_EQ(c.mariadb.pool_size, 4);
  EXPECT_EQ(c.mariadb.connect_timeout, Millis(5000));
  EXPECT_EQ(c.mariadb.max_statement_time, Millis(30000));
  EXPECT_EQ(c.s3.region, "us-east-1");
  EXPECT_EQ(c.s3.bucket, "sluice");
  EXPECT_EQ(c.s3.part_size, 8ull << 20);
  EXPECT_EQ(c.s3.max_parts_in_flight, 4);
  EXPECT_EQ(c.s3.retries, 4);
  EXPECT_FALSE(c.s3.path_style);
  EXPECT_TRUE(c.auth.tokens.empty());
  EXPECT_EQ(c.log.level, log::Level::kInfo);
  EXPECT_EQ(c.log.format, log::Format::kText);
}

TEST(ConfigLoad, EveryKeyParsed) {
  const LoadResult r = Load(R"([server]
listen = 0.0.0.0:9000,[::1]:9001
workers = 3
memory_budget = 1G
max_upload_bytes = 10G
max_concurrent_uploads = 2
max_page_rows = 500
max_field_bytes = 2K
max_body_bytes = 64K
max_header_bytes = 32K
max_headers = 50
max_url_bytes = 4096
max_connections = 77
header_timeout = 250ms
idle_timeout = 2m
shutdown_grace = 0
test_routes = yes
[mariadb]
host =
port = 3307
socket = /run/mysqld/mysqld.sock
user = loader
password = pw
database = sluice_test
pool_size = 256
connect_timeout = 3
max_statement_time = 1500ms
[s3]
endpoint = http://127.0.0.1:4568
region = eu-west-3
bucket = my.bucket-1
prefix = up/
access_key = AK
secret_key = SK
session_token = ST
path_style = on
part_size = 5M
max_parts_in_flight = 8
retries = 0
[auth]
tokens = read:r,admin:a
jwt_secret = js
[log]
level = debug
format = json
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  const Config& c = r.config;
  EXPECT_EQ(c.server.listen, (std::vector<ListenAddress>{{"0.0.0.0", 9000}, {"::1", 9001}}));
  EXPECT_EQ(c.server.workers, 3);
  EXPECT_EQ(c.server.memory_budget, 1ull << 30);
  EXPECT_EQ(c.server.max_upload_bytes, 10ull << 30);
  EXPECT_EQ(c.server.max_concurrent_uploads, 2);
  EXPECT_EQ(c.server.max_page_rows, 500);
  EXPECT_EQ(c.server.max_field_bytes, 2048u);
  EXPECT_EQ(c.server.max_body_bytes, 64u * 1024);
  EXPECT_EQ(c.server.max_header_bytes, 32u * 1024);
  EXPECT_EQ(c.server.max_headers, 50u);
  EXPECT_EQ(c.server.max_url_bytes, 4096u);
  EXPECT_EQ(c.server.max_connections, 77);
  EXPECT_EQ(c.server.header_timeout, Millis(250));
  EXPECT_EQ(c.server.idle_timeout, Millis(120000));
  EXPECT_EQ(c.server.shutdown_grace, Millis(0));
  EXPECT_TRUE(c.server.test_routes);
  EXPECT_EQ(c.mariadb.host, "");
  EXPECT_EQ(c.mariadb.port, 3307);
  EXPECT_EQ(c.mariadb.socket, "/run/mysqld/mysqld.sock");
  EXPECT_EQ(c.mariadb.user, "loader");
  EXPECT_EQ(c.mariadb.password, "pw");
  EXPECT_EQ(c.mariadb.database, "sluice_test");
  EXPECT_EQ(c.mariadb.pool_size, 256);
  EXPECT_EQ(c.mariadb.connect_timeout, Millis(3000));
  EXPECT_EQ(c.mariadb.max_statement_time, Millis(1500));
  EXPECT_EQ(c.s3.endpoint, "http://127.0.0.1:4568");
  EXPECT_EQ(c.s3.region, "eu-west-3");
  EXPECT_EQ(c.s3.bucket, "my.bucket-1");
  EXPECT_EQ(c.s3.prefix, "up/");
  EXPECT_EQ(c.s3.access_key, "AK");
  EXPECT_EQ(c.s3.secret_key, "SK");
  EXPECT_EQ(c.s3.session_token, "ST");
  EXPECT_TRUE(c.s3.path_style);
  EXPECT_EQ(c.s3.part_size, 5ull << 20);
  EXPECT_EQ(c.s3.max_parts_in_flight, 8);
  EXPECT_EQ(c.s3.retries, 0);
  EXPECT_EQ(c.auth.tokens, (std::vector<TokenEntry>{{"read", "r"}, {"admin", "a"}}));
  EXPECT_EQ(c.auth.jwt_secret, "js");
  EXPECT_EQ(c.log.level, log::Level::kDebug);
  EXPECT_EQ(c.log.format, log::Format::kJson);
}

TEST(ConfigTable, DefaultTextsMatchTheStructDefaults) {
  const Config defaults;
  for (const Option& option : OptionTable()) {
    Config c;
    std::string error;
    ASSERT_TRUE(option.set(c, option.default_text, error)) << option.key << ": " << error;
    EXPECT_EQ(option.get(c), option.get(defaults)) << option.section << "." << option.key;
    EXPECT_FALSE(option.help.empty()) << option.key;
  }
}

TEST(ConfigTable, KeysSectionsAndSecrets) {
  std::set<std::string> keys;
  std::set<std::string> secrets;
  for (const OptionInfo& info : Options()) {
    EXPECT_TRUE(keys.insert(std::string(info.section) + "." + std::string(info.key)).second) << info.key;
    if (info.secret) secrets.insert(std::string(info.section) + "." + std::string(info.key));
  }
  EXPECT_EQ(keys.size(), 44u);
  EXPECT_EQ(secrets, (std::set<std::string>{"mariadb.password", "s3.access_key", "s3.secret_key", "s3.session_token",
                                            "auth.tokens", "auth.jwt_secret"}));
  EXPECT_TRUE(IsKnownSection("s3"));
  EXPECT_FALSE(IsKnownSection("S3"));
  EXPECT_EQ(FindOption("s3", "nope"), nullptr);
}

TEST(ConfigLoad, CommentsInlineCommentsAndLayout) {
  const LoadResult r = Load(
      "\xEF\xBB\xBF; a comment\r\n"
      "# another\n"
      "\n"
      "[server]   ; section comment\n"
      "  workers = 2   ; inline\n"
      "memory_budget = 8M\t# hash inline\n"
      "\tmax_headers=7\r\n"
      "[mariadb]\n"
      "password =\n"
      "user = a;b\n"
      "[s3]\n"
      "prefix = \"with space/\"\n"
      "session_token = x#y\n"
      "[server]\n"
      "max_connections = 5");  // no final newline
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(r.config.server.workers, 2);
  EXPECT_EQ(r.config.server.memory_budget, 8ull << 20);
  EXPECT_EQ(r.config.server.max_headers, 7u);
  EXPECT_EQ(r.config.mariadb.password, "");
  EXPECT_EQ(r.config.mariadb.user, "a;b");  // a comment needs whitespace before it
  EXPECT_EQ(r.config.s3.prefix, "with space/");
  EXPECT_EQ(r.config.s3.session_token, "x#y");
  EXPECT_EQ(r.config.server.max_connections, 5);
}

TEST(ConfigErrors, UnknownSectionReportedOnceAtItsLine) {
  const LoadResult r = Load("[server]\nworkers = 1\n[sever]\nworkers = 2\nbogus = 3\n[empty]\n[log]\nlevel = warn\n");
  EXPECT_EQ(Errors(r), (Lines{"sluice.conf:3: [sever]: unknown section", "sluice.conf:6: [empty]: unknown section"}));
  EXPECT_EQ(r.config.server.workers, 1);
  EXPECT_EQ(r.config.log.level, log::Level::kWarn);
}

TEST(ConfigErrors, UnknownKey) {
  const LoadResult r = Load("\n[server]\n\npart_size = 8M\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, "sluice.conf");
  EXPECT_EQ(r.errors[0].line, 4);
  EXPECT_EQ(r.errors[0].message, "[server] part_size: unknown key");
  EXPECT_EQ(r.errors[0].ToString(), "sluice.conf:4: [server] part_size: unknown key");
}

TEST(ConfigErrors, BadValuesKeepTheDefault) {
  const LoadResult r = Load(
      "[server]\nworkers = many\nmemory_budget = 8X\nheader_timeout = 5 s\ntest_routes = maybe\n"
      "listen = 127.0.0.1:99999\n[log]\nlevel = loud\nformat = xml\n[auth]\ntokens = god:x\n");
  EXPECT_EQ(Errors(r), (Lines{
      "sluice.conf:2: [server] workers: \"many\" is not an integer",
      "sluice.conf:3: [server] memory_budget: \"8X\" is not a size (bytes, or a number with K, M or G)",
      "sluice.conf:4: [server] header_timeout: \"5 s\" is not a duration (e.g. 250ms, 30s, 5m, 1h)",
      "sluice.conf:5: [server] test_routes: \"maybe\" is not a boolean (true/false, yes/no, on/off, 1/0)",
      "sluice.conf:6: [server] listen: \"127.0.0.1:99999\": port must be 0..65535",
      "sluice.conf:8: [log] level: \"loud\" is not a level (debug, info, warn, error)",
      "sluice.conf:9: [log] format: \"xml\" is not a format (text, json)",
      "sluice.conf:11: [auth] tokens: entry 1: role \"god\" is not read, write or admin",
  }));
  EXPECT_EQ(r.config.server.workers, 0);
  EXPECT_EQ(r.config.server.memory_budget, 256ull << 20);
  EXPECT_EQ(r.config.server.listen, (std::vector<ListenAddress>{{"127.0.0.1", 8080}}));
}

TEST(ConfigErrors, MaxPartsInFlightRange) {
  EXPECT_EQ(Errors(Load("[s3]\nmax_parts_in_flight = 0\n")),
            (Lines{"sluice.conf:2: [s3] max_parts_in_flight: \"0\" is below the minimum 1"}));
  EXPECT_EQ(Errors(Load("[s3]\nmax_parts_in_flight = 65\n")),
            (Lines{"sluice.conf:2: [s3] max_parts_in_flight: \"65\" is above the maximum 64"}));
  EXPECT_EQ(Load("[s3]\nmax_parts_in_flight = 64\n").config.s3.max_parts_in_flight, 64);
}

TEST(ConfigErrors, RangesAndStringRules) {
  const LoadResult r = Load(
      "[s3]\n"
      "\n"
      "\n"
      "\n"
      "\n"
      "\n"
      "part_size = 3M\n"
      "retries = 21\n"
      "bucket = My_Bucket\n"
      "endpoint = 127.0.0.1:4568\n"
      "prefix = /abs\n"
      "region =\n"
      "[mariadb]\npool_size = 0\nport = 65536\nconnect_timeout = 500ms\ndatabase = a-b\nuser =\nsocket = rel.sock\n"
      "[server]\nworkers = -1\nmax_header_bytes = 2M\nmax_url_bytes = 100\n");
  EXPECT_EQ(Errors(r), (Lines{
      "sluice.conf:7: [s3] part_size: \"3M\" is below the minimum 5M",
      "sluice.conf:8: [s3] retries: \"21\" is above the maximum 20",
      "sluice.conf:9: [s3] bucket: \"My_Bucket\" is not a bucket name (3-63 of a-z 0-9 . -, starting and ending "
      "alphanumeric)",
      "sluice.conf:10: [s3] endpoint: \"127.0.0.1:4568\" is not an http:// or https:// URL",
      "sluice.conf:11: [s3] prefix: \"/abs\" must not start with /",
      "sluice.conf:12: [s3] region: must not be empty",
      "sluice.conf:14: [mariadb] pool_size: \"0\" is below the minimum 1",
      "sluice.conf:15: [mariadb] port: \"65536\" is above the maximum 65535",
      "sluice.conf:16: [mariadb] connect_timeout: \"500ms\" is below the minimum 1s",
      "sluice.conf:17: [mariadb] database: \"a-b\" must be 1-64 letters, digits, _ or $",
      "sluice.conf:18: [mariadb] user: must not be empty",
      "sluice.conf:19: [mariadb] socket: \"rel.sock\" must be an absolute path",
      "sluice.conf:21: [server] workers: \"-1\" is below the minimum 0",
      "sluice.conf:22: [server] max_header_bytes: \"2M\" is above the maximum 1M",
      "sluice.conf:23: [server] max_url_bytes: \"100\" is below the minimum 256",
  }));
}

TEST(ConfigErrors, MaxStatementTime) {
  EXPECT_EQ(Load("[mariadb]\nmax_statement_time = 0\n").config.mariadb.max_statement_time, Millis(0));
  EXPECT_EQ(Load("[mariadb]\nmax_statement_time = 2m\n").config.mariadb.max_statement_time, Millis(120000));
  EXPECT_EQ(Errors(Load("[mariadb]\nmax_statement_time = soon\n")).size(), 1u);
  EXPECT_EQ(Errors(Load("[mariadb]\nmax_statement_time = 25h\n")).size(), 1u);
}

TEST(ConfigErrors, SyntaxErrorsEachWithItsLine) {
  const LoadResult r = Load("[server]\nworkers = 1\nthis is not a pair\n[log\nlevel = warn\n\njunk\nmax_headers = 9\n");
  EXPECT_EQ(Errors(r), (Lines{
      "sluice.conf:3: syntax error: expected \"key = value\"",
      "sluice.conf:4: syntax error: expected \"]\" to close the section name",
      "sluice.conf:5: [server] level: unknown key",  // `[log` did not open a section
      "sluice.conf:7: syntax error: expected \"key = value\"",
  }));
  EXPECT_EQ(r.config.server.workers, 1);
  EXPECT_EQ(r.config.server.max_headers, 9u);  // parsing went on past the bad lines
}

TEST(ConfigErrors, KeyOutsideSectionAndSetTwice) {
  const LoadResult r = Load("workers = 1\n[server]\nworkers = 2\n; x\nworkers = 3\n");
  EXPECT_EQ(Errors(r), (Lines{"sluice.conf:1: workers: key is outside any [section]",
                              "sluice.conf:5: [server] workers: set twice (first on line 3)"}));
  EXPECT_EQ(r.config.server.workers, 2);
}

TEST(ConfigErrors, LongLineAndNulByte) {
  const std::string long_value(9000, 'x');
  std::string text = "[auth]\njwt_secret = " + long_value + "\n[log]\nlevel = warn\n";
  text += std::string("format = te\0xt\n", 15);
  const LoadResult r = Load(text);
  EXPECT_EQ(Errors(r), (Lines{"sluice.conf:2: the line is longer than 8192 bytes",
                              "sluice.conf:5: the line contains a NUL byte"}));
  EXPECT_EQ(r.config.auth.jwt_secret, "");
  EXPECT_EQ(r.config.log.level, log::Level::kWarn);
  // A line just under the limit is fine.
  const LoadResult fits = Load("[auth]\njwt_secret = " + std::string(8192 - 13, 'y') + "\n");
  ASSERT_TRUE(fits.ok()) << ::testing::PrintToString(Errors(fits));
  EXPECT_EQ(fits.config.auth.jwt_secret.size(), 8192u - 13);
}

TEST(ConfigErrors, ManyKindsReportedTogetherInLineOrder) {
  const LoadResult r = Load(
      "[server]\n"
      "workers = x\n"           // 2 bad value
      "nonsense\n"              // 3 syntax
      "colour = red\n"          // 4 unknown key
      "[db]\n"                  // 5 unknown section
      "host = h\n"              // 6 skipped
      "[s3]\n"
      "part_size = 1M\n"        // 8 below minimum
      "oops\n");                // 9 syntax
  EXPECT_EQ(Errors(r), (Lines{
      "sluice.conf:2: [server] workers: \"x\" is not an integer",
      "sluice.conf:3: syntax error: expected \"key = value\"",
      "sluice.conf:4: [server] colour: unknown key",
      "sluice.conf:5: [db]: unknown section",
      "sluice.conf:8: [s3] part_size: \"1M\" is below the minimum 5M",
      "sluice.conf:9: syntax error: expected \"key = value\"",
  }));
}

TEST(ConfigEnv, OverridesTheFileAndDefaults) {
  const char* const env[] = {"SLUICE_S3_SECRET_KEY=from-env", "SLUICE_S3_ACCESS_KEY=ak",
                             "SLUICE_SERVER_MAX_UPLOAD_BYTES=2G", "SLUICE_SERVER_LISTEN=[::]:80",
                             "SLUICE_LOG_LEVEL= error ", "SLUICE_TEST_MARIADB_PORT=1", "PATH=/bin",
                             "SLUICE_MARIADB_PASSWORD=", nullptr};
  const LoadResult r = Load("[s3]\nsecret_key = from-file\n[mariadb]\npassword = filepw\n", env);
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(r.config.s3.secret_key, "from-env");
  EXPECT_EQ(r.config.s3.access_key, "ak");
  EXPECT_EQ(r.config.server.max_upload_bytes, 2ull << 30);
  EXPECT_EQ(r.config.server.listen, (std::vector<ListenAddress>{{"::", 80}}));
  EXPECT_EQ(r.config.log.level, log::Level::kError);
  EXPECT_EQ(r.config.mariadb.password, "");  // an empty variable still overrides
}

TEST(ConfigEnv, ErrorsNameTheVariable) {
  const char* const env[] = {"SLUICE_S3_PART_SIZE=3M", "SLUICE_S3_SECRETKEY=oops", "SLUICE_SERVER_WORKERS=2", nullptr};
  const LoadResult r = Load("[s3]\npart_size = 1M\n", env);
  EXPECT_EQ(Errors(r), (Lines{
      "sluice.conf:2: [s3] part_size: \"1M\" is below the minimum 5M",
      "SLUICE_S3_PART_SIZE: \"3M\" is below the minimum 5M",
      "SLUICE_S3_SECRETKEY: unknown setting (not a SLUICE_<SECTION>_<KEY> of any key)",
  }));
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[1].file, "SLUICE_S3_PART_SIZE");
  EXPECT_EQ(r.errors[1].line, 0);
  EXPECT_EQ(r.config.server.workers, 2);
}

TEST(ConfigEnv, NullptrReadsTheProcessEnvironment) {
  ASSERT_EQ(setenv("SLUICE_MARIADB_POOL_SIZE", "9", 1), 0);
  const LoadResult r = LoadString("", "x.conf", nullptr);
  unsetenv("SLUICE_MARIADB_POOL_SIZE");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(r.config.mariadb.pool_size, 9);
}

TEST(ConfigCross, KeysThatDependOnEachOther) {
  const LoadResult r = Load("[server]\nmemory_budget = 4M\n[mariadb]\nhost =\n[s3]\naccess_key = a\n");
  EXPECT_EQ(Errors(r), (Lines{
      "sluice.conf:6: [s3] access_key is set but [s3] secret_key is empty",
      "sluice.conf:2: [server] memory_budget 4M is below [s3] part_size 8M",
      "sluice.conf:4: [mariadb] host is empty and no socket is set",
  }));
  const char* const env[] = {"SLUICE_S3_SECRET_KEY=s", nullptr};
  EXPECT_EQ(Errors(Load("[s3]\npart_size = 512M\n", env)),
            (Lines{"SLUICE_S3_SECRET_KEY: [s3] secret_key is set but [s3] access_key is empty",
                   "sluice.conf:2: [server] memory_budget 256M is below [s3] part_size 512M"}));
  // A key that already failed does not also fail a cross check.
  EXPECT_EQ(Errors(Load("[server]\nmemory_budget = 1k\n")),
            (Lines{"sluice.conf:2: [server] memory_budget: \"1k\" is below the minimum 1M"}));
}

TEST(ConfigError, ToStringWithAndWithoutLine) {
  EXPECT_EQ((ConfigError{"a.conf", 12, "boom"}).ToString(), "a.conf:12: boom");
  EXPECT_EQ((ConfigError{"SLUICE_S3_PART_SIZE", 0, "boom"}).ToString(), "SLUICE_S3_PART_SIZE: boom");
}

TEST(ConfigFile, MissingFileOrDirectoryNamesPathAndErrno) {
  const LoadResult missing = LoadFile("/nonexistent/dir/sluice.conf");
  EXPECT_EQ(Errors(missing), (Lines{"/nonexistent/dir/sluice.conf: cannot read: No such file or directory"}));
  const LoadResult dir = LoadFile("/tmp");
  EXPECT_EQ(Errors(dir), (Lines{"/tmp: cannot read: Is a directory"}));
}

TEST(ConfigFile, ReadsAFileAndNamesItInErrors) {
  char path[] = "/tmp/sluice_config_test_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = "[server]\nworkers = 5\n\n[s3]\npart_size = 2M\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  const LoadResult r = LoadFile(path);
  unlink(path);
  EXPECT_EQ(Errors(r), (Lines{std::string(path) + ":5: [s3] part_size: \"2M\" is below the minimum 5M"}));
  EXPECT_EQ(r.config.server.workers, 5);
  EXPECT_EQ(r.config.path, path);
}

TEST(ConfigDescribe, DefaultsGolden) {
  EXPECT_EQ(Describe(Config{}),
            "[server] listen = 127.0.0.1:8080\n[server] workers = 0\n[server] memory_budget = 256M\n"
            "[server] max_upload_bytes = 0\n[server] max_concurrent_uploads = 16\n[server] upload_queue_wait = 30s\n"
            "[server] max_page_rows = 10000\n"
            "[server] max_field_bytes = 16M\n[server] max_body_bytes = 1M\n[server] max_header_bytes = 16K\n[server] max_headers = 100\n"
            "[server] max_url_bytes = 8K\n[server] max_connections = 1024\n[server] header_timeout = 10s\n"
            "[server] idle_timeout = 1m\n[server] shutdown_grace = 30s\n[server] test_routes = false\n"
            "[server] tls_listen =\n[server] tls_cert =\n[server] tls_key =\n"
            "[mariadb] host = 127.0.0.1\n[mariadb] port = 3306\n[mariadb] socket =\n[mariadb] user = sluice\n"
            "[mariadb] password =\n[mariadb] database = sluice\n[mariadb] pool_size = 4\n"
            "[mariadb] connect_timeout = 5s\n[mariadb] max_statement_time = 30s\n"
            "[s3] endpoint =\n[s3] region = us-east-1\n[s3] bucket = sluice\n[s3] prefix =\n[s3] access_key =\n"
            "[s3] secret_key =\n[s3] session_token =\n[s3] path_style = false\n[s3] part_size = 8M\n"
            "[s3] max_parts_in_flight = 4\n[s3] retries = 4\n"
            "[auth] tokens =\n[auth] jwt_secret =\n"
            "[log] level = info\n[log] format = text\n");
}

TEST(ConfigDescribe, SecretsAreMasked) {
  const LoadResult r = Load(
      "[mariadb]\npassword = PW-SECRET\n[s3]\naccess_key = AK-SECRET\nsecret_key = SK-SECRET\n"
      "session_token = ST-SECRET\n[auth]\ntokens = read:TOKEN-SECRET\njwt_secret = JWT-SECRET\n[log]\nlevel = warn\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  const std::string text = Describe(r.config);
  EXPECT_EQ(text.find("SECRET"), std::string::npos) << text;
  for (const char* line : {"[mariadb] password = ***\n", "[s3] access_key = ***\n", "[s3] secret_key = ***\n",
                           "[s3] session_token = ***\n", "[auth] tokens = ***\n", "[auth] jwt_secret = ***\n",
                           "[log] level = warn\n", "[mariadb] user = sluice\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << " in\n" << text;
  }
}

TEST(ConfigExample, ShippedConfLoadsCleanAndHoldsTheDefaults) {
  const std::string path = SLUICE_SOURCE_DIR "/conf/sluice.conf";
  const LoadResult r = LoadFile(path);
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(Describe(r.config), Describe(Config{}));
}

TEST(ConfigExample, ShippedConfListsEveryKeyInItsSection) {
  std::ifstream in(SLUICE_SOURCE_DIR "/conf/sluice.conf");
  ASSERT_TRUE(in.good());
  std::set<std::string> written;
  std::string section;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == ';' || line[0] == '#') continue;
    if (line[0] == '[') {
      section = line.substr(1, line.find(']') - 1);
      continue;
    }
    const size_t eq = line.find('=');
    ASSERT_NE(eq, std::string::npos) << line;
    std::string key = line.substr(0, eq);
    key.erase(key.find_last_not_of(' ') + 1);
    written.insert(section + "." + key);
  }
  std::set<std::string> known;
  for (const OptionInfo& info : Options()) known.insert(std::string(info.section) + "." + std::string(info.key));
  EXPECT_EQ(written, known);
}

TEST(ConfigTls, ListenNeedsCertAndKey) {
  const LoadResult missing = LoadString("[server]\ntls_listen = 127.0.0.1:8443\ntls_cert = /etc/c.pem\n", "s.conf", kNoEnv);
  EXPECT_EQ(Errors(missing), (Lines{"s.conf:2: [server] tls_listen needs both tls_cert and tls_key"}));
  const LoadResult ok = LoadString(
      "[server]\ntls_listen = 127.0.0.1:8443, [::1]:8443\ntls_cert = /etc/c.pem\ntls_key = /etc/k.pem\n", "s.conf",
      kNoEnv);
  ASSERT_TRUE(ok.ok()) << Errors(ok).front();
  EXPECT_EQ(ok.config.server.tls_listen, (std::vector<ListenAddress>{{"127.0.0.1", 8443}, {"::1", 8443}}));
  EXPECT_EQ(ok.config.server.tls_key, "/etc/k.pem");
  const LoadResult none = LoadString("[server]\ntls_listen =\n", "s.conf", kNoEnv);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none.config.server.tls_listen.empty());
}

}  // namespace
}  // namespace sluice::config
