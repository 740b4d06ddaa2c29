// The tables API end to end: the real `sluice serve` over a real MariaDB
// holding titanic.csv, plays_big.csv and a small unicode table, each loaded
// with `sluice ingest` (the real pipeline, inferred types). Every answer is
// checked against values this test computes itself from the CSV files:
// every operator, the API.md example as written, paging through whole
// tables by cursor and by offset (each row exactly once, in order, for
// several sorts with NULLs and ties), CSV and NDJSON parsed back, gzip
// decoded, the plays aggregate sums, errors naming their parameter,
// tampered cursors, max_statement_time → 503, a slow reader and a client
// that leaves mid-answer, DELETE and indexes with their roles.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/services.hpp"
#include "core/json_writer.hpp"
#include "support/sluice_process.hpp"
#include "zlib/gzip_stream.hpp"

namespace sluice::testing {
namespace {

using Table = std::vector<std::vector<std::string>>;  // rows of cells, header first

const std::string kTitanicCsv = std::string(SLUICE_SHARED_DATA_DIR) + "/titanic.csv";
const std::string kPlaysCsv = std::string(SLUICE_SHARED_DATA_DIR) + "/plays_big.csv";
const std::string kDatabase = "sluice_test_query";
const std::string kReadToken = "read-token-for-the-query-tests";
const std::string kAdminToken = "admin-token-for-the-query-tests";

// ---- the oracle: CSV files read here, independently of sluice -------------

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// RFC 4180 (quotes, doubled quotes, CRLF or LF); a final line without a
/// newline counts.
Table ParseCsv(const std::string& text) {
  Table rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false, any = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell.push_back(c);
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(std::move(cell));
      cell.clear();
      any = true;
    } else if (c == '\r') {
    } else if (c == '\n') {
      row.push_back(std::move(cell));
      cell.clear();
      rows.push_back(std::move(row));
      row.clear();
      any = false;
    } else {
      cell.push_back(c);
      any = true;
    }
  }
  if (any || !cell.empty() || !row.empty()) {
    row.push_back(std::move(cell));
    rows.push_back(std::move(row));
  }
  return rows;
}

bool IsNumeric(const std::string& type) {
  return type.rfind("BIGINT", 0) == 0 || type.rfind("DECIMAL", 0) == 0 || type.rfind("DOUBLE", 0) == 0;
}
bool IsText(const std::string& type) { return type.find("TEXT") != std::string::npos; }

/// A numeric-looking text, as the server's numeric_text rule reads it.
std::optional<double> AsNumber(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  if (text.find_first_of("xXnNiI") != std::string::npos) return std::nullopt;  // hex, nan, inf
  return value;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// One loaded CSV with the column types the server reports.
struct Source {
  std::vector<std::string> header;
  std::vector<std::string> types;
  Table rows;  // data rows only, in file order (= _row order)

  std::size_t Column(const std::string& name) const {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (Lower(header[i]) == Lower(name)) return i;
    }
    ADD_FAILURE() << "no column " << name;
    return 0;
  }
  bool Null(std::size_t row, std::size_t column) const {
    return rows[row][column].empty() && !IsText(types[column]);
  }

  /// Row indexes (file order) where `keep(row)` holds.
  std::vector<std::size_t> Where(const std::function<bool(const std::vector<std::string>&)>& keep) const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (keep(rows[i])) out.push_back(i);
    }
    return out;
  }

  /// MariaDB's order for `keys` (column, descending): NULL first ascending
  /// and last descending, numbers as numbers, dates and text byte by byte
  /// (utf8mb4_nopad_bin), ties by file order — backwards when the last key
  /// is descending.
  std::vector<std::size_t> Sorted(std::vector<std::size_t> indexes,
                                  const std::vector<std::pair<std::size_t, bool>>& keys) const {
    bool backwards = !keys.empty() && keys.back().second;
    std::sort(indexes.begin(), indexes.end(), [&](std::size_t a, std::size_t b) {
      for (const auto& [column, descending] : keys) {
        bool null_a = Null(a, column), null_b = Null(b, column);
        int order = 0;
        if (null_a || null_b) {
          order = null_a == null_b ? 0 : (null_a ? -1 : 1);
        } else if (IsNumeric(types[column])) {
          double x = std::stod(rows[a][column]), y = std::stod(rows[b][column]);
          order = x < y ? -1 : (x > y ? 1 : 0);
        } else {
          int c = rows[a][column].compare(rows[b][column]);
          order = c < 0 ? -1 : (c > 0 ? 1 : 0);
        }
        if (order != 0) return descending ? order > 0 : order < 0;
      }
      return backwards ? a > b : a < b;  // ties: file order
    });
    return indexes;
  }
};

// ---- answers --------------------------------------------------------------

/// An answer's rows as text: strings as they are, numbers as parsed doubles
/// printed back, null as nullopt.
using AnswerRow = std::vector<std::optional<std::string>>;

struct JsonPage {
  std::vector<std::string> keys;  // of the first row
  std::vector<AnswerRow> rows;
  std::optional<std::uint64_t> total;
  std::uint64_t offset = 0, limit = 0;
  std::optional<std::string> next_cursor;
  std::string table;
};

std::string NumberText(double value) {
  std::ostringstream s;
  s.precision(17);
  s << value;
  return s.str();
}

AnswerRow RowOf(simdjson::dom::object object, std::vector<std::string>* keys) {
  AnswerRow row;
  for (auto [key, value] : object) {
    if (keys != nullptr) keys->emplace_back(key);
    switch (value.type()) {
      case simdjson::dom::element_type::NULL_VALUE:
        row.emplace_back(std::nullopt);
        break;
      case simdjson::dom::element_type::STRING:
        row.emplace_back(std::string(std::string_view(value)));
        break;
      case simdjson::dom::element_type::INT64:
        row.emplace_back(std::to_string(int64_t(value)));
        break;
      case simdjson::dom::element_type::UINT64:
        row.emplace_back(std::to_string(uint64_t(value)));
        break;
      default:
        row.emplace_back(NumberText(double(value)));
    }
  }
  return row;
}

