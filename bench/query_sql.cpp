// bench_query_sql: the baseline of bench/query_bench.sh — the same SQL that
// sluice runs for a request, run directly over one Connector/C connection
// (the library the `mariadb` client is built on), the way the client runs
// it: mysql_real_query, then every row read (mysql_use_result, as the client's
// --quick and as sluice itself). Prints p50/p99/mean latency in ms after a
// warm-up, so the figures sit next to wrk's for the HTTP request.
//
//   bench_query_sql --host 127.0.0.1 --port 3306 --user u --password p
//                   --database d --runs 50 --sql "SELECT …"
// A bench tool, not server code: it blocks as the client does.
#include <mysql.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  CLI::App app{"time one SQL statement over Connector/C (the mariadb client's library)"};
  std::string host = "127.0.0.1", socket, user = "sluice", password, database = "sluice", sql;
  unsigned port = 3306;
  int runs = 50, warmup = 3;
  double budget_seconds = 60;
  app.add_option("--host", host);
  app.add_option("--port", port);
  app.add_option("--socket", socket, "a Unix socket instead of host and port");
  app.add_option("--user", user);
  app.add_option("--password", password);
  app.add_option("--database", database);
  app.add_option("--runs", runs);
  app.add_option("--warmup", warmup);
  app.add_option("--budget", budget_seconds, "stop early (after at least 3 runs) once this many seconds passed");
  app.add_option("--sql", sql)->required();
  CLI11_PARSE(app, argc, argv);

  MYSQL* mysql = mysql_init(nullptr);
  mysql_options(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (mysql_real_connect(mysql, socket.empty() ? host.c_str() : nullptr, user.c_str(), password.c_str(),
                         database.c_str(), port, socket.empty() ? nullptr : socket.c_str(), 0) == nullptr) {
    std::fprintf(stderr, "connect: %s\n", mysql_error(mysql));
    return 1;
  }
  std::vector<double> millis;
  unsigned long long rows = 0, bytes = 0;
  auto began = std::chrono::steady_clock::now();
  for (int i = 0; i < warmup + runs; ++i) {
    double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    if (millis.size() >= 3 && spent > budget_seconds) break;
    if (i > 0 && i < warmup && spent > budget_seconds / 10) i = warmup;  // a slow statement needs no long warm-up
    auto start = std::chrono::steady_clock::now();
    if (mysql_real_query(mysql, sql.data(), sql.size()) != 0) {
      std::fprintf(stderr, "query: %s\n", mysql_error(mysql));
      return 1;
    }
    MYSQL_RES* result = mysql_use_result(mysql);
    rows = 0;
    bytes = 0;
    if (result != nullptr) {
      unsigned fields = mysql_num_fields(result);
      while (MYSQL_ROW row = mysql_fetch_row(result)) {
        const unsigned long* lengths = mysql_fetch_lengths(result);
        for (unsigned f = 0; f < fields; ++f) bytes += row[f] != nullptr ? lengths[f] : 0;
        ++rows;
      }
      mysql_free_result(result);
    }
    double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (i >= warmup) millis.push_back(elapsed);
  }
  mysql_close(mysql);
  std::sort(millis.begin(), millis.end());
  auto at = [&](double q) { return millis[std::min(millis.size() - 1, static_cast<size_t>(q * millis.size()))]; };
  double mean = 0;
  for (double m : millis) mean += m;
  mean /= static_cast<double>(millis.size());
  std::printf("runs=%zu rows=%llu bytes=%llu p50=%.3fms p99=%.3fms mean=%.3fms\n", millis.size(), rows, bytes,
              at(0.50), at(0.99), mean);
  return 0;
}
