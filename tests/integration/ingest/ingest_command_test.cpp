// `sluice ingest` end to end: the real binary against a real mariadbd (and
// Ceph RGW as S3 when SLUICE_TEST_RGW_* is set; --no-s3 otherwise), in a
// database of the test's own. Every table is compared cell by cell with this
// file's own reading of the CSV (ReadCsv below, written independently of
// src/csv), typed columns by value (DECIMAL 22.00 is the file's 22, an empty
// field is NULL) and TEXT columns byte for byte; the S3 object is fetched back
// with /usr/bin/aws and compared with the file. Also: gzip input, stdin (file
// and pipe), create/replace/append, bad rows under skip and abort, an empty
// file, three ingests at once, the database killed mid-ingest (a throwaway
// mariadbd: clean failure, the next ingest works after the restart, and the
// server's start-up recovery drops the staging table the dead database kept)
// — and after every failure, no table, no staging table, no object and no
// open multipart upload.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ingest/generator.hpp"
#include "ingest_test_support.hpp"
#include "support/sluice_process.hpp"

namespace sluice::testing::ingest {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

/// RFC 4180 with ',' and '"': records of fields; blank lines are not records.
std::vector<std::vector<std::string>> ReadCsv(std::string_view text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  std::size_t i = 0;
  bool row_started = false;
  while (i < text.size()) {
    char c = text[i];
    if (c == '"' && field.empty()) {  // a quoted field, up to its closing quote
      row_started = true;
      ++i;
      while (i < text.size()) {
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += text[i++];
      }
      continue;
    }
    if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
      row_started = true;
      ++i;
      continue;
    }
    if (c == '\r' || c == '\n') {
      i += (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ? 2 : 1;
      if (!row_started && field.empty() && record.empty()) continue;  // a blank line
      record.push_back(std::move(field));
      field.clear();
      records.push_back(std::move(record));
      record.clear();
      row_started = false;
      continue;
    }
    field += c;
    row_started = true;
    ++i;
  }
  if (row_started || !field.empty() || !record.empty()) {
    record.push_back(std::move(field));
    records.push_back(std::move(record));
  }
  return records;
}

/// "22.00" and "22" are the same DECIMAL; so are "0.50" and "0.5".
std::string NormalizeNumber(std::string text) {
  if (text.find('.') != std::string::npos && text.find_first_of("eE") == std::string::npos) {
    while (!text.empty() && text.back() == '0') text.pop_back();
    if (!text.empty() && text.back() == '.') text.pop_back();
  }
  return text;
}

bool IsTextType(const std::string& type) { return type.find("TEXT") != std::string::npos; }

/// True when the table's cell holds the file's value.
bool SameValue(const std::string& type, const std::string& file, const std::optional<std::string>& db) {
  if (IsTextType(type)) return db.has_value() && *db == file;  // empty stays ''
  if (file.empty()) return !db.has_value();                    // empty is NULL in a typed column
  if (!db) return false;
  if (type.starts_with("DECIMAL")) return NormalizeNumber(*db) == NormalizeNumber(file);
  if (type == "BIGINT") return std::strtoll(db->c_str(), nullptr, 10) == std::strtoll(file.c_str(), nullptr, 10);
  if (type == "DOUBLE") return std::strtod(db->c_str(), nullptr) == std::strtod(file.c_str(), nullptr);
  if (type.starts_with("DATETIME")) {
    std::string f = file;
    for (char& ch : f) ch = ch == 'T' ? ' ' : ch;
    return NormalizeNumber(*db) == NormalizeNumber(f);
  }
  return *db == file;  // BIGINT, DATE
}

/// What one `sluice ingest` run gave.
struct CliRun {
  int exit_code = -1;
  std::string out;  ///< stdout: the record JSON
  std::string err;
  simdjson::dom::element record;  ///< parsed `out` (null when none)
  std::string Str(std::string_view path) const {
    if (record.is_null()) return "";
    auto value = record.at_pointer(path);
    if (value.error() || !value.is_string()) return "";
    return std::string(value.get_string().value());
  }
  int64_t Int(std::string_view path) const {
    if (record.is_null()) return -1;
    auto value = record.at_pointer(path);
    if (value.error()) return -1;
    if (value.is_uint64()) return static_cast<int64_t>(value.get_uint64().value());
    if (value.is_int64()) return value.get_int64().value();
    return -1;
  }
  std::shared_ptr<simdjson::dom::parser> parser = std::make_shared<simdjson::dom::parser>();
};

class IngestCommandTest : public IngestTest {
 protected:
  void SetUp() override {
    IngestTest::SetUp();
    if (pool_ == nullptr) return;
    UsePrivateDatabase("cli");
    target_ = *MariadbFromEnv();
    s3_ = S3FromEnv("SLUICE_TEST_RGW");
    dir_ = fs::temp_directory_path() / ("sluice-ingest-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
    IngestTest::TearDown();
  }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string Shared(const std::string& name) { return std::string(SLUICE_SHARED_DATA_DIR) + "/" + name; }

  /// The environment a run gets: the test database, and RGW when there is one.
  std::map<std::string, std::string> Env() const {
    std::map<std::string, std::string> env = {
        {"SLUICE_MARIADB_HOST", target_.host},
        {"SLUICE_MARIADB_PORT", std::to_string(target_.port)},
        {"SLUICE_MARIADB_USER", target_.user},
        {"SLUICE_MARIADB_PASSWORD", target_.password},
        {"SLUICE_MARIADB_DATABASE", private_database_},
        {"SLUICE_LOG_LEVEL", "warn"}};
    if (s3_) {
      env["SLUICE_S3_ENDPOINT"] = s3_->endpoint;
      env["SLUICE_S3_ACCESS_KEY"] = s3_->access_key;
      env["SLUICE_S3_SECRET_KEY"] = s3_->secret_key;
      env["SLUICE_S3_BUCKET"] = s3_->bucket;
      env["SLUICE_S3_PATH_STYLE"] = "true";
      env["SLUICE_S3_PREFIX"] = "ingest-test/";
    }
    for (const auto& [key, value] : env_override_) env[key] = value;
    return env;
  }

  /// Starts `sluice ingest <args>` (stdin from `input`, or a shell pipe
  /// command when `shell` is set); returns its pid.
  pid_t Spawn(const std::vector<std::string>& args, const std::string& tag, const std::string& input = "/dev/null",
              const std::string& shell = "") {
    std::vector<std::string> argv = {SLUICE_BINARY, "ingest"};
    argv.insert(argv.end(), args.begin(), args.end());
    if (!s3_) argv.push_back("--no-s3");
    std::string out = Path(tag + ".out"), err = Path(tag + ".err");
    auto env = Env();
    pid_t pid = ::fork();
    if (pid == 0) {
      int in_fd = ::open(input.c_str(), O_RDONLY);
      int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(in_fd, 0);
      ::dup2(out_fd, 1);
      ::dup2(err_fd, 2);
      for (const auto& [key, value] : env) ::setenv(key.c_str(), value.c_str(), 1);
      if (!shell.empty()) {
        std::string command = shell + " |";
        for (const auto& arg : argv) command += " '" + arg + "'";
        ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      } else {
        std::vector<char*> raw;
        for (auto& arg : argv) raw.push_back(arg.data());
        raw.push_back(nullptr);
        ::execv(raw[0], raw.data());
      }
      std::_Exit(127);
    }
    return pid;
  }

  CliRun Wait(pid_t pid, const std::string& tag) {
    CliRun run;
    int status = 0;
    ::waitpid(pid, &status, 0);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    run.out = ReadFile(Path(tag + ".out"));
    run.err = ReadFile(Path(tag + ".err"));
    // Under the sanitizer build the binary reports here too, failing or not.
    for (const char* report : {"AddressSanitizer", "LeakSanitizer", "runtime error:"}) {
      EXPECT_EQ(run.err.find(report), std::string::npos) << run.err;
    }
    if (!run.out.empty()) {
      auto parsed = run.parser->parse(run.out);
      if (!parsed.error()) run.record = parsed.value();
    }
    return run;
  }

  CliRun Ingest(const std::vector<std::string>& args, const std::string& input = "/dev/null",
             const std::string& shell = "") {
    std::string tag = "run" + std::to_string(++runs_);
    return Wait(Spawn(args, tag, input, shell), tag);
  }

  /// The record's columns as (name, type).
  std::vector<std::pair<std::string, std::string>> Columns(const CliRun& run) {
    std::vector<std::pair<std::string, std::string>> columns;
    simdjson::dom::array array;
    if (run.record.is_null() || run.record["columns"].get(array)) return columns;
    for (auto column : array) {
      columns.emplace_back(std::string(column["name"].get_string().value()),
                           std::string(column["type"].get_string().value()));
    }
    return columns;
  }

  /// Every cell of `table` against `csv` (its first record is the header),
  /// rows in file order (`_row` 1, 2, …), paged so memory stays small.
  void ExpectTableIsFile(const CliRun& run, const std::string& table, const std::string& csv) {
    auto records = ReadCsv(csv);
    ASSERT_FALSE(records.empty());
    auto columns = Columns(run);
    ASSERT_EQ(columns.size(), records[0].size());
    std::size_t rows = records.size() - 1;
    ASSERT_EQ(Scalar("SELECT COUNT(*) FROM `" + table + "`"), std::to_string(rows));
    const std::size_t page = 20000;
    std::size_t mismatches = 0;
    for (std::size_t first = 1; first <= rows; first += page) {
      auto got = Rows("SELECT * FROM `" + table + "` WHERE _row BETWEEN " + std::to_string(first) + " AND " +
                      std::to_string(first + page - 1) + " ORDER BY _row");
      std::size_t expected = std::min(page, rows - first + 1);
      ASSERT_EQ(got.size(), expected) << "rows from _row " << first;
      for (std::size_t r = 0; r < expected; ++r) {
        const auto& file_row = records[first + r];
        const auto& db_row = got[r];
        ASSERT_EQ(db_row[0], std::to_string(first + r));
        ASSERT_EQ(file_row.size(), columns.size()) << "file row " << first + r;
        for (std::size_t c = 0; c < columns.size(); ++c) {
          if (SameValue(columns[c].second, file_row[c], db_row[c + 1])) continue;
          if (++mismatches <= 10) {
            ADD_FAILURE() << "row " << first + r << ", column " << columns[c].first << " (" << columns[c].second
                          << "): file '" << file_row[c] << "', table '" << db_row[c + 1].value_or("NULL") << "'";
          }
        }
      }
    }
    EXPECT_EQ(mismatches, 0u);
  }

  /// Runs the aws CLI against RGW; its stdout.
  std::string Aws(const std::string& arguments, int* exit_code = nullptr) {
    std::string command = "AWS_ACCESS_KEY_ID='" + s3_->access_key + "' AWS_SECRET_ACCESS_KEY='" + s3_->secret_key +
                          "' AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null "
                          "AWS_SHARED_CREDENTIALS_FILE=/dev/null /usr/bin/aws --endpoint-url '" + s3_->endpoint +
                          "' " + arguments + " 2>&1";
    std::string output;
    FILE* pipe = ::popen(command.c_str(), "r");
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
    int status = ::pclose(pipe);
    if (exit_code != nullptr) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return output;
  }

  /// The stored object equals `path`'s bytes.
  void ExpectObjectIsFile(const CliRun& run, const std::string& path) {
    if (!s3_) return;
    std::string key = run.Str("/s3/key");
    ASSERT_FALSE(key.empty()) << run.out;
    EXPECT_EQ(key.rfind("ingest-test/uploads/" + run.Str("/id") + "/", 0), 0u) << key;
    int rc = 0;
    std::string copy = Path("object.bin");
    std::string output = Aws("s3 cp 's3://" + s3_->bucket + "/" + key + "' '" + copy + "'", &rc);
    ASSERT_EQ(rc, 0) << output;
    std::string got = ReadFile(copy), want = ReadFile(path);
    EXPECT_EQ(got.size(), want.size());
    EXPECT_TRUE(got == want) << "the S3 object differs from " << path;
  }

  /// Nothing of upload `id` is left in S3: no object, no multipart upload.
  void ExpectNothingInS3(const std::string& id) {
    if (!s3_ || id.empty()) return;
    std::string prefix = "ingest-test/uploads/" + id + "/";
    std::string objects = Aws("s3api list-objects-v2 --bucket " + s3_->bucket + " --prefix " + prefix);
    EXPECT_EQ(objects.find("\"Key\""), std::string::npos) << objects;
    std::string uploads = Aws("s3api list-multipart-uploads --bucket " + s3_->bucket + " --prefix " + prefix);
    EXPECT_EQ(uploads.find("UploadId"), std::string::npos) << uploads;
  }

  void ExpectNoStagingTables() { EXPECT_TRUE(InternalTables().empty()) << InternalTables().front(); }

  std::string Generate(const std::string& name, uint64_t rows, uint64_t seed = 1, const std::string& columns = "") {
    sluice::ingest::GeneratorOptions options;
    options.rows = rows;
    options.seed = seed;
    if (!columns.empty()) options.columns = *sluice::ingest::ParseGenColumns(columns);
    sluice::ingest::CsvGenerator generator(options);
    std::string text, chunk;
    while (generator.Next(chunk, 1 << 20)) {
      text += chunk;
      chunk.clear();
    }
    WriteFile(Path(name), text);
    return text;
  }

  MariadbTarget target_;
  std::map<std::string, std::string> env_override_;  ///< wins over Env()'s own
  std::optional<S3Target> s3_;
  fs::path dir_;
  int runs_ = 0;
};

TEST_F(IngestCommandTest, TitanicEveryCellAndTheS3Copy) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  CliRun run = Ingest({Shared("titanic.csv")});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.Str("/state"), "done");
  EXPECT_EQ(run.Str("/table"), "titanic");
  EXPECT_EQ(run.Int("/rows_loaded"), 891);
  EXPECT_EQ(run.Int("/rows_total"), 891);
  EXPECT_EQ(run.Int("/rows_rejected"), 0);
  EXPECT_EQ(run.Int("/bytes_received"), static_cast<int64_t>(fs::file_size(Shared("titanic.csv"))));
  EXPECT_EQ(run.Str("/sha256").size(), 64u);
  auto columns = Columns(run);
  ASSERT_EQ(columns.size(), 12u);
  EXPECT_EQ(columns[0], (std::pair<std::string, std::string>{"PassengerId", "BIGINT"}));
  EXPECT_EQ(columns[3], (std::pair<std::string, std::string>{"Name", "TEXT"}));
  EXPECT_EQ(columns[8].second, "TEXT");  // Ticket
  ExpectTableIsFile(run, "titanic", ReadFile(Shared("titanic.csv")));
  ExpectObjectIsFile(run, Shared("titanic.csv"));
  ExpectNoStagingTables();
  // The catalog has the record and the table.
  EXPECT_EQ(Scalar("SELECT state FROM sluice_uploads WHERE id = '" + run.Str("/id") + "'"), "done");
  EXPECT_EQ(Scalar("SELECT row_count FROM sluice_tables WHERE name = 'titanic'"), "891");
}