JsonPage ParsePage(const std::string& body) {
  JsonPage page;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body).get(root) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not JSON: " << body.substr(0, 300);
    return page;
  }
  std::string_view table;
  if (root["table"].get(table) == simdjson::SUCCESS) page.table = table;
  std::uint64_t total = 0;
  if (root["total"].get(total) == simdjson::SUCCESS) page.total = total;
  EXPECT_EQ(root["offset"].get(page.offset), simdjson::SUCCESS);
  EXPECT_EQ(root["limit"].get(page.limit), simdjson::SUCCESS);
  std::string_view cursor;
  if (root["next_cursor"].get(cursor) == simdjson::SUCCESS) page.next_cursor = std::string(cursor);
  simdjson::dom::array rows;
  EXPECT_EQ(root["rows"].get(rows), simdjson::SUCCESS) << body.substr(0, 300);
  bool first = true;
  for (simdjson::dom::element row : rows) {
    page.rows.push_back(RowOf(row.get_object(), first ? &page.keys : nullptr));
    first = false;
  }
  return page;
}

std::vector<AnswerRow> ParseNdjson(const std::string& body, std::vector<std::string>* keys) {
  std::vector<AnswerRow> rows;
  std::size_t at = 0;
  simdjson::dom::parser parser;
  while (at < body.size()) {
    auto end = body.find('\n', at);
    EXPECT_NE(end, std::string::npos) << "NDJSON line without a newline";
    if (end == std::string::npos) break;
    simdjson::dom::element line;
    EXPECT_EQ(parser.parse(body.substr(at, end - at)).get(line), simdjson::SUCCESS);
    rows.push_back(RowOf(line.get_object(), rows.empty() ? keys : nullptr));
    at = end + 1;
  }
  return rows;
}

std::string Gunzip(const std::string& data) {
  glue::GzipInflater inflater;
  std::string out;
  EXPECT_TRUE(inflater.Feed(data, [&](std::string_view piece) { out.append(piece); })) << inflater.error();
  EXPECT_TRUE(inflater.Finish());
  return out;
}

std::string HeaderValue(const std::string& headers, const std::string& name) {
  std::string lower = Lower(headers);
  auto at = lower.rfind("\n" + Lower(name) + ":");  // the last response's (after a 100)
  if (at == std::string::npos) return "";
  at += name.size() + 2;
  auto end = headers.find('\r', at);
  std::string value = headers.substr(at, end - at);
  while (!value.empty() && value.front() == ' ') value.erase(value.begin());
  return value;
}

std::string Encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':' || c == ',' || c == '*') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

/// Source cell vs answer cell: numbers compare as numbers, NULL as missing,
/// text exactly.
void ExpectSameCell(const Source& source, std::size_t row, std::size_t column, const std::optional<std::string>& got,
                    const std::string& where) {
  const std::string& want = source.rows[row][column];
  if (source.Null(row, column)) {
    EXPECT_FALSE(got.has_value() && !got->empty()) << where;
    return;
  }
  ASSERT_TRUE(got.has_value()) << where;
  if (IsNumeric(source.types[column])) {
    EXPECT_NEAR(std::stod(want), std::stod(*got), 1e-9) << where;
  } else {
    EXPECT_EQ(want, *got) << where;
  }
}

// ---- the fixture: one database, three tables, one server for the suite -----

class TableQueryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto db = MariadbFromEnv();
    if (!db) return;  // each test skips (or fails) in SetUp
    db_ = *db;
    setup_error_ = Load();
    if (!setup_error_.empty()) return;
    server_ = std::make_unique<SluiceProcess>();
    server_->WriteConf("max_page_rows = 100000\n",
                       MariadbSection("") + "[auth]\ntokens = read:" + kReadToken + ",admin:" + kAdminToken + "\n");
    std::string error;
    if (!server_->Start(&error)) {
      setup_error_ = "sluice serve did not start: " + error;
      return;
    }
    for (int i = 0; i < 100; ++i) {
      if (Get("/v1/tables").status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    setup_error_ = "the catalog never became ready:\n" + server_->Log();
  }

  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    SLUICE_REQUIRE_MARIADB(db);
    (void)db;
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
  }

  void TearDown() override {
    if (HasFailure() && server_) std::cerr << server_->Log().substr(server_->Log().size() > 4000 ? server_->Log().size() - 4000 : 0);
  }

  static std::string MariadbSection(const std::string& extra) {
    return "[mariadb]\nhost = 127.0.0.1\nport = " + std::to_string(db_.port) + "\nuser = " + db_.user +
           "\npassword = " + db_.password + "\ndatabase = " + kDatabase + "\n" + extra +
           "[s3]\nendpoint = http://127.0.0.1:9\n";
  }

  /// Loads the three tables with `sluice ingest` (replace: reruns are fine).
  static std::string Load() {
    int rc = 0;
    std::string out = RunCommand("mariadb --no-defaults -S " + db_.root_socket +
                                     " -uroot -e 'CREATE DATABASE IF NOT EXISTS " + kDatabase + "' 2>&1",
                                 &rc);
    if (rc != 0) return "cannot create the database: " + out;
    std::string dir = "/tmp/sluice-query-test-" + std::to_string(::getpid());
    RunCommand("mkdir -p " + dir);
    {
      std::ofstream conf(dir + "/ingest.conf");
      conf << MariadbSection("");
    }
    {
      std::ofstream unicode(dir + "/cities.csv", std::ios::binary);
      unicode << "city,n,note\n"
                 "Z\xC3\xBCrich,1,a\n"
                 "ZURICH,2,b\n"
                 "zurich,3,\n"
                 "\xC3\x89lan,4,\"with, comma\"\n"
                 "elan,5,\"say \"\"hi\"\"\"\n"
                 "a_b%c,6,x\n"
                 ",7,y\n"
                 "zurich ,8,z\n";
    }
    for (const auto& [file, table] : std::vector<std::pair<std::string, std::string>>{
             {kTitanicCsv, "titanic"}, {kPlaysCsv, "plays"}, {dir + "/cities.csv", "cities"}}) {
      out = RunCommand(std::string(SLUICE_BINARY) + " ingest " + file + " --table " + table +
                           " --mode replace --no-s3 -c " + dir + "/ingest.conf 2>&1",
                       &rc);
      // The same bytes again (a rerun): the table already holds them.
      if (rc != 0 && out.find("duplicate_upload") == std::string::npos) {
        return "sluice ingest " + table + " failed: " + out;
      }
    }
    RunCommand("rm -rf " + dir);
    return {};
  }

  static FetchResult Get(const std::string& path, std::vector<std::string> headers = {},
                         const std::string& token = kReadToken) {
    headers.push_back("Authorization: Bearer " + token);
    return Fetch(server_->Url(path), {.headers = headers});
  }

  /// The page of a JSON query; fails the test on a non-200.
  static JsonPage Page(const std::string& path) {
    auto result = Get(path);
    EXPECT_EQ(result.status, 200) << path << "\n" << result.body.substr(0, 500);
    return ParsePage(result.body);
  }

  /// Every titanic PassengerId a filter query returns (one page, file order).
  static std::vector<std::string> Ids(const std::string& filters) {
    JsonPage page = Page("/v1/tables/titanic/rows?select=PassengerId&limit=1000&count=exact&" + filters);
    std::vector<std::string> ids;
    for (const auto& row : page.rows) ids.push_back(row[0].value_or("null"));
    EXPECT_EQ(page.total, ids.size()) << filters;
    return ids;
  }

  static const Source& Titanic() { return Loaded("titanic", kTitanicCsv); }
  static const Source& Plays() { return Loaded("plays", kPlaysCsv); }

  static const Source& Loaded(const std::string& table, const std::string& path) {
    static std::map<std::string, Source> cache;
    auto found = cache.find(table);
    if (found != cache.end()) return found->second;
    Source source;
    Table csv = ParseCsv(ReadFile(path));
    source.header = csv.front();
    source.rows.assign(csv.begin() + 1, csv.end());
    auto schema = Get("/v1/tables/" + table);
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    EXPECT_EQ(parser.parse(schema.body).get(root), simdjson::SUCCESS) << schema.body;
    for (simdjson::dom::element column : root["columns"].get_array()) {
      source.types.emplace_back(std::string_view(column["type"]));
    }
    EXPECT_EQ(source.types.size(), source.header.size());
    return cache.emplace(table, std::move(source)).first->second;
  }

  /// The PassengerIds of `indexes`.
  static std::vector<std::string> IdsOf(const std::vector<std::size_t>& indexes) {
    std::vector<std::string> ids;
    for (std::size_t i : indexes) ids.push_back(Titanic().rows[i][0]);
    return ids;
  }

  /// Pages through a query by cursor and by offset; both must list `want` (row
  /// indexes) exactly once, in order.
  static void ExpectPaging(const std::string& table, const std::string& query, std::size_t limit,
                    const std::vector<std::size_t>& want, const std::function<std::string(const AnswerRow&)>& key,
                    const Source& source, std::size_t key_column) {
    std::vector<std::string> expected;
    for (std::size_t i : want) expected.push_back(source.rows[i][key_column]);
    std::string base = "/v1/tables/" + table + "/rows?" + query + "&limit=" + std::to_string(limit);
    // By cursor.
    std::vector<std::string> by_cursor;
    std::optional<std::string> cursor;
    int pages = 0;
    do {
      JsonPage page = Page(base + (cursor ? "&cursor=" + *cursor : ""));
      for (const auto& row : page.rows) by_cursor.push_back(key(row));
      cursor = page.next_cursor;
      ASSERT_LT(++pages, 10000);
      if (cursor) {
        EXPECT_EQ(page.rows.size(), limit);
      }
    } while (cursor);
    EXPECT_EQ(by_cursor, expected) << query << " (cursor)";
    // By offset.
    std::vector<std::string> by_offset;
    for (std::size_t offset = 0;; offset += limit) {
      JsonPage page = Page(base + "&offset=" + std::to_string(offset));
      for (const auto& row : page.rows) by_offset.push_back(key(row));
      if (page.rows.size() < limit) break;
    }
    EXPECT_EQ(by_offset, expected) << query << " (offset)";
  }

  static inline MariadbTarget db_;
  static inline std::string setup_error_;
  static inline std::unique_ptr<SluiceProcess> server_;
};

// ---- the example, every operator -----------------------------------------

TEST_F(TableQueryTest, TheOriginalToolsExampleWorksAsWritten) {
  auto result = Get("/v1/tables/titanic/rows?limit=0,2&sex=male&name=like:Braund&ticket=like:A&fare=gt:7"
                    "&sort=name:desc,sex:asc");
  ASSERT_EQ(result.status, 200) << result.body;
  EXPECT_NE(HeaderValue(result.headers, "Content-Type").find("application/json"), std::string::npos);
  JsonPage page = ParsePage(result.body);
  EXPECT_EQ(page.table, "titanic");
  EXPECT_EQ(page.total, 1u);
  EXPECT_EQ(page.offset, 0u);
  EXPECT_EQ(page.limit, 2u);
  EXPECT_FALSE(page.next_cursor.has_value());
  ASSERT_EQ(page.rows.size(), 1u);
  EXPECT_EQ(page.keys, Titanic().header);  // mixed-case names as in the file
  EXPECT_EQ(page.rows[0][0], "1");
  EXPECT_EQ(page.rows[0][3], "Braund, Mr. Owen Harris");
  EXPECT_EQ(page.rows[0][10], "");  // an empty TEXT field is '', not null
  // Typed columns are JSON numbers.
  EXPECT_NE(result.body.find("\"PassengerId\":1,"), std::string::npos) << result.body;
  EXPECT_NE(result.body.find("\"Fare\":7.25"), std::string::npos) << result.body;
}

