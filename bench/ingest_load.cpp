// bench_ingest_load: loads one CSV file into MariaDB the way the upload
// pipeline will — split into blocks at row boundaries (csv::BlockSplitter),
// each block parsed and encoded on the libuv worker pool (csv::ParseBlock +
// ingest::BlockEncoder), loaded over N pooled connections at once
// (ingest::Loader) into a staging table, published with `create`
// (ingest::StagedTable) — and prints one line of figures. bench/ingest_load.sh
// runs it against the `mariadb` client's LOAD DATA LOCAL INFILE of the same
// file in the same run.
//
// The file is read with plain read(2) on the loop thread (it is in the page
// cache after `sluice gen`; the server reads uploads from sockets instead).
// Every column is TEXT unless --types=gen, which uses the types of `sluice
// gen`'s default columns. At most --max-blocks blocks are read but not yet
// loaded, which bounds memory the way [server] memory_budget will.
//
//   bench_ingest_load --file F --table T [--method load|insert] [--connections N]
//                     [--block-mib M] [--types text|gen] [--max-blocks K]
//   (MariaDB from SLUICE_TEST_MARIADB_HOST/_PORT/_USER/_PASSWORD/_DATABASE)
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <mysql.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "csv/parser.hpp"
#include "csv/splitter.hpp"
#include "db/db_pool.hpp"
#include "db/table_ddl.hpp"
#include "ingest/load_encoder.hpp"
#include "ingest/loader.hpp"
#include "ingest/staged_table.hpp"
#include "log/logger.hpp"
#include "loop/work_item.hpp"