TEST_F(IngestCommandTest, PlaysBigEveryCell) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  CliRun run = Ingest({Shared("plays_big.csv"), "--table", "plays"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto columns = Columns(run);
  ASSERT_EQ(columns.size(), 3u);
  EXPECT_EQ(columns[2].first, "Number of Plays");
  EXPECT_EQ(columns[1].second, "DATE");
  ExpectTableIsFile(run, "plays", ReadFile(Shared("plays_big.csv")));
  ExpectObjectIsFile(run, Shared("plays_big.csv"));
}

TEST_F(IngestCommandTest, GeneratedFileOf200kRows) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  std::string text = Generate("gen.csv", 200000, 7, "id,uuid,name,email,date,datetime,amount,quantity,code,city,note,flag,score");
  CliRun run = Ingest({Path("gen.csv"), "--table", "gen"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.Int("/rows_loaded"), 200000);
  auto columns = Columns(run);
  ASSERT_EQ(columns.size(), 13u);
  EXPECT_EQ(columns[8].second, "TEXT");  // zero-padded codes keep their zeros
  ExpectTableIsFile(run, "gen", text);
  ExpectObjectIsFile(run, Path("gen.csv"));
  ExpectNoStagingTables();
}

TEST_F(IngestCommandTest, GzipInputStoresTheGzipBytes) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  std::string gz = Path("titanic.csv.gz");
  ASSERT_EQ(std::system(("gzip -c '" + Shared("titanic.csv") + "' > '" + gz + "'").c_str()), 0);
  CliRun run = Ingest({gz});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.Str("/table"), "titanic");
  EXPECT_EQ(run.Int("/bytes_received"), static_cast<int64_t>(fs::file_size(gz)));
  ExpectTableIsFile(run, "titanic", ReadFile(Shared("titanic.csv")));
  ExpectObjectIsFile(run, gz);
  // A corrupt gzip stream fails cleanly.
  std::string bad = ReadFile(gz);
  bad[bad.size() / 2] ^= 0x55;
  WriteFile(Path("bad.csv.gz"), bad);
  CliRun failed = Ingest({Path("bad.csv.gz"), "--table", "bad"});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_EQ(failed.Str("/error/code"), "invalid_gzip") << failed.out;
  EXPECT_FALSE(TableExists("bad"));
  ExpectNoStagingTables();
  ExpectNothingInS3(failed.Str("/id"));
}