TEST_F(TableQueryTest, EveryOperatorMatchesTheCsv) {
  const Source& t = Titanic();
  std::size_t name = t.Column("Name"), sex = t.Column("Sex"), age = t.Column("Age"), fare = t.Column("Fare"),
              pclass = t.Column("Pclass"), ticket = t.Column("Ticket"), cabin = t.Column("Cabin"),
              embarked = t.Column("Embarked");
  ASSERT_TRUE(IsNumeric(t.types[age]) && IsNumeric(t.types[fare]) && IsText(t.types[ticket]));
  auto num = [&](const std::vector<std::string>& r, std::size_t c) { return std::stod(r[c]); };
  struct Case {
    std::string query;
    std::function<bool(const std::vector<std::string>&)> keep;
  };
  const std::vector<Case> cases = {
      {"sex=male", [&](auto& r) { return r[sex] == "male"; }},
      {"sex=eq:female", [&](auto& r) { return r[sex] == "female"; }},
      {"SEX=Male", [&](auto&) { return false; }},  // names without case, values exact
      {"embarked=neq:S", [&](auto& r) { return r[embarked] != "S"; }},
      {"pclass=1", [&](auto& r) { return r[pclass] == "1"; }},
      {"age=neq:22", [&](auto& r) { return !r[age].empty() && num(r, age) != 22; }},
      {"fare=gt:7", [&](auto& r) { return num(r, fare) > 7; }},
      {"fare=gte:7.25", [&](auto& r) { return num(r, fare) >= 7.25; }},
      {"age=lt:5.5", [&](auto& r) { return !r[age].empty() && num(r, age) < 5.5; }},
      {"age=lte:1", [&](auto& r) { return !r[age].empty() && num(r, age) <= 1; }},
      {"age=gt:30&age=lt:40&sex=female",
       [&](auto& r) { return !r[age].empty() && num(r, age) > 30 && num(r, age) < 40 && r[sex] == "female"; }},
      {"ticket=gt:300000",  // TEXT, numeric value: numeric-looking tickets compare as numbers
       [&](auto& r) {
         auto v = AsNumber(r[ticket]);
         return v && *v > 300000;
       }},
      {"ticket=lte:1601",
       [&](auto& r) {
         auto v = AsNumber(r[ticket]);
         return v && *v <= 1601;
       }},
      {"name=lt:B", [&](auto& r) { return r[name] < std::string("B"); }},  // TEXT, text value: as text
      {"cabin=gte:F", [&](auto& r) { return r[cabin] >= std::string("F"); }},
      {"name=like:Braund", [&](auto& r) { return r[name].find("Braund") != std::string::npos; }},
      {"name=like:braund", [&](auto& r) { return r[name].find("braund") != std::string::npos; }},
      {"name=like:*Mrs.*(*)", [&](auto& r) {
         auto m = r[name].find("Mrs.");
         auto open = r[name].find('(', m == std::string::npos ? 0 : m);
         return m != std::string::npos && open != std::string::npos && r[name].back() == ')';
       }},
      {"ticket=like:A*", [&](auto& r) { return r[ticket].rfind("A", 0) == 0; }},
      {"ticket=like:*0", [&](auto& r) { return !r[ticket].empty() && r[ticket].back() == '0'; }},
      {"fare=like:*.25*", [&](auto& r) { return r[fare].find(".25") != std::string::npos; }},  // its text
      {"pclass=like:1", [&](auto& r) { return r[pclass] == "1"; }},
      {"name=ilike:BRAUND", [&](auto& r) { return Lower(r[name]).find("braund") != std::string::npos; }},
      {"name=ilike:*master*", [&](auto& r) { return Lower(r[name]).find("master") != std::string::npos; }},
      {"embarked=in:C,Q", [&](auto& r) { return r[embarked] == "C" || r[embarked] == "Q"; }},
      {"pclass=in:1,2", [&](auto& r) { return r[pclass] == "1" || r[pclass] == "2"; }},
      {"name=in:" + Encode("\"Braund, Mr. Owen Harris\",\"Heikkinen, Miss. Laina\",nobody"),
       [&](auto& r) { return r[name] == "Braund, Mr. Owen Harris" || r[name] == "Heikkinen, Miss. Laina"; }},
      {"cabin=is:null", [&](auto& r) { return r[cabin].empty(); }},
      {"cabin=is:notnull", [&](auto& r) { return !r[cabin].empty(); }},
      {"age=is:null", [&](auto& r) { return r[age].empty(); }},
      {"age=is:notnull&embarked=is:null", [&](auto& r) { return !r[age].empty() && r[embarked].empty(); }},
      {"where.name=like:Mr.", [&](auto& r) { return r[name].find("Mr.") != std::string::npos; }},
  };
  for (const auto& c : cases) {
    std::vector<std::string> want = IdsOf(t.Where(c.keep));
    EXPECT_EQ(Ids(c.query), want) << c.query;
  }
  EXPECT_GT(Ids("ticket=gt:300000").size(), 10u);
}