namespace {

using namespace sluice;  // NOLINT: a benchmark driver

std::string Env(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

/// The types of `sluice gen`'s default columns (--types gen).
std::string GenType(std::string_view column) {
  if (column == "id" || column == "quantity") return "BIGINT";
  if (column == "date") return "DATE";
  if (column == "amount") return "DECIMAL(10,2)";
  return "TEXT";
}

struct Options {
  std::string file;
  std::string table = "bench_sluice";
  std::string method = "load";
  int connections = 4;
  std::size_t block_mib = 4;
  std::string types = "text";
  std::size_t max_blocks = 0;  // 0: 2 × connections + 2
};

/// One run of the pipeline. Everything happens on the loop thread but the
/// parse + encode work items.
class Run {
 public:
  Run(uv_loop_t* loop, db::DbPool& pool, Options options) : loop_(loop), pool_(pool), options_(std::move(options)) {}

  bool Start() {
    fd_ = ::open(options_.file.c_str(), O_RDONLY);
    if (fd_ < 0) return Fail(core::Status::Internal("cannot open " + options_.file));
    // The header, from the first 1 MiB.
    std::string head(1 << 20, '\0');
    ssize_t n = ::pread(fd_, head.data(), head.size(), 0);
    if (n <= 0) return Fail(core::Status::Internal("empty file"));
    head.resize(static_cast<std::size_t>(n));
    dialect_ = csv::Dialect{',', '"', true};
    auto header = csv::ParseFirstRow(head, dialect_, csv::Encoding::kUtf8);
    if (!header) return Fail(header.error());
    std::vector<db::ColumnDef> columns;
    for (const auto& name : *header) {
      columns.push_back({name, options_.types == "gen" ? GenType(name) : "TEXT"});
      empty_is_null_.push_back(columns.back().sql_type != "TEXT" ? 1 : 0);
    }
    parse_.dialect = dialect_;
    parse_.expected_fields = columns.size();
    splitter_ = std::make_unique<csv::BlockSplitter>(
        dialect_, csv::SplitterOptions{options_.block_mib << 20, std::size_t{64} << 20, true});
    max_blocks_ = options_.max_blocks != 0 ? options_.max_blocks : 2 * static_cast<std::size_t>(options_.connections) + 2;
    start_ = std::chrono::steady_clock::now();
    staged_ = ingest::StagedTable::Create(pool_, {options_.table, ingest::PublishMode::kCreate, columns,
                                                  fmt::format("bench{}", ::getpid())});
    staged_->Prepare([this](core::Status status) {
      if (!status.ok()) {
        Fail(status);
        return;
      }
      encoder_.method = options_.method == "insert" ? ingest::LoadMethod::kInsert : ingest::LoadMethod::kLoadData;
      encoder_.column_count = staged_->columns().size();
      encoder_.empty_is_null = empty_is_null_;
      encoder_.insert_prefix = db::InsertPrefixSql(staged_->staging_table(), staged_->column_names());
      encoder_.max_statement_bytes = (16u << 20) - 4096;  // max_allowed_packet (16M) less a margin
      loader_ = ingest::Loader::Create(pool_, {staged_->staging_table(), staged_->column_names(),
                                              static_cast<std::size_t>(options_.connections), true});
      loader_->OnBlockDone([this](const ingest::BlockDone&) {
        --outstanding_;
        Pump();
      });
      Pump();
    });
    return true;
  }

  bool done() const { return done_; }
  bool ok() const { return error_.ok(); }

  void Report() const {
    double seconds = std::chrono::duration<double>(end_ - start_).count();
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    if (!error_.ok()) {
      fmt::print("sluice method={} connections={} error={}\n", options_.method, options_.connections,
                 error_.message());
      return;
    }
    fmt::print("sluice method={} connections={} block_mib={} rows={} bad_rows={} bytes={} seconds={:.3f} "
               "rows_per_s={:.0f} mb_per_s={:.1f} peak_rss_mib={:.1f}\n",
               options_.method, options_.connections, options_.block_mib, rows_, bad_rows_, bytes_read_, seconds,
               static_cast<double>(rows_) / seconds, static_cast<double>(bytes_read_) / seconds / 1e6,
               static_cast<double>(usage.ru_maxrss) / 1024.0);
  }

 private:
  bool Fail(core::Status status) {
    if (error_.ok()) error_ = std::move(status);
    if (loader_) loader_->Abort(error_);
    if (staged_ != nullptr && !discarding_) {
      discarding_ = true;
      staged_->Discard([this](core::Status) { Finish(); });
      return false;
    }
    Finish();
    return false;
  }

  void Finish() {
    end_ = std::chrono::steady_clock::now();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    done_ = true;
  }

  // Reads and splits while fewer than max_blocks_ blocks are in flight.
  void Pump() {
    if (!error_.ok()) return;
    std::string chunk(1 << 20, '\0');
    while (!eof_ && outstanding_ < max_blocks_) {
      ssize_t n = ::read(fd_, chunk.data(), chunk.size());
      if (n < 0) {
        Fail(core::Status::Internal("read failed"));
        return;
      }
      std::vector<csv::Block> blocks;
      core::Status status = n == 0 ? splitter_->Finish(blocks)
                                   : splitter_->Feed(std::string_view(chunk.data(), static_cast<std::size_t>(n)), blocks);
      if (!status.ok()) {
        Fail(status);
        return;
      }
      bytes_read_ += static_cast<std::uint64_t>(n);
      if (n == 0) eof_ = true;
      for (auto& block : blocks) Parse(std::move(block));
    }
    MaybeFinish();
  }

  void Parse(csv::Block block) {
    ++outstanding_;
    ++parsing_;
    struct Work {
      csv::Block block;
      csv::ParseOptions options;
      ingest::EncoderOptions encoder;
      ingest::EncodedBlock encoded;
      std::uint64_t bad = 0;
    };
    auto work = std::make_shared<Work>();
    work->options = parse_;
    work->options.skip_header = block.index == 0;
    work->block = std::move(block);
    work->encoder = encoder_;
    loop::SubmitWork(
        loop_,
        [work] {  // worker thread: parse, then encode
          csv::ParsedBlock parsed = csv::ParseBlock(std::move(work->block), work->options);
          work->encoder.reserve_bytes = parsed.memory_bytes();
          ingest::BlockEncoder encoder(work->encoder);
          for (std::size_t i = 0; i < parsed.row_count(); ++i) {
            csv::RowView row = parsed.row(i);
            encoder.Add(row.record, row.fields);
          }
          work->bad = parsed.bad_row_count();
          work->encoded = encoder.Finish();
        },
        [this, work](int status) {  // loop thread: hand it to the loader
          --parsing_;
          if (status != 0) {
            --outstanding_;
            Fail(core::Status::Internal("work cancelled"));
            return;
          }
          bad_rows_ += work->bad;
          if (!loader_->Submit(std::move(work->encoded))) --outstanding_;
          MaybeFinish();
        });
  }

  void MaybeFinish() {
    if (!eof_ || parsing_ > 0 || finishing_ || !error_.ok()) return;
    finishing_ = true;
    loader_->Finish([this](core::Result<ingest::LoadStats> stats) {
      if (!stats) {
        Fail(stats.error());
        return;
      }
      rows_ = stats->rows;
      staged_->Publish(rows_, [this](core::Result<ingest::PublishResult> published) {
        if (!published) {
          error_ = published.error();
        }
        Finish();
      });
    });
  }

  uv_loop_t* loop_;
  db::DbPool& pool_;
  Options options_;
  int fd_ = -1;
  csv::Dialect dialect_;
  csv::ParseOptions parse_;
  ingest::EncoderOptions encoder_;
  std::vector<std::uint8_t> empty_is_null_;
  std::unique_ptr<csv::BlockSplitter> splitter_;
  std::shared_ptr<ingest::StagedTable> staged_;
  std::shared_ptr<ingest::Loader> loader_;
  std::size_t max_blocks_ = 0;
  std::size_t outstanding_ = 0;  // blocks read and not yet loaded
  std::size_t parsing_ = 0;      // blocks on the worker pool
  bool eof_ = false;
  bool finishing_ = false;
  bool discarding_ = false;
  bool done_ = false;
  core::Status error_;
  std::uint64_t rows_ = 0;
  std::uint64_t bad_rows_ = 0;
  std::uint64_t bytes_read_ = 0;
  std::chrono::steady_clock::time_point start_, end_;
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App cli{"bench_ingest_load: one CSV file through splitter → parse/encode → Loader → publish"};
  cli.add_option("--file", options.file, "the CSV file (with a header)")->required();
  cli.add_option("--table", options.table, "the target table (must not exist)");
  cli.add_option("--method", options.method, "load (LOAD DATA LOCAL from memory) or insert (multi-row INSERT)")
      ->check(CLI::IsMember({"load", "insert"}));
  cli.add_option("--connections", options.connections, "connections loading at once");
  cli.add_option("--block-mib", options.block_mib, "block size in MiB");
  cli.add_option("--types", options.types, "text (every column TEXT) or gen (sluice gen's types)")
      ->check(CLI::IsMember({"text", "gen"}));
  cli.add_option("--max-blocks", options.max_blocks, "blocks in flight at most (0: 2 × connections + 2)");
  CLI11_PARSE(cli, argc, argv);

  log::Init(log::Level::kWarn, log::Format::kText);
  loop::SetWorkerThreads(0);
  mysql_library_init(0, nullptr, nullptr);
  uv_loop_t loop;
  uv_loop_init(&loop);
  config::MariadbConfig config;
  config.host = Env("SLUICE_TEST_MARIADB_HOST", "127.0.0.1");
  config.port = static_cast<std::uint16_t>(std::atoi(Env("SLUICE_TEST_MARIADB_PORT", "3306").c_str()));
  config.user = Env("SLUICE_TEST_MARIADB_USER", "sluice");
  config.password = Env("SLUICE_TEST_MARIADB_PASSWORD", "");
  config.database = Env("SLUICE_TEST_MARIADB_DATABASE", "sluice_test");
  config.pool_size = options.connections;
  int rc = 0;
  {
    db::DbPool pool(&loop, config);
    Run run(&loop, pool, options);
    run.Start();
    while (!run.done()) uv_run(&loop, UV_RUN_ONCE);
    run.Report();
    rc = run.ok() ? 0 : 1;
    bool down = false;
    pool.Shutdown([&] { down = true; });
    while (!down) uv_run(&loop, UV_RUN_ONCE);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  mysql_library_end();
  return rc;
}