TEST_F(IngestCommandTest, StdinFromAFileAndFromAPipe) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  CliRun file = Ingest({"-", "--table", "from_file", "--filename", "plays.csv"}, Shared("plays_small.csv"));
  ASSERT_EQ(file.exit_code, 0) << file.err;
  ExpectTableIsFile(file, "from_file", ReadFile(Shared("plays_small.csv")));
  CliRun pipe = Ingest({"-", "--table", "from_pipe"}, "/dev/null", "cat '" + Shared("titanic.csv") + "'");
  ASSERT_EQ(pipe.exit_code, 0) << pipe.err;
  EXPECT_EQ(pipe.Str("/filename"), "stdin.csv");
  ExpectTableIsFile(pipe, "from_pipe", ReadFile(Shared("titanic.csv")));
  ExpectObjectIsFile(pipe, Shared("titanic.csv"));
}

TEST_F(IngestCommandTest, CreateReplaceAppend) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  std::string small = ReadFile(Shared("plays_small.csv"));
  CliRun created = Ingest({Shared("plays_small.csv"), "--table", "plays"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  ExpectTableIsFile(created, "plays", small);

  // create over an existing table: refused before any byte, nothing changes.
  CliRun again = Ingest({Shared("plays_big.csv"), "--table", "plays"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("table_exists"), std::string::npos) << again.err;
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM plays"), std::to_string(ReadCsv(small).size() - 1));

  // replace: the new rows, atomically.
  CliRun replaced = Ingest({Shared("plays_big.csv"), "--table", "plays", "--mode", "replace"});
  ASSERT_EQ(replaced.exit_code, 0) << replaced.err;
  ExpectTableIsFile(replaced, "plays", ReadFile(Shared("plays_big.csv")));

  // append: rows follow with `_row` continuing; the same bytes twice is a duplicate.
  std::string extra = "Song,Date,Number of Plays\nNew Song,2021-05-05,7\nOther,2021-05-06,\n";
  WriteFile(Path("extra.csv"), extra);
  CliRun appended = Ingest({Path("extra.csv"), "--table", "plays", "--mode", "append"});
  ASSERT_EQ(appended.exit_code, 0) << appended.err;
  std::size_t big_rows = ReadCsv(ReadFile(Shared("plays_big.csv"))).size() - 1;
  EXPECT_EQ(appended.Int("/rows_loaded"), 2);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM plays"), std::to_string(big_rows + 2));
  auto tail = Rows("SELECT _row, Song, Date, `Number of Plays` FROM plays WHERE _row > " + std::to_string(big_rows) +
                   " ORDER BY _row");
  ASSERT_EQ(tail.size(), 2u);
  EXPECT_EQ(tail[0], (Row{std::to_string(big_rows + 1), "New Song", "2021-05-05", "7"}));
  EXPECT_EQ(tail[1], (Row{std::to_string(big_rows + 2), "Other", "2021-05-06", std::nullopt}));
  EXPECT_EQ(Scalar("SELECT row_count FROM sluice_tables WHERE name = 'plays'"), std::to_string(big_rows + 2));

  CliRun duplicate = Ingest({Path("extra.csv"), "--table", "plays", "--mode", "append"});
  EXPECT_EQ(duplicate.exit_code, 1);
  EXPECT_EQ(duplicate.Str("/error/code"), "duplicate_upload") << duplicate.out;
  EXPECT_NE(duplicate.Str("/error/message").find(appended.Str("/id")), std::string::npos);
  ExpectNothingInS3(duplicate.Str("/id"));

  // append with other columns: refused, the table as it was.
  CliRun mismatch = Ingest({Shared("titanic.csv"), "--table", "plays", "--mode", "append"});
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_EQ(mismatch.Str("/error/code"), "columns_mismatch") << mismatch.out;
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM plays"), std::to_string(big_rows + 2));

  // append a value that does not fit the table's type: a bad row, the others load.
  WriteFile(Path("typed.csv"), "Song,Date,Number of Plays\nA,2021-06-01,1\nB,not a date,2\nC,2021-06-03,x\n");
  CliRun typed = Ingest({Path("typed.csv"), "--table", "plays", "--mode", "append"});
  ASSERT_EQ(typed.exit_code, 0) << typed.err;
  EXPECT_EQ(typed.Int("/rows_loaded"), 1);
  EXPECT_EQ(typed.Int("/rows_rejected"), 2);
  EXPECT_EQ(typed.Int("/rejected/0/line"), 3);
  EXPECT_EQ(typed.Int("/rejected/1/line"), 4);
  ExpectNoStagingTables();
}

TEST_F(IngestCommandTest, BadRowsSkipAndAbort) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  std::string text = "a,b,c\n1,x,2020-01-01\n2,y\n3,z,2020-01-03\n4,w,2020-01-04,extra\n5,\"q\nr\",2020-01-05\n";
  WriteFile(Path("bad.csv"), text);
  CliRun skipped = Ingest({Path("bad.csv"), "--table", "skipped"});
  ASSERT_EQ(skipped.exit_code, 0) << skipped.err;
  EXPECT_EQ(skipped.Int("/rows_total"), 5);
  EXPECT_EQ(skipped.Int("/rows_loaded"), 3);
  EXPECT_EQ(skipped.Int("/rows_rejected"), 2);
  EXPECT_EQ(skipped.Int("/rejected/0/line"), 3);
  EXPECT_EQ(skipped.Int("/rejected/1/line"), 5);
  EXPECT_NE(skipped.Str("/rejected/0/reason").find("3"), std::string::npos) << skipped.out;
  // `_row` is the row's place in the file: the good rows 1, 3 and 5.
  auto rows = Rows("SELECT _row, a, b, c FROM skipped ORDER BY _row");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (Row{"1", "1", "x", "2020-01-01"}));
  EXPECT_EQ(rows[1], (Row{"3", "3", "z", "2020-01-03"}));
  EXPECT_EQ(rows[2], (Row{"5", "5", "q\nr", "2020-01-05"}));

  CliRun aborted = Ingest({Path("bad.csv"), "--table", "aborted", "--on-error", "abort"});
  EXPECT_EQ(aborted.exit_code, 1);
  EXPECT_EQ(aborted.Str("/state"), "failed");
  EXPECT_EQ(aborted.Str("/error/code"), "bad_row");
  EXPECT_NE(aborted.Str("/error/message").find("line 3"), std::string::npos) << aborted.out;
  EXPECT_EQ(aborted.Int("/rows_loaded"), 0);
  EXPECT_FALSE(TableExists("aborted"));
  ExpectNoStagingTables();
  ExpectNothingInS3(aborted.Str("/id"));
  EXPECT_EQ(Scalar("SELECT state FROM sluice_uploads WHERE id = '" + aborted.Str("/id") + "'"), "failed");
}