TEST_F(TableQueryTest, LikeIlikeEqAndIsOnUnicodeText) {
  auto cities = [&](const std::string& filter) {
    JsonPage page = Page("/v1/tables/cities/rows?select=n&" + filter);
    std::vector<std::string> ns;
    for (const auto& row : page.rows) ns.push_back(*row[0]);
    return ns;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(cities("city=" + Encode("Zürich")), (V{"1"}));
  EXPECT_EQ(cities("city=zurich"), (V{"3"}));            // case, accents and trailing spaces count
  EXPECT_EQ(cities("city=like:zurich"), (V{"3", "8"}));  // a substring
  EXPECT_EQ(cities("city=ilike:zurich"), (V{"1", "2", "3", "8"}));
  EXPECT_EQ(cities("city=ilike:" + Encode("ÉLAN")), (V{"4", "5"}));
  EXPECT_EQ(cities("city=like:_"), (V{"6"}));  // % and _ are literal characters
  EXPECT_EQ(cities("city=like:" + Encode("%")), (V{"6"}));
  EXPECT_EQ(cities("city=like:z*h"), (V{"3"}));  // anchored with a wildcard
  EXPECT_EQ(cities("city=is:null"), (V{"7"}));
  EXPECT_EQ(cities("note=is:null"), (V{"3"}));
  EXPECT_EQ(cities("note=" + Encode("with, comma")), (V{"4"}));
  EXPECT_EQ(cities("note=in:" + Encode("\"with, comma\",\"say \"\"hi\"\"\"")), (V{"4", "5"}));
  EXPECT_EQ(cities("city=in:" + Encode("Zürich,elan")), (V{"1", "5"}));
  EXPECT_EQ(cities("city=neq:zurich&n=lt:5"), (V{"1", "2", "4"}));
}

TEST_F(TableQueryTest, CountModesAndLimitWithAnOffset) {
  const Source& t = Titanic();
  std::size_t sex = t.Column("Sex"), age = t.Column("Age");
  auto keep = [&](auto& r) { return r[sex] == "male" && !r[age].empty() && std::stod(r[age]) > 30; };
  std::uint64_t want = t.Where(keep).size();
  std::string filters = "/v1/tables/titanic/rows?select=PassengerId&sex=male&age=gt:30&limit=5";
  EXPECT_EQ(Page(filters + "&count=exact").total, want);
  auto estimate = Page(filters + "&count=estimate").total;  // the optimizer's guess: rough, but a count
  ASSERT_TRUE(estimate.has_value());
  EXPECT_GT(*estimate, 0u);
  EXPECT_LE(*estimate, 2 * 891u);
  EXPECT_FALSE(Page(filters + "&count=none").total.has_value());
  auto csv = Get(filters + "&count=exact&format=csv");
  EXPECT_EQ(HeaderValue(csv.headers, "X-Total-Count"), std::to_string(want));
  EXPECT_EQ(HeaderValue(Get(filters + "&count=none&format=csv").headers, "X-Total-Count"), "");
  // Without filters the catalog's count is exact and free, whatever count says.
  EXPECT_EQ(Page("/v1/tables/titanic/rows?limit=1&count=none").total, 891u);
  // limit=offset,N is offset=…&limit=N.
  JsonPage both = Page("/v1/tables/titanic/rows?select=PassengerId&limit=10,5");
  JsonPage apart = Page("/v1/tables/titanic/rows?select=PassengerId&offset=10&limit=5");
  EXPECT_EQ(both.offset, 10u);
  EXPECT_EQ(both.limit, 5u);
  EXPECT_EQ(both.rows, apart.rows);
  ASSERT_EQ(both.rows.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(both.rows[i][0], t.rows[10 + i][0]);
}

// ---- select, sort, formats -------------------------------------------------

TEST_F(TableQueryTest, SelectAndSortWithMixedCaseNames) {
  const Source& t = Titanic();
  JsonPage page = Page("/v1/tables/titanic/rows?select=name,AGE,passengerid&sort=AGE:desc,NAME&limit=20");
  EXPECT_EQ(page.keys, (std::vector<std::string>{"Name", "Age", "PassengerId"}));
  std::vector<std::size_t> all(t.rows.size());
  std::iota(all.begin(), all.end(), 0);
  auto want = t.Sorted(all, {{t.Column("Age"), true}, {t.Column("Name"), false}});
  ASSERT_EQ(page.rows.size(), 20u);
  for (std::size_t i = 0; i < 20; ++i) EXPECT_EQ(page.rows[i][2], t.rows[want[i]][0]) << i;
  EXPECT_EQ(page.total, 891u);
  EXPECT_TRUE(page.next_cursor.has_value());
}

TEST_F(TableQueryTest, CsvAndNdjsonParseBackToTheSameRows) {
  const Source& t = Titanic();
  auto csv = Get("/v1/tables/titanic/rows?format=csv&limit=1000");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(HeaderValue(csv.headers, "Content-Type").rfind("text/csv", 0), 0u);
  EXPECT_EQ(HeaderValue(csv.headers, "X-Total-Count"), "891");
  Table parsed = ParseCsv(csv.body);
  ASSERT_EQ(parsed.size(), 892u);
  EXPECT_EQ(parsed[0], t.header);
  for (std::size_t r = 0; r < 891; ++r) {
    ASSERT_EQ(parsed[r + 1].size(), t.header.size()) << r;
    for (std::size_t c = 0; c < t.header.size(); ++c) {
      ExpectSameCell(t, r, c, parsed[r + 1][c], "csv row " + std::to_string(r) + " col " + t.header[c]);
    }
  }
  EXPECT_EQ(csv.body.substr(0, 14), "PassengerId,Su");
  EXPECT_NE(csv.body.find("\r\n1,0,3,\"Braund, Mr. Owen Harris\",male,"), std::string::npos);

  auto by_accept = Get("/v1/tables/titanic/rows?limit=1000", {"Accept: text/csv"});
  EXPECT_EQ(by_accept.body, csv.body);

  auto ndjson = Get("/v1/tables/titanic/rows?limit=1000", {"Accept: application/x-ndjson"});
  ASSERT_EQ(ndjson.status, 200);
  EXPECT_EQ(HeaderValue(ndjson.headers, "Content-Type").rfind("application/x-ndjson", 0), 0u);
  EXPECT_EQ(HeaderValue(ndjson.headers, "X-Total-Count"), "891");
  std::vector<std::string> keys;
  auto rows = ParseNdjson(ndjson.body, &keys);
  EXPECT_EQ(keys, t.header);
  ASSERT_EQ(rows.size(), 891u);
  for (std::size_t r = 0; r < 891; ++r) {
    for (std::size_t c = 0; c < t.header.size(); ++c) {
      ExpectSameCell(t, r, c, rows[r][c], "ndjson row " + std::to_string(r) + " col " + t.header[c]);
    }
  }
  EXPECT_EQ(Get("/v1/tables/titanic/rows?format=ndjson&limit=1000").body, ndjson.body);
  // JSON says the same.
  JsonPage page = Page("/v1/tables/titanic/rows?limit=1000");
  ASSERT_EQ(page.rows.size(), 891u);
  for (std::size_t r = 0; r < 891; ++r) EXPECT_EQ(page.rows[r], rows[r]) << r;
}

TEST_F(TableQueryTest, GzipDecodesToTheSameBytes) {
  for (const std::string& path : {std::string("/v1/tables/titanic/rows?format=csv&limit=1000"),
                                  std::string("/v1/tables/titanic/rows?limit=3"),
                                  std::string("/v1/tables/plays/rows?format=csv&limit=100000"),
                                  std::string("/v1/tables/plays/rows?format=ndjson&limit=100000&sort=song")}) {
    auto plain = Get(path);
    auto gzipped = Get(path, {"Accept-Encoding: gzip"});
    ASSERT_EQ(gzipped.status, 200) << path;
    EXPECT_EQ(HeaderValue(gzipped.headers, "Content-Encoding"), "gzip") << path;
    EXPECT_LT(gzipped.body.size(), plain.body.size()) << path;
    EXPECT_EQ(Gunzip(gzipped.body), plain.body) << path;
    auto refused = Get(path, {"Accept-Encoding: gzip;q=0, identity"});
    EXPECT_EQ(HeaderValue(refused.headers, "Content-Encoding"), "") << path;
    EXPECT_EQ(refused.body, plain.body) << path;
  }
}

TEST_F(TableQueryTest, ABigAnswerIsStreamedInChunksAndComplete) {
  const Source& p = Plays();
  auto csv = Get("/v1/tables/plays/rows?format=csv&limit=100000");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(HeaderValue(csv.headers, "Transfer-Encoding"), "chunked");
  EXPECT_EQ(HeaderValue(csv.headers, "Content-Length"), "");
  Table parsed = ParseCsv(csv.body);
  ASSERT_EQ(parsed.size(), p.rows.size() + 1);
  for (std::size_t r = 0; r < p.rows.size(); ++r) {
    for (std::size_t c = 0; c < p.header.size(); ++c) ExpectSameCell(p, r, c, parsed[r + 1][c], "plays");
  }
}

// ---- paging ------------------------------------------------------------------


TEST_F(TableQueryTest, PagingThroughTitanicByCursorAndOffsetInManyOrders) {
  const Source& t = Titanic();
  std::vector<std::size_t> all(t.rows.size());
  std::iota(all.begin(), all.end(), 0);
  auto id = [](const AnswerRow& row) { return row[0].value_or("null"); };
  std::size_t age = t.Column("Age"), fare = t.Column("Fare"), name = t.Column("Name"), cabin = t.Column("Cabin"),
              embarked = t.Column("Embarked"), sex = t.Column("Sex"), pclass = t.Column("Pclass");
  struct Case {
    std::string sort;
    std::vector<std::pair<std::size_t, bool>> keys;
  };
  const std::vector<Case> cases = {
      {"", {}},                                              // file order
      {"age", {{age, false}}},                               // NULLs first, many ties
      {"age:desc", {{age, true}}},                           // NULLs last
      {"fare:desc,name", {{fare, true}, {name, false}}},     // DECIMAL keys
      {"cabin,embarked:desc", {{cabin, false}, {embarked, true}}},  // '' in text keys
      {"sex,pclass:desc,age", {{sex, false}, {pclass, true}, {age, false}}},
  };
  for (const auto& c : cases) {
    std::string query = "select=PassengerId" + (c.sort.empty() ? "" : "&sort=" + c.sort);
    ExpectPaging("titanic", query, 37, t.Sorted(all, c.keys), id, t, 0);
  }
  // With a filter too.
  auto women = t.Where([&](auto& r) { return r[sex] == "female"; });
  ExpectPaging("titanic", "select=PassengerId&sex=female&sort=age:desc", 25, t.Sorted(women, {{age, true}}), id, t,
               0);
}

TEST_F(TableQueryTest, PagingThroughPlaysByCursorAndOffset) {
  const Source& p = Plays();
  std::vector<std::size_t> all(p.rows.size());
  std::iota(all.begin(), all.end(), 0);
  std::size_t song = p.Column("Song"), date = p.Column("Date"), plays = p.Column("Number of Plays");
  // Rows have no unique column: compare whole rows as text.
  auto whole = [](const AnswerRow& row) {
    std::string out;
    for (const auto& cell : row) out += cell.value_or("\\N") + "|";
    return out;
  };
  auto want = p.Sorted(all, {{song, false}, {date, true}, {plays, false}});
  std::vector<std::string> expected;
  for (std::size_t i : want) {
    expected.push_back(p.rows[i][song] + "|" + p.rows[i][date] + "|" + std::to_string(std::stoll(p.rows[i][plays])) +
                       "|");
  }
  std::string base = "/v1/tables/plays/rows?sort=song,date:desc," + Encode("Number of Plays") + "&limit=5000";
  std::vector<std::string> by_cursor, by_offset;
  std::optional<std::string> cursor;
  do {
    JsonPage page = Page(base + (cursor ? "&cursor=" + *cursor : ""));
    for (const auto& row : page.rows) by_cursor.push_back(whole(row));
    cursor = page.next_cursor;
  } while (cursor && by_cursor.size() <= p.rows.size());
  EXPECT_EQ(by_cursor, expected);
  for (std::size_t offset = 0; offset < p.rows.size(); offset += 5000) {
    JsonPage page = Page(base + "&offset=" + std::to_string(offset));
    for (const auto& row : page.rows) by_offset.push_back(whole(row));
  }
  EXPECT_EQ(by_offset, expected);
}

TEST_F(TableQueryTest, TamperedOrForeignCursorsAre400) {
  JsonPage page = Page("/v1/tables/titanic/rows?select=PassengerId&sort=age&limit=5");
  ASSERT_TRUE(page.next_cursor.has_value());
  std::string cursor = *page.next_cursor;
  EXPECT_EQ(Get("/v1/tables/titanic/rows?select=PassengerId&sort=age&limit=5&cursor=" + cursor).status, 200);
  for (std::size_t i = 0; i < cursor.size(); i += 3) {
    std::string altered = cursor;
    altered[i] = altered[i] == 'A' ? 'B' : 'A';
    auto result = Get("/v1/tables/titanic/rows?select=PassengerId&sort=age&limit=5&cursor=" + altered);
    EXPECT_EQ(result.status, 400) << i;
    EXPECT_NE(result.body.find("\"param\":\"cursor\""), std::string::npos) << result.body;
    EXPECT_NE(result.body.find("invalid_cursor"), std::string::npos) << result.body;
  }
  EXPECT_EQ(Get("/v1/tables/titanic/rows?select=PassengerId&sort=age:desc&cursor=" + cursor).status, 400);
  EXPECT_EQ(Get("/v1/tables/titanic/rows?sort=age&sex=male&cursor=" + cursor).status, 400);
  EXPECT_EQ(Get("/v1/tables/plays/rows?sort=song&cursor=" + cursor).status, 400);
  EXPECT_EQ(Get("/v1/tables/titanic/rows?cursor=garbage").status, 400);
}

// ---- aggregates ----------------------------------------------------------------

TEST_F(TableQueryTest, PlaysTotalPerSongAndDate) {
  const Source& p = Plays();
  std::size_t song = p.Column("Song"), date = p.Column("Date"), plays = p.Column("Number of Plays");
  std::map<std::pair<std::string, std::string>, long long> sums;
  std::map<std::pair<std::string, std::string>, long long> counts;
  for (const auto& row : p.rows) {
    sums[{row[song], row[date]}] += std::stoll(row[plays]);
    counts[{row[song], row[date]}] += 1;
  }
  auto csv = Get("/v1/tables/plays/aggregate?group_by=song,date&sum=" + Encode("Number of Plays") +
                 "&format=csv&limit=100000");
  ASSERT_EQ(csv.status, 200) << csv.body;
  Table parsed = ParseCsv(csv.body);
  ASSERT_EQ(parsed.size(), sums.size() + 1);
  EXPECT_EQ(parsed[0], (std::vector<std::string>{"Song", "Date", "sum_Number of Plays"}));
  std::size_t i = 1;
  for (const auto& [key, sum] : sums) {  // std::map order = the answer's (byte order of song, then date)
    EXPECT_EQ(parsed[i][0], key.first);
    EXPECT_EQ(parsed[i][1], key.second);
    EXPECT_EQ(parsed[i][2], std::to_string(sum)) << key.first << " " << key.second;
    ++i;
  }
  // JSON, sorted by the sum, with count; paged by cursor.
  std::vector<std::pair<long long, std::pair<std::string, std::string>>> by_sum;
  for (const auto& [key, sum] : sums) by_sum.push_back({sum, key});
  std::stable_sort(by_sum.begin(), by_sum.end(), [](auto& a, auto& b) { return a.first > b.first; });
  std::vector<std::string> got;
  std::optional<std::string> cursor;
  std::string base = "/v1/tables/plays/aggregate?group_by=song,date&sum=" + Encode("Number of Plays") +
                     "&count=true&sort=" + Encode("sum_number of plays") + ":desc&limit=7";
  int pages = 0;
  do {
    JsonPage page = Page(base + (cursor ? "&cursor=" + *cursor : ""));
    if (pages == 0) {
      EXPECT_EQ(page.keys, (std::vector<std::string>{"Song", "Date", "sum_Number of Plays", "count"}));
    }
    for (const auto& row : page.rows) {
      got.push_back(*row[2]);
      std::pair<std::string, std::string> group{*row[0], *row[1]};
      EXPECT_EQ(std::stoll(*row[3]), counts[group]);
      EXPECT_EQ(std::stoll(*row[2]), sums[group]);
    }
    cursor = page.next_cursor;
  } while (cursor && ++pages < 1000);
  std::vector<std::string> want;
  for (const auto& [sum, key] : by_sum) want.push_back(std::to_string(sum));
  EXPECT_EQ(got, want);
}

TEST_F(TableQueryTest, AggregatesOverTitanicMatchTheCsv) {
  const Source& t = Titanic();
  std::size_t sex = t.Column("Sex"), age = t.Column("Age"), fare = t.Column("Fare");
  struct Stats {
    double age_sum = 0;
    int age_n = 0;
    double fare_min = 1e18, fare_max = -1e18;
    int count = 0;
  };
  std::map<std::string, Stats> by_sex;
  for (const auto& row : t.rows) {
    if (row[fare].empty()) continue;
    Stats& s = by_sex[row[sex]];
    if (!row[age].empty()) {
      s.age_sum += std::stod(row[age]);
      ++s.age_n;
    }
    s.fare_min = std::min(s.fare_min, std::stod(row[fare]));
    s.fare_max = std::max(s.fare_max, std::stod(row[fare]));
    ++s.count;
  }
  JsonPage page = Page("/v1/tables/titanic/aggregate?group_by=sex&avg=age&min=fare&max=fare&count=true&fare=is:notnull");
  ASSERT_EQ(page.rows.size(), 2u);
  EXPECT_EQ(page.keys, (std::vector<std::string>{"Sex", "avg_Age", "min_Fare", "max_Fare", "count"}));
  EXPECT_EQ(page.total, 2u);  // the whole answer fits the page: total is known
  for (const auto& row : page.rows) {
    const Stats& s = by_sex[*row[0]];
    EXPECT_NEAR(std::stod(*row[1]), s.age_sum / s.age_n, 1e-4);
    EXPECT_NEAR(std::stod(*row[2]), s.fare_min, 1e-9);
    EXPECT_NEAR(std::stod(*row[3]), s.fare_max, 1e-9);
    EXPECT_EQ(std::stoi(*row[4]), s.count);
  }
  JsonPage filtered = Page("/v1/tables/titanic/aggregate?count=true&sex=female&age=lt:18");
  ASSERT_EQ(filtered.rows.size(), 1u);
  EXPECT_EQ(*filtered.rows[0][0],
            std::to_string(t.Where([&](auto& r) {
                              return r[sex] == "female" && !r[age].empty() && std::stod(r[age]) < 18;
                            }).size()));
}

// ---- errors -------------------------------------------------------------------

TEST_F(TableQueryTest, BadParametersAre400NamingTheParameter) {
  struct Case {
    std::string query, code, param;
  };
  const std::vector<Case> cases = {
      {"colour=red", "unknown_parameter", "colour"},
      {"name=nte:x", "unknown_operator", "name"},
      {"fare=gt:cheap", "invalid_parameter", "fare"},
      {"select=name,nope", "unknown_column", "select"},
      {"sort=nope:desc", "unknown_column", "sort"},
      {"sort=name:sideways", "unknown_column", "sort"},
      {"limit=100001", "invalid_parameter", "limit"},
      {"limit=-1", "invalid_parameter", "limit"},
      {"count=lots", "invalid_parameter", "count"},
      {"format=xml", "invalid_parameter", "format"},
      {"cabin=is:empty", "invalid_parameter", "cabin"},
      {"where.nope=1", "unknown_column", "where.nope"},
      {Encode("name`; DROP TABLE titanic; --") + "=1", "unknown_parameter", "name`; DROP TABLE titanic; --"},
  };
  for (const auto& c : cases) {
    auto result = Get("/v1/tables/titanic/rows?" + c.query);
    EXPECT_EQ(result.status, 400) << c.query;
    EXPECT_NE(result.body.find("\"code\":\"" + c.code + "\""), std::string::npos) << c.query << " " << result.body;
    std::string param_json;
    core::AppendJsonString(param_json, c.param);
    EXPECT_NE(result.body.find("\"param\":" + param_json), std::string::npos) << c.query << " " << result.body;
  }
  auto agg = Get("/v1/tables/plays/aggregate?group_by=song&sum=plays");
  EXPECT_EQ(agg.status, 400);
  EXPECT_NE(agg.body.find("\"param\":\"sum\""), std::string::npos) << agg.body;
  auto missing = Get("/v1/tables/no_such_table/rows");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("not_found"), std::string::npos);
  EXPECT_EQ(Get("/v1/tables/no_such_table").status, 404);
  EXPECT_EQ(Get("/v1/tables/sluice_uploads/rows").status, 404);  // catalog tables are no tables
  for (const std::string& hostile : {std::string("titanic`; DROP TABLE titanic; --"), std::string("titanic' OR '1'='1"),
                                     std::string("titanic\0x", 9), std::string("titanic/*"), std::string("t\xC3\xA4")}) {
    EXPECT_EQ(Get("/v1/tables/" + Encode(hostile) + "/rows").status, 404) << hostile;
    EXPECT_EQ(Get("/v1/tables/" + Encode(hostile) + "/aggregate?count=true").status, 404) << hostile;
  }
  // Injection in a value is just a value; the table is still there.
  EXPECT_TRUE(Ids("name=" + Encode("x'; DROP TABLE titanic; --")).empty());
  EXPECT_EQ(Ids("name=" + Encode("\\' OR 1=1 -- ")).size(), 0u);
  EXPECT_EQ(Page("/v1/tables/titanic/rows?limit=1").total, 891u);
  // Unauthenticated.
  EXPECT_EQ(Fetch(server_->Url("/v1/tables/titanic/rows")).status, 401);
}

TEST_F(TableQueryTest, ListAndSchema) {
  auto list = Get("/v1/tables");
  ASSERT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("\"name\":\"titanic\",\"rows\":891"), std::string::npos) << list.body;
  EXPECT_NE(list.body.find("\"name\":\"plays\""), std::string::npos);
  auto schema = Get("/v1/tables/plays");
  ASSERT_EQ(schema.status, 200);
  EXPECT_NE(schema.body.find("\"name\":\"Number of Plays\",\"header\":\"Number of Plays\",\"type\":\"BIGINT\""),
            std::string::npos)
      << schema.body;
}

