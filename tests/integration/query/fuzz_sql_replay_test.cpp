// The query fuzzer's corpus against MariaDB's own parser: every committed
// input of tests/fuzz/corpus/query/ goes through the same decoding as
// fuzz_query (tests/fuzz/query_case.hpp); each accepted one's rendered SQL —
// the SELECT, the count and the estimate — is prepared and executed on a real
// mariadbd, on empty tables made from the fuzzer's schemas with sluice's own
// DDL. A statement MariaDB refuses (syntax, unknown column, collation mix, a
// bad literal) is a renderer bug that only the server could tell.
#include <gtest/gtest.h>
#include <mysql.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "db/table_ddl.hpp"
#include "query_case.hpp"
#include "support/services.hpp"

namespace sluice::testing {
namespace {

TEST(FuzzSqlReplay, EveryAcceptedQueryInTheCorpusIsValidMariaDbSql) {
  SLUICE_REQUIRE_MARIADB(db);
  MYSQL* conn = mysql_init(nullptr);
  ASSERT_NE(conn, nullptr);
  ASSERT_NE(mysql_real_connect(conn, db.host.c_str(), db.user.c_str(), db.password.c_str(), db.database.c_str(),
                               static_cast<unsigned>(db.port), nullptr, 0),
            nullptr)
      << mysql_error(conn);
  ASSERT_EQ(mysql_set_character_set(conn, "utf8mb4"), 0) << mysql_error(conn);
  auto exec = [&](const std::string& sql) {
    EXPECT_EQ(mysql_real_query(conn, sql.data(), sql.size()), 0) << mysql_error(conn) << " in " << sql;
  };
  for (const query::TableSchema& schema : fuzz::FuzzSchemas()) {
    std::vector<db::ColumnDef> columns;
    for (const auto& c : schema.columns) columns.push_back({c.name, db::SqlTypeText(c.type)});
    auto create = db::CreateTableSql(schema.name, columns);
    ASSERT_TRUE(create.has_value()) << create.error().message();
    exec(db::DropTableSql(schema.name));
    exec(*create);
  }

  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(std::string(SLUICE_SOURCE_DIR) + "/tests/fuzz/corpus/query")) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GT(files.size(), 50u) << "the query corpus is missing";

  std::size_t accepted = 0, statements = 0, refused = 0;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    const std::string input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const fuzz::QueryCase c = fuzz::RenderQueryCase(input);
    if (!c.accepted) continue;
    ++accepted;
    for (const std::string& sql : c.sql) {
      ++statements;
      MYSQL_STMT* stmt = mysql_stmt_init(conn);
      ASSERT_NE(stmt, nullptr);
      bool ok = mysql_stmt_prepare(stmt, sql.data(), sql.size()) == 0 && mysql_stmt_execute(stmt) == 0 &&
                mysql_stmt_store_result(stmt) == 0;
      if (!ok) {
        ++refused;
        ADD_FAILURE() << path.filename().string() << ": MariaDB refuses (" << mysql_stmt_errno(stmt) << ") "
                      << mysql_stmt_error(stmt) << "\n  " << sql;
      }
      mysql_stmt_free_result(stmt);
      mysql_stmt_close(stmt);
    }
  }
  std::printf("replayed %zu corpus inputs: %zu accepted, %zu statements prepared and run, %zu refused\n",
              files.size(), accepted, statements, refused);
  EXPECT_GT(accepted, 20u);
  for (const query::TableSchema& schema : fuzz::FuzzSchemas()) exec(db::DropTableSql(schema.name));
  mysql_close(conn);
}

}  // namespace
}  // namespace sluice::testing