TEST_F(IngestCommandTest, ManyBadRowsKeepTheFirstThousand) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  std::string text = "a,b\n";
  for (int i = 0; i < 3000; ++i) text += (i % 2 == 0) ? "1,2\n" : "1,2,3\n";
  WriteFile(Path("many.csv"), text);
  CliRun run = Ingest({Path("many.csv"), "--table", "many"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.Int("/rows_loaded"), 1500);
  EXPECT_EQ(run.Int("/rows_rejected"), 1500);
  EXPECT_EQ(run.Int("/rejected/0/line"), 3);
  EXPECT_EQ(run.Int("/rejected/999/line"), 2001);
  EXPECT_EQ(run.Int("/rejected/1000/line"), -1);  // no 1001st entry
}

TEST_F(IngestCommandTest, EmptyFileHasNoHeader) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  WriteFile(Path("empty.csv"), "");
  CliRun run = Ingest({Path("empty.csv")});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.Str("/error/code"), "no_header") << run.out << run.err;
  EXPECT_FALSE(TableExists("empty"));
  WriteFile(Path("blank.csv"), "\n\r\n\n");
  CliRun blank = Ingest({Path("blank.csv"), "--no-header"});
  EXPECT_EQ(blank.Str("/error/code"), "no_header") << blank.out;
  ExpectNoStagingTables();
  ExpectNothingInS3(run.Str("/id"));
}