// ---- the slow reader, the client that leaves ----------------------------------

TEST_F(TableQueryTest, ASlowReaderGetsEverythingAndALeavingClientFreesItsConnection) {
  std::string request = "GET /v1/tables/plays/rows?format=ndjson&limit=100000 HTTP/1.1\r\nHost: x\r\n"
                        "Authorization: Bearer " + kReadToken + "\r\n\r\n";
  auto fast = Get("/v1/tables/plays/rows?format=ndjson&limit=100000");
  ASSERT_EQ(fast.status, 200);
  {
    RawConnection slow(server_->port());
    ASSERT_TRUE(slow.Send(request));
    std::this_thread::sleep_for(std::chrono::milliseconds(700));  // the server fills the socket and waits
    auto response = slow.ReadResponse(std::chrono::seconds(30));
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, fast.body);
  }
  // Clients that ask for a lot and leave without reading.
  for (int i = 0; i < 8; ++i) {
    RawConnection leaving(server_->port());
    ASSERT_TRUE(leaving.Send(request));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // The pool is healthy: more queries than it has connections still answer.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Page("/v1/tables/titanic/rows?limit=1").total, 891u);
}

// ---- DELETE, indexes ------------------------------------------------------------

TEST_F(TableQueryTest, IndexesAndDeleteWithTheirRoles) {
  // Fresh bytes each run (sluice refuses to load the same bytes twice).
  std::string csv = server_->dir() + "/doomed.csv";
  {
    std::ofstream out(csv, std::ios::binary);
    out << ReadFile(kTitanicCsv) << "\n99999,1,1,\"Run " << ::getpid() << "-"
        << std::chrono::steady_clock::now().time_since_epoch().count() << "\",male,99,0,0,X,1,,S\n";
  }
  int rc = 0;
  std::string out = RunCommand(std::string(SLUICE_BINARY) + " ingest " + csv +
                                   " --table doomed --mode replace --no-s3 -c " + server_->conf_path() + " 2>&1",
                               &rc);
  ASSERT_EQ(rc, 0) << out;
  auto post = [&](const std::string& body, const std::string& token) {
    return Fetch(server_->Url("/v1/tables/doomed/indexes"),
                 {.method = "POST", .body = body,
                  .headers = {"Authorization: Bearer " + token, "Content-Type: application/json"}});
  };
  EXPECT_EQ(post(R"({"columns":["Sex","Age"]})", kReadToken).status, 403);
  auto created = post(R"({"columns":["sex","age"]})", kAdminToken);
  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_NE(created.body.find("\"columns\":[\"Sex\",\"Age\"]"), std::string::npos) << created.body;
  EXPECT_EQ(post(R"({"columns":["Sex","Age"]})", kAdminToken).status, 409);
  EXPECT_EQ(post(R"({"columns":["nope"]})", kAdminToken).status, 400);
  EXPECT_EQ(post(R"({"columns":[]})", kAdminToken).status, 400);
  EXPECT_EQ(post("not json", kAdminToken).status, 400);
  // The index serves the same answers (titanic's, plus the run's own row).
  EXPECT_EQ(*Page("/v1/tables/doomed/rows?sex=male&age=gt:60&select=PassengerId&count=exact").total,
            *Page("/v1/tables/titanic/rows?sex=male&age=gt:60&select=PassengerId&count=exact").total + 1);

  auto del = [&](const std::string& token) {
    return Fetch(server_->Url("/v1/tables/doomed"),
                 {.method = "DELETE", .headers = {"Authorization: Bearer " + token}});
  };
  EXPECT_EQ(del(kReadToken).status, 403);
  EXPECT_EQ(Get("/v1/tables/doomed/rows?limit=1").status, 200);
  EXPECT_EQ(del(kAdminToken).status, 204);
  EXPECT_EQ(Get("/v1/tables/doomed").status, 404);
  EXPECT_EQ(Get("/v1/tables/doomed/rows").status, 404);
  EXPECT_EQ(del(kAdminToken).status, 404);
  EXPECT_EQ(RunCommand("mariadb --no-defaults -S " + db_.root_socket + " -uroot -N -B -e \"SELECT COUNT(*) FROM "
                       "information_schema.TABLES WHERE TABLE_SCHEMA='" + kDatabase + "' AND TABLE_NAME='doomed'\""),
            "0\n");
  EXPECT_EQ(Fetch(server_->Url("/v1/tables/sluice_tables"),
                  {.method = "DELETE", .headers = {"Authorization: Bearer " + kAdminToken}})
                .status,
            404);
}

// ---- max_statement_time ------------------------------------------------------------

TEST_F(TableQueryTest, AQueryPastMaxStatementTimeIs503WithAClearMessage) {
  SluiceProcess strict;
  strict.WriteConf("", MariadbSection("max_statement_time = 1ms\n"));
  std::string error;
  ASSERT_TRUE(strict.Start(&error)) << error;
  FetchResult result;
  for (int i = 0; i < 100; ++i) {
    result = Fetch(strict.Url("/v1/tables/plays/rows?sort=song:desc,date&song=ilike:*e*&limit=10&count=exact"));
    if (result.status != 503 || result.body.find("not_ready") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(result.status, 503) << result.body;
  EXPECT_NE(result.body.find("\"code\":\"query_timeout\""), std::string::npos) << result.body;
  EXPECT_NE(result.body.find("max_statement_time (1ms)"), std::string::npos) << result.body;
  EXPECT_NE(HeaderValue(result.headers, "Retry-After"), "");
}

}  // namespace
}  // namespace sluice::testing
