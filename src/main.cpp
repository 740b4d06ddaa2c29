// sluice's entry point: parses the command line (CLI11) and hands over to the
// command — `serve` (the server, what systemd runs), `check-config`, and
// `--version`. Nothing else lives here.
#include <CLI/CLI.hpp>
#include <curl/curl.h>
#include <mysql.h>
#include <fmt/core.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "app/ingest_command.hpp"
#include "app/server_app.hpp"
#include "config/config.hpp"
#include "ingest/generator.hpp"

namespace {

constexpr const char* kDefaultConfig = "/etc/sluice/sluice.conf";

/// Loads the conf, printing every error as "file:line: message" on stderr.
bool LoadConfig(const std::string& path, sluice::config::Config& out) {
  auto loaded = sluice::config::LoadFile(path);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) fmt::print(stderr, "{}\n", error.ToString());
    fmt::print(stderr, "{}: {} error(s)\n", path, loaded.errors.size());
    return false;
  }
  out = std::move(loaded.config);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"sluice — upload CSV over HTTP, store it in S3, query it from MariaDB"};
  cli.require_subcommand(1);
  cli.set_version_flag("--version", std::string("sluice ") + SLUICE_VERSION);

  std::string serve_config = kDefaultConfig;
  auto* serve = cli.add_subcommand("serve", "run the server");
  serve->add_option("--config,-c", serve_config, "the .conf file")->capture_default_str();

  std::string check_config;
  auto* check = cli.add_subcommand("check-config", "validate a .conf file: exit 0, or print each error with its line");
  check->add_option("--config,-c", check_config, "the .conf file")->required();
  bool show = false;
  check->add_flag("--show", show, "print the effective configuration (secrets masked)");

  // `gen`: a realistic CSV of any size on stdout (src/ingest/generator.hpp).
  std::uint64_t gen_rows = 0;
  std::string gen_columns;
  std::uint64_t gen_seed = 1;
  bool gen_no_header = false;
  auto* gen = cli.add_subcommand("gen", "write a realistic CSV of N rows to stdout (the same bytes for the same seed)");
  gen->add_option("--rows,-n", gen_rows, "data rows to write")->required();
  gen->add_option("--columns", gen_columns,
                  "comma-separated column kinds: id, uuid, name, email, date, datetime, amount, quantity, code, "
                  "city, note, flag, score (default: id,uuid,name,email,date,amount,quantity,code,city)");
  gen->add_option("--seed", gen_seed, "random seed")->capture_default_str();
  gen->add_flag("--no-header", gen_no_header, "omit the header row");

  // `ingest`: the upload pipeline without HTTP (src/app/ingest_command.hpp).
  sluice::app::IngestCommandArgs ingest_args;
  std::vector<std::string> ingest_types;
  auto* ingest = cli.add_subcommand("ingest", "load FILE (- for stdin) into a table: S3 copy, staging, publish; "
                                              "prints the upload record");
  ingest->add_option("file", ingest_args.file, "the CSV, TSV or JSON Lines file (.gz: gzip), or - for stdin")->required();
  ingest->add_option("--config,-c", ingest_args.config_path, "the .conf file (default: /etc/sluice/sluice.conf if present, else built-in defaults; SLUICE_* apply)");
  for (const auto& [flag, name, help] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"--table,-t", "table", "target table (default: from the file name)"},
           {"--mode", "mode", "create | replace | append (default create)"},
           {"--format", "format", "csv | tsv | jsonl (default: from the file name, else csv)"},
           {"--types", "types", "infer | text (default infer)"},
           {"--delimiter", "delimiter", "one character, tab, or auto (default auto)"},
           {"--quote", "quote", "one character (default \")"},
           {"--header", "header", "true | false (default true)"},
           {"--encoding", "encoding", "utf-8 | latin-1 | auto (default auto)"},
           {"--on-error", "on_error", "skip | abort (default skip)"},
           {"--filename", "filename", "the name for S3 and the record (default: FILE's name)"}}) {
    ingest->add_option_function<std::string>(
        flag, [&ingest_args, name = name](const std::string& value) { ingest_args.options.emplace_back(name, value); },
        help);
  }
  ingest->add_option("--type", ingest_types, "force a column's type: COLUMN=TYPE (repeatable), e.g. zip=text");
  ingest->add_flag_callback("--no-header", [&ingest_args] { ingest_args.options.emplace_back("header", "false"); },
                            "the first row is data; columns are c1..cN");
  ingest->add_flag("--gzip", ingest_args.gzip, "the input is gzip-compressed (implied by a .gz name)");
  ingest->add_flag("--no-s3", ingest_args.no_s3, "do not copy the original to S3");
  ingest->add_option("--sha256", ingest_args.sha256, "expected SHA-256 (hex) of the input; a mismatch fails");
  if (argc > 1 && std::string_view(argv[1]) == "ingest") {
    try {
      cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return cli.exit(e) == 0 ? 0 : 2;  // bad usage is 2, as for the rest of `ingest`
    }
    for (const auto& spec : ingest_types) {
      auto eq = spec.find('=');
      if (eq == std::string::npos || eq == 0) {
        fmt::print(stderr, "sluice ingest: --type takes COLUMN=TYPE, got '{}'\n", spec);
        return 2;
      }
      ingest_args.options.emplace_back("type." + spec.substr(0, eq), spec.substr(eq + 1));
    }
    mysql_library_init(0, nullptr, nullptr);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = sluice::app::RunIngestCommand(ingest_args);
    curl_global_cleanup();
    mysql_library_end();
    return rc;
  }

  CLI11_PARSE(cli, argc, argv);

  if (*gen) {
    sluice::ingest::GeneratorOptions options;
    options.rows = gen_rows;
    options.seed = gen_seed;
    options.header = !gen_no_header;
    if (!gen_columns.empty()) {
      auto columns = sluice::ingest::ParseGenColumns(gen_columns);
      if (!columns) {
        fmt::print(stderr, "sluice gen: {}\n", columns.error().message());
        return 2;
      }
      options.columns = std::move(*columns);
    }
    auto status = sluice::ingest::WriteCsv(options, 1);
    if (!status.ok()) {
      fmt::print(stderr, "sluice gen: {}\n", status.message());
      return 1;
    }
    return 0;
  }

  if (*serve) {
    sluice::config::Config config;
    if (!LoadConfig(serve_config, config)) return 2;
    // Process-wide library set-up, once, before any thread or connection.
    mysql_library_init(0, nullptr, nullptr);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = sluice::app::RunServer(std::move(config));
    curl_global_cleanup();
    mysql_library_end();
    return rc;
  }
  if (*check) {
    sluice::config::Config config;
    if (!LoadConfig(check_config, config)) return 1;
    if (show) fmt::print("{}", sluice::config::Describe(config));
    fmt::print("{}: OK\n", check_config);
    return 0;
  }
  return 0;
}