TEST_F(IngestCommandTest, OptionsAndUsage) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  WriteFile(Path("semi.csv"), "id;zip;note\n1;01234;a\n2;99999;b\n");
  CliRun run = Ingest({Path("semi.csv"), "--no-header"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto columns = Columns(run);
  ASSERT_EQ(columns.size(), 3u);
  EXPECT_EQ(columns[0].first, "c1");  // --no-header: the header is a row
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM semi"), "3");
  CliRun typed = Ingest({Path("semi.csv"), "--table", "semi2", "--type", "zip=text", "--type", "id=decimal(5,1)"});
  ASSERT_EQ(typed.exit_code, 0) << typed.err;
  columns = Columns(typed);
  EXPECT_EQ(columns[0].second, "DECIMAL(5,1)");
  EXPECT_EQ(columns[1].second, "TEXT");
  EXPECT_EQ(Scalar("SELECT zip FROM semi2 WHERE _row = 1"), "01234");
  // A type for a column the file does not have fails the upload.
  CliRun unknown = Ingest({Path("semi.csv"), "--table", "semi3", "--type", "nope=text"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.Str("/error/code"), "invalid_parameter") << unknown.out;
  EXPECT_FALSE(TableExists("semi3"));
  // Bad usage is exit 2.
  EXPECT_EQ(Ingest({Path("semi.csv"), "--mode", "upsert"}).exit_code, 2);
  EXPECT_EQ(Ingest({Path("semi.csv"), "--bogus"}).exit_code, 2);
  EXPECT_EQ(Ingest({Path("semi.csv"), "--type", "nocolumn"}).exit_code, 2);
  // A missing file fails (1) and leaves nothing.
  CliRun missing = Ingest({Path("missing.csv")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("cannot open"), std::string::npos) << missing.err;
  EXPECT_FALSE(TableExists("missing"));
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM sluice_uploads WHERE filename = 'missing.csv'"), "0");  // no record either
  ExpectNoStagingTables();
}

TEST_F(IngestCommandTest, SigintCancelsThroughTheCleanupPath) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  // stdin is a FIFO the test writes half a file into, then signals.
  std::string text = Generate("half.csv", 200000, 3);  // half of it is more than one S3 part
  std::string fifo = Path("input.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  pid_t pid = Spawn({"-", "--table", "cancelled_table"}, "sigint", fifo);
  int writer = ::open(fifo.c_str(), O_WRONLY);
  ASSERT_GE(writer, 0);
  std::size_t half = text.size() / 2;
  ASSERT_EQ(::write(writer, text.data(), half), static_cast<ssize_t>(half));
  // Once the upload's record exists and bytes are flowing, interrupt it.
  bool started = false;
  for (int i = 0; i < 200 && !started; ++i) {
    started = Scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND "
                     "TABLE_NAME = 'sluice_uploads'") == "1" &&
              Scalar("SELECT COUNT(*) FROM sluice_uploads WHERE table_name = 'cancelled_table'") == "1";
    if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(started);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(pid, SIGINT);
  CliRun run = Wait(pid, "sigint");
  ::close(writer);
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_EQ(run.Str("/state"), "cancelled") << run.out;
  EXPECT_EQ(run.Str("/error/code"), "cancelled");
  EXPECT_EQ(run.Int("/rows_loaded"), 0);
  EXPECT_FALSE(TableExists("cancelled_table"));
  ExpectNoStagingTables();
  ExpectNothingInS3(run.Str("/id"));
  EXPECT_EQ(Scalar("SELECT state FROM sluice_uploads WHERE id = '" + run.Str("/id") + "'"), "cancelled");
}

TEST_F(IngestCommandTest, TypesThatChangeLateKeepEveryValue) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  // Columns that look typed in the first blocks (so they are staged typed)
  // and turn out otherwise in a later one — the staging table changes while
  // rows load, and every value must still come back exactly.
  std::string text = "a,b,c,d,e,f,g\n";
  const int rows = 200000;
  for (int i = 1; i <= rows; ++i) {
    std::string n = std::to_string(i);
    text += (i % 10 == 0 ? "" : i == 150001 ? "x" : n) + ",";                    // BIGINT, then TEXT: '' back
    text += (i == 150001 ? "1.5" : std::to_string(i % 1000) + ".25") + ",";     // exact DECIMAL, then 1 decimal
    text += "2020-01-" + std::string(i % 28 + 1 < 10 ? "0" : "") + std::to_string(i % 28 + 1) + ",";  // DATE
    text += (i == 120000 ? "-0" : n) + ",";                                     // BIGINT with one -0
    text += "2020-01-01T10:00:0" + std::to_string(i % 10) + ",";                // DATETIME spelled with T
    text += (i % 3 == 0 ? "" : "t" + n) + ",";                                  // TEXT with empties
    text += (i == 190000 ? std::string(70000, 'w') : std::to_string(i * 7)) + "\n";  // then > 64 KiB
  }
  WriteFile(Path("late.csv"), text);
  CliRun run = Ingest({Path("late.csv")});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto columns = Columns(run);
  ASSERT_EQ(columns.size(), 7u);
  EXPECT_EQ(columns[0].second, "TEXT");
  EXPECT_EQ(columns[1].second, "DECIMAL(5,2)");
  EXPECT_EQ(columns[2].second, "DATE");
  EXPECT_EQ(columns[3].second, "BIGINT");
  EXPECT_EQ(columns[4].second, "DATETIME");
  EXPECT_EQ(columns[5].second, "TEXT");
  EXPECT_EQ(columns[6].second, "MEDIUMTEXT");
  ExpectTableIsFile(run, "late", text);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM late WHERE a = ''"), std::to_string(rows / 10));
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM late WHERE a IS NULL OR f IS NULL"), "0");
  ExpectNoStagingTables();
  // The same with every column forced to text: no type anywhere, still exact.
  CliRun text_run = Ingest({Path("late.csv"), "--table", "late_text", "--types", "text"});
  ASSERT_EQ(text_run.exit_code, 0) << text_run.err;
  for (const auto& [name, type] : Columns(text_run)) EXPECT_NE(type.find("TEXT"), std::string::npos) << name;
  ExpectTableIsFile(text_run, "late_text", text);
}

TEST_F(IngestCommandTest, JsonLinesUnionOfKeysInFileOrder) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  // ~9 MB: several blocks, parsed in parallel; the key `late` first appears in
  // a later block, so the table grows a column while rows are loading.
  const int rows = 120000, late_from = 100000;
  std::string text;
  for (int i = 1; i <= rows; ++i) {
    text += "{\"i\": " + std::to_string(i) + ", \"s\": \"say \\\"" + std::to_string(i) + "\\\"\\n\\u00e9\"";
    text += ", \"amt\": " + std::to_string(i % 1000) + "." + (i % 2 == 0 ? "50" : "25");
    if (i % 7 == 0) {
      text += ", \"n\": null";
    } else {
      text += ", \"n\": {\"k\": [" + std::to_string(i) + ", true]}";
    }
    if (i >= late_from) text += ", \"late\": \"L" + std::to_string(i) + "\"";
    text += "}\n";
    if (i == 10) text += "this line is not JSON\n";
  }
  WriteFile(Path("events.jsonl"), text);
  CliRun run = Ingest({Path("events.jsonl")});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.Int("/rows_loaded"), rows);
  EXPECT_EQ(run.Int("/rows_rejected"), 1);
  EXPECT_EQ(run.Int("/rejected/0/line"), 11);
  auto columns = Columns(run);
  ASSERT_EQ(columns.size(), 5u);
  EXPECT_EQ(columns[0], (std::pair<std::string, std::string>{"i", "BIGINT"}));
  EXPECT_EQ(columns[1], (std::pair<std::string, std::string>{"s", "TEXT"}));
  EXPECT_EQ(columns[2], (std::pair<std::string, std::string>{"amt", "DECIMAL(5,2)"}));
  EXPECT_EQ(columns[3], (std::pair<std::string, std::string>{"n", "TEXT"}));
  EXPECT_EQ(columns[4], (std::pair<std::string, std::string>{"late", "TEXT"}));
  auto got = Rows("SELECT _row, i, s, amt, n, late FROM events ORDER BY _row");
  ASSERT_EQ(got.size(), static_cast<std::size_t>(rows));
  std::size_t mismatches = 0;
  for (int i = 1; i <= rows; ++i) {
    const Row& row = got[i - 1];
    std::string n = std::to_string(i);
    Row want = {std::to_string(i <= 10 ? i : i + 1), n, "say \"" + n + "\"\n\xC3\xA9",
                std::to_string(i % 1000) + "." + (i % 2 == 0 ? "50" : "25"),
                i % 7 == 0 ? std::optional<std::string>() : "{\"k\": [" + n + ", true]}",
                i >= late_from ? std::optional<std::string>("L" + n) : std::nullopt};
    if (row != want && ++mismatches <= 5) ADD_FAILURE() << "row " << i << ": " << row[2].value_or("NULL");
  }
  EXPECT_EQ(mismatches, 0u);
  ExpectObjectIsFile(run, Path("events.jsonl"));
  ExpectNoStagingTables();
}

TEST_F(IngestCommandTest, ThreeIngestsAtOnce) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  std::vector<std::string> texts;
  for (int i = 0; i < 3; ++i) texts.push_back(Generate("p" + std::to_string(i) + ".csv", 40000, 100 + i));
  std::vector<pid_t> pids;
  for (int i = 0; i < 3; ++i) {
    std::string n = std::to_string(i);
    pids.push_back(Spawn({Path("p" + n + ".csv")}, "par" + n));
  }
  for (int i = 0; i < 3; ++i) {
    std::string n = std::to_string(i);
    CliRun run = Wait(pids[i], "par" + n);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(run.Int("/rows_loaded"), 40000);
    ExpectTableIsFile(run, "p" + n, texts[i]);
    ExpectObjectIsFile(run, Path("p" + n + ".csv"));
  }
  ExpectNoStagingTables();
}


TEST_F(IngestCommandTest, DatabaseKilledMidIngestFailsCleanly) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  if (!dbtest::ThrowawayMariadb::Available()) GTEST_SKIP() << "mariadbd not installed";
  dbtest::ThrowawayMariadb server;
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  config::MariadbConfig config;
  config.host = "127.0.0.1";
  config.port = server.port();
  config.user = "root";
  config.database = "mysql";
  config.pool_size = 1;
  config.connect_timeout = std::chrono::seconds(5);
  auto pool = std::make_unique<db::DbPool>(&loop_, config);
  ASSERT_TRUE(Sync("CREATE DATABASE ingkill CHARACTER SET utf8mb4", pool.get()));
  env_override_ = {{"SLUICE_MARIADB_HOST", "127.0.0.1"},
                   {"SLUICE_MARIADB_PORT", std::to_string(server.port())},
                   {"SLUICE_MARIADB_USER", "root"},
                   {"SLUICE_MARIADB_PASSWORD", ""},
                   {"SLUICE_MARIADB_DATABASE", "ingkill"}};
  auto scalar = [&](const std::string& sql) -> std::string {
    auto result = Sync(sql, pool.get());
    if (!result || result->rows.empty() || result->rows[0].empty()) return "";
    return result->rows[0][0].value_or("NULL");
  };
  const std::string staging_count =
      "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ingkill' AND "
      "TABLE_NAME LIKE '\\_sluice\\_stage\\_%'";

  // stdin is a FIFO: half the file goes in, rows load, the database dies.
  std::string text = Generate("killed.csv", 200000, 5);
  std::string fifo = Path("killed.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  pid_t pid = Spawn({"-", "--table", "killed"}, "killed", fifo);
  int writer = ::open(fifo.c_str(), O_WRONLY);
  ASSERT_GE(writer, 0);
  std::size_t half = text.size() / 2;
  ASSERT_EQ(::write(writer, text.data(), half), static_cast<ssize_t>(half));
  bool loading = false;
  for (int i = 0; i < 400 && !loading; ++i) {
    loading = scalar(staging_count) == "1" &&
              scalar("SELECT COUNT(*) FROM ingkill.sluice_uploads WHERE table_name = 'killed' AND rows_loaded > 0") == "1";
    if (!loading) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(loading) << "no rows were loaded into the staging table";
  server.SigKill();
  ::close(writer);  // the rest never comes: the ingest must end on the lost database alone
  CliRun run = Wait(pid, "killed");
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_EQ(run.Str("/state"), "failed") << run.out;
  EXPECT_EQ(run.Str("/error/code"), "db_error") << run.out;
  EXPECT_FALSE(run.Str("/error/message").empty());
  ExpectNothingInS3(run.Str("/id"));

  // After the restart: the table was never published, the next ingest works.
  server.Kill();
  ASSERT_TRUE(server.Start(&error)) << error;
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ingkill' AND "
                   "TABLE_NAME = 'killed'"),
            "0");
  CliRun next = Ingest({Shared("titanic.csv"), "--table", "after_restart"});
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_EQ(next.Int("/rows_loaded"), 891);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM ingkill.after_restart"), "891");

  // The dead database could not drop the staging table (the ingest ended
  // without it); the server's start-up recovery does, and marks the upload
  // interrupted.
  EXPECT_EQ(scalar(staging_count), "1");
  SluiceProcess serve;
  serve.WriteConf("", "[log]\nlevel = info\n");
  ASSERT_TRUE(serve.Start(&error, std::chrono::seconds(30), env_override_)) << error;
  bool recovered = false;
  for (int i = 0; i < 300 && !recovered; ++i) {
    recovered = serve.Log().find("catalog ready") != std::string::npos;
    if (!recovered) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(recovered) << serve.Log();
  EXPECT_EQ(scalar(staging_count), "0");
  EXPECT_EQ(scalar("SELECT CONCAT(state, ' ', error_code) FROM ingkill.sluice_uploads WHERE id = '" +
                   run.Str("/id") + "'"),
            "failed interrupted");
  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(std::chrono::seconds(30)), 0) << serve.Log();
  bool closed = false;
  pool->Shutdown([&] { closed = true; });
  ASSERT_TRUE(RunUntil([&] { return closed; }));
}

}  // namespace
}  // namespace sluice::testing::ingest
