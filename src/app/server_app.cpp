// See server_app.hpp.
#include "app/server_app.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <malloc.h>
#include <uv.h>

#include <csignal>
#include <ctime>

#include "api/console_routes.hpp"
#include "api/health_handlers.hpp"
#include "api/metrics_route.hpp"
#include "api/openapi_route.hpp"
#include "api/table_routes.hpp"  // tables API (issue 6)
#include "api/upload_routes.hpp"
#include "auth/authenticator.hpp"
#include "api/test_routes.hpp"
#include "curl/curl_multi_uv.hpp"
#include "db/catalog.hpp"
#include "db/db_pool.hpp"
#include "ingest/ingest_job.hpp"
#include "ingest/leftovers.hpp"
#include "ingest/multipart_sweep.hpp"
#include "http/server.hpp"
#include "s3/s3_client.hpp"
#include "log/logger.hpp"
#include "loop/sd_notify.hpp"
#include "loop/work_item.hpp"
#include "metrics/registry.hpp"
#include "uv/uv_handle.hpp"

namespace sluice::app {
namespace {

class ServerApp {
 public:
  explicit ServerApp(config::Config config) : config_(std::move(config)) {}

  int Run();

 private:
  static void OnSignal(uv_signal_t* handle, int signum);
  static void OnWatchdog(uv_timer_t* timer);
  void BeginShutdown(const char* why);
  void Reload();
  void CloseEverything();
  void SetUpS3();
  void SetUpMetrics();
  void CollectMetrics(metrics::Registry& registry);
  void SetUpUploads();
  void ReturnFreedMemory();
  void InitCatalog();
  void MaybeFinishShutdown();
  http::AccessDecision Authorize(const http::Request& request, int role) const;

  config::Config config_;
  uv_loop_t loop_{};
  loop::SdNotifier notifier_;
  http::Router router_;
  std::vector<api::ReadinessCheck> checks_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  metrics::Registry metrics_;
  std::unique_ptr<db::DbPool> db_;
  std::unique_ptr<db::Catalog> catalog_;
  bool catalog_ready_ = false;
  glue::UvHandle<uv_timer_t> catalog_retry_;
  std::unique_ptr<ingest::MemoryBudget> budget_;
  ingest::IngestCounters ingest_counters_;
  std::unique_ptr<ingest::IngestRegistry> registry_;
  bool trimming_ = false;  // malloc_trim running on a worker
  std::unique_ptr<ingest::Leftovers> leftovers_;      // cleanup steps retried once a service is back
  std::unique_ptr<ingest::MultipartSweep> sweep_;     // start-up: multipart uploads a crash left open
  api::UploadApi upload_api_;
  api::TableApi table_api_;  // tables API (issue 6)
  glue::UvHandle<uv_timer_t> shutdown_timer_;
  bool server_closed_ = false;
  bool uploads_cancelled_ = false;
  std::unique_ptr<glue::CurlMulti> curl_;
  std::unique_ptr<s3::S3Client> s3_;
  core::Status s3_setup_error_;
  std::unique_ptr<glue::TlsContext> tls_context_;
  std::unique_ptr<http::Server> server_;
  glue::UvHandle<uv_signal_t> sigterm_;
  glue::UvHandle<uv_signal_t> sigint_;
  glue::UvHandle<uv_signal_t> sighup_;
  glue::UvHandle<uv_timer_t> watchdog_;
  bool stopping_ = false;
  bool closed_ = false;
  int64_t start_time_ = static_cast<int64_t>(std::time(nullptr));
  std::shared_ptr<spdlog::logger> log_ = log::Get("server");
};

int ServerApp::Run() {
  if (int rc = uv_loop_init(&loop_); rc != 0) {
    log_->error("cannot start the event loop: {}", uv_strerror(rc));
    return 1;
  }
  db_ = std::make_unique<db::DbPool>(&loop_, config_.mariadb);
  checks_.push_back({"mariadb", [this](std::function<void(core::Status)> done) { db_->Ping(std::move(done)); }});
  SetUpS3();
  SetUpUploads();
  authenticator_ = std::make_unique<auth::Authenticator>(config_.auth);
  api::AddHealthRoutes(router_, checks_);
  api::AddMetricsRoute(router_, metrics_);
  api::AddOpenApiRoute(router_);
  api::AddConsoleRoutes(router_);  // GET / and /assets/{name}: the web console (issue 8)
  api::AddUploadRoutes(router_, upload_api_);
  // ---- tables API (issue 6): GET/DELETE /v1/tables…, /rows, /aggregate ----
  table_api_ = {&loop_, db_.get(), catalog_.get(), &config_, [this] { return catalog_ready_ && !stopping_; }};
  api::AddTableRoutes(router_, table_api_);
  // ---- end tables API ----
  if (config_.server.test_routes) api::AddTestRoutes(router_, &loop_);

  server_ = std::make_unique<http::Server>(&loop_, router_, http::ServerOptions::FromConfig(config_.server));
  server_->SetAccessPolicy([this](const http::Request& request, int role) { return Authorize(request, role); });
  SetUpMetrics();
  std::vector<std::string> bound;
  core::Status status = server_->Listen(config_.server.listen, &bound);
  if (status.ok() && !config_.server.tls_listen.empty()) {
    auto context = glue::TlsContext::Load(config_.server.tls_cert, config_.server.tls_key);
    if (context) {
      tls_context_ = std::move(context.value());
      status = server_->Listen(config_.server.tls_listen, &bound, tls_context_.get());
    } else {
      status = context.error();
    }
  }
  if (!status.ok()) {
    // E.g. the port is taken: exit 1 at once. Everything already started
    // (the catalog's first query and its 2 s retry timer, the S3 client)
    // is closed the way a stop closes it, or the loop would never end.
    log_->error("{}", status.message());
    stopping_ = true;
    closed_ = true;
    CloseEverything();
    uv_run(&loop_, UV_RUN_DEFAULT);
    catalog_.reset();
    db_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
    return 1;
  }

  for (auto* handle : {&sigterm_, &sigint_, &sighup_}) {
    handle->Init(uv_signal_init, &loop_);
    (*handle)->data = this;
  }
  uv_signal_start(sigterm_.get(), OnSignal, SIGTERM);
  uv_signal_start(sigint_.get(), OnSignal, SIGINT);
  uv_signal_start(sighup_.get(), OnSignal, SIGHUP);
  if (auto interval = notifier_.WatchdogInterval()) {
    watchdog_.Init(uv_timer_init, &loop_);
    watchdog_->data = this;
    auto every = static_cast<uint64_t>(interval->count());
    uv_timer_start(watchdog_.get(), OnWatchdog, every, every);
  }

  log_->info("sluice {} listening on {} (conf {})", SLUICE_VERSION, fmt::join(bound, ", "),
             config_.path.empty() ? "built-in defaults" : config_.path);
  notifier_.Notify(fmt::format("READY=1\nSTATUS=listening on {}\nMAINPID={}", fmt::join(bound, ","), uv_os_getpid()));

  uv_run(&loop_, UV_RUN_DEFAULT);
  catalog_.reset();
  db_.reset();
  uv_run(&loop_, UV_RUN_DEFAULT);  // lets the pool's last handles close
  int rc = uv_loop_close(&loop_);
  if (rc != 0) {
    log_->error("event loop closed with open handles: {}", uv_strerror(rc));
    return 1;
  }
  log_->info("stopped");
  return 0;
}

void ServerApp::OnSignal(uv_signal_t* handle, int signum) {
  auto* self = static_cast<ServerApp*>(handle->data);
  if (signum == SIGHUP) {
    self->Reload();
  } else if (self->stopping_) {
    self->log_->warn("second signal: stopping now");
    std::_Exit(1);
  } else {
    self->BeginShutdown(signum == SIGTERM ? "SIGTERM" : "SIGINT");
  }
}

void ServerApp::OnWatchdog(uv_timer_t* timer) {
  static_cast<ServerApp*>(timer->data)->notifier_.Notify("WATCHDOG=1");
}

void ServerApp::BeginShutdown(const char* why) {
  stopping_ = true;
  log_->info("{}: stopping (grace {} ms)", why, config_.server.shutdown_grace.count());
  notifier_.Notify("STOPPING=1");
  // Uploads get the same grace as requests; past it they are cancelled
  // through their one cleanup path (record: failed, "interrupted").
  shutdown_timer_.Init(uv_timer_init, &loop_);
  shutdown_timer_->data = this;
  uv_timer_start(shutdown_timer_.get(), [](uv_timer_t* t) {
    auto* self = static_cast<ServerApp*>(t->data);
    if (self->registry_->running() > 0) {
      self->log_->warn("shutdown: cancelling {} running upload(s)", self->registry_->running());
    }
    self->registry_->CancelAll([self] {
      self->uploads_cancelled_ = true;
      self->MaybeFinishShutdown();
    });
  }, static_cast<uint64_t>(config_.server.shutdown_grace.count()), 0);
  server_->Shutdown(config_.server.shutdown_grace, [this] {
    server_closed_ = true;
    MaybeFinishShutdown();
  });
}

void ServerApp::MaybeFinishShutdown() {
  if (!server_closed_) return;
  if (registry_->running() > 0 && !uploads_cancelled_) {
    // Uploads answered with 202 may still run without a connection: look again soon.
    uv_timer_start(catalog_retry_.get(), [](uv_timer_t* t) {
      static_cast<ServerApp*>(t->data)->MaybeFinishShutdown();
    }, 100, 0);
    return;
  }
  if (closed_) return;
  closed_ = true;
  CloseEverything();
}

// glibc keeps the heap that uploads freed (one arena, see RunServer) resident,
// and reuses it only as well as its free lists allow: after a busy hour RSS
// would stay at the high-water mark. When the last upload ends, malloc_trim
// gives every free page back to the kernel — on a worker, since walking a
// heap of hundreds of MiB takes milliseconds (measured in issue 9's load run:
// idle RSS after the run, README "Faults and load").
void ServerApp::ReturnFreedMemory() {
  if (trimming_) return;
  trimming_ = true;
  loop::SubmitWork(&loop_, [] { malloc_trim(0); }, [this](int) { trimming_ = false; });
}

void ServerApp::SetUpUploads() {
  catalog_ = std::make_unique<db::Catalog>(*db_);
  budget_ = std::make_unique<ingest::MemoryBudget>(config_.server.memory_budget);
  ingest::IngestContext context;
  context.loop = &loop_;
  context.pool = db_.get();
  context.catalog = catalog_.get();
  context.s3 = s3_.get();
  context.s3_bucket = config_.s3.bucket;
  context.budget = budget_.get();
  context.config = &config_;
  leftovers_ = std::make_unique<ingest::Leftovers>(&loop_, db_.get(), catalog_.get(), s3_.get());
  context.leftovers = leftovers_.get();
  context.counters = &ingest_counters_;
  context.on_idle = [this] { ReturnFreedMemory(); };
  registry_ = std::make_unique<ingest::IngestRegistry>(context);
  upload_api_.loop = &loop_;
  upload_api_.registry = registry_.get();
  upload_api_.catalog = catalog_.get();
  upload_api_.pool = db_.get();
  upload_api_.s3 = s3_.get();
  upload_api_.ready = [this] { return catalog_ready_ && !stopping_; };
  catalog_retry_.Init(uv_timer_init, &loop_);
  catalog_retry_->data = this;
  InitCatalog();
}

void ServerApp::InitCatalog() {
  // The catalog's tables and the start-up sweep (interrupted uploads, leftover
  // staging tables). MariaDB may not be up yet: retry every 2 s meanwhile,
  // while /healthz and /readyz answer.
  catalog_->Init([this](core::Status status) {
    if (stopping_) return;
    if (!status.ok()) {
      log_->warn("catalog not ready ({}); retrying in 2 s", status.message());
      uv_timer_start(catalog_retry_.get(), [](uv_timer_t* t) { static_cast<ServerApp*>(t->data)->InitCatalog(); },
                     2000, 0);
      return;
    }
    catalog_->Recover([this](core::Result<db::RecoveryStats> stats) {
      if (stopping_) return;
      if (!stats) {
        log_->warn("catalog recovery failed ({}); retrying in 2 s", stats.error().message());
        uv_timer_start(catalog_retry_.get(), [](uv_timer_t* t) { static_cast<ServerApp*>(t->data)->InitCatalog(); },
                       2000, 0);
        return;
      }
      if (stats->interrupted > 0 || stats->dropped_tables > 0) {
        log_->warn("catalog: {} interrupted upload(s) marked failed, {} leftover table(s) dropped",
                   stats->interrupted, stats->dropped_tables);
      }
      if (!s3_) {
        catalog_ready_ = true;
        log_->info("catalog ready");
        return;
      }
      // Then the multipart uploads those records left open; S3 being away
      // does not hold the server back (the next start tries again).
      sweep_ = std::make_unique<ingest::MultipartSweep>(s3_.get(), db_.get());
      sweep_->Run([this](core::Result<std::size_t> aborted) {
        if (stopping_) return;
        if (!aborted) {
          log_->warn("s3: could not look for multipart uploads left open by a crash ({}); the next start tries again",
                     aborted.error().message());
        } else if (*aborted > 0) {
          log_->warn("s3: {} multipart upload(s) left open by interrupted or failed uploads aborted", *aborted);
        }
        catalog_ready_ = true;
        log_->info("catalog ready");
      });
    });
  });
}

void ServerApp::CloseEverything() {
  // Signals stay armed for a second SIGTERM until here; after this the loop
  // has nothing left and uv_run returns.
  sigterm_.Close();
  sigint_.Close();
  sighup_.Close();
  watchdog_.Close();
  server_.reset();
  catalog_retry_.Close();
  shutdown_timer_.Close();
  registry_.reset();
  leftovers_.reset();
  sweep_.reset();
  s3_.reset();
  if (curl_) curl_->Shutdown();
  curl_.reset();
  // The pool closes its connections asynchronously; it is destroyed after
  // uv_run returns (never inside its own callback).
  db_->Shutdown([] {});
}

http::AccessDecision ServerApp::Authorize(const http::Request& request, int role) const {
  http::AccessDecision decision;
  auto needed = static_cast<auth::Role>(role);
  if (needed == auth::Role::kNone) return decision;  // public route
  auto outcome =
      authenticator_->Check(request.Header("Authorization"), needed, static_cast<int64_t>(std::time(nullptr)));
  if (outcome.principal) {
    decision.role = static_cast<int>(outcome.principal->role);
    decision.caller = outcome.principal->subject;
    return decision;
  }
  decision.allowed = false;
  decision.status = outcome.error->status;
  decision.code = outcome.error->code;
  decision.message = outcome.error->message;
  return decision;
}

void ServerApp::SetUpMetrics() {
  metrics_.GetGauge("sluice_build_info", "Version of the running binary.", {{"version", SLUICE_VERSION}}).Set(1);
  server_->SetRequestObserver([this](const http::RequestRecord& r) {
    std::string status = std::to_string(r.status);
    std::string route(r.route);
    metrics_.GetCounter("sluice_http_requests_total", "HTTP requests answered, by route, method and status.",
                        {{"route", route}, {"method", std::string(r.method)}, {"status", status}})
        .Inc();
    metrics_.GetCounter("sluice_http_response_bytes_total", "Response body bytes, by route.", {{"route", route}})
        .Inc(static_cast<double>(r.bytes));
    metrics_.GetHistogram("sluice_http_request_duration_seconds", "Time from a request's first byte to its answer.",
                          {{"route", route}}, metrics::LatencyBuckets())
        .Observe(r.seconds);
  });
  metrics_.AddCollector([this](metrics::Registry& registry) { CollectMetrics(registry); });
}

void ServerApp::CollectMetrics(metrics::Registry& registry) {
  // Counts kept by their owners on the loop thread (the worker queue's are
  // atomics), copied here at scrape time: no work on any hot path.
  auto count = [&registry](std::string_view name, std::string_view help, const metrics::Labels& labels,
                           uint64_t value) { registry.GetCounter(name, help, labels).Set(static_cast<double>(value)); };
  auto gauge = [&registry](std::string_view name, std::string_view help, const metrics::Labels& labels,
                           double value) { registry.GetGauge(name, help, labels).Set(value); };
  if (server_) {
    gauge("sluice_http_connections_open", "Client connections open now.", {},
          static_cast<double>(server_->connection_count()));
    count("sluice_http_connections_accepted_total", "Client connections accepted since start.", {},
          server_->connections_accepted());
  }
  auto pool = db_->stats();
  for (auto [state, value] : {std::pair{"in_use", pool.in_use}, std::pair{"idle", pool.idle},
                              std::pair{"connecting", pool.connecting}}) {
    gauge("sluice_db_pool_connections", "MariaDB pool connections by state.", {{"state", state}},
          static_cast<double>(value));
  }
  gauge("sluice_db_pool_connections_max", "[mariadb] pool_size.", {}, static_cast<double>(db_->capacity()));
  gauge("sluice_db_pool_waiting", "Callers waiting for a pooled MariaDB connection now.", {},
        static_cast<double>(pool.waiting));
  const db::PoolCounters& db = db_->counters();
  count("sluice_db_connects_total", "MariaDB connections opened (the first pool_size, then reconnects).", {},
        db.connects);
  count("sluice_db_connections_dropped_total",
        "Broken MariaDB connections dropped by the pool (lost, killed, closed by the server); "
        "the next use reconnects.",
        {}, db.dropped);
  const char* db_errors_help =
      "MariaDB errors: failed connects, statements that failed, statements that lost the connection.";
  count("sluice_db_errors_total", db_errors_help, {{"kind", "connect"}}, db.connect_errors);
  count("sluice_db_errors_total", db_errors_help, {{"kind", "statement"}}, db.errors.statement);
  count("sluice_db_errors_total", db_errors_help, {{"kind", "connection_lost"}}, db.errors.connection);
  if (s3_) {  // every operation, from zero, so rate() works from the first scrape
    const s3::S3Stats& stats = s3_->stats();
    for (std::size_t i = 0; i < stats.size(); ++i) {
      metrics::Labels op{{"operation", std::string(s3::S3OpName(static_cast<s3::S3Op>(i)))}};
      count("sluice_s3_requests_total", "S3 operations finished, each once after its retries.", op,
            stats[i].requests);
      count("sluice_s3_retries_total", "S3 attempts that failed and were sent again.", op, stats[i].retries);
      count("sluice_s3_errors_total", "S3 operations that ended without a success, after their retries.", op,
            stats[i].errors);
    }
  }
  if (registry_) {
    gauge("sluice_uploads_running", "Uploads in progress now.", {}, static_cast<double>(registry_->running()));
  }
  const char* uploads_help = "Uploads finished, by final state (done, failed, cancelled).";
  count("sluice_uploads_total", uploads_help, {{"state", "done"}}, ingest_counters_.done);
  count("sluice_uploads_total", uploads_help, {{"state", "failed"}}, ingest_counters_.failed);
  count("sluice_uploads_total", uploads_help, {{"state", "cancelled"}}, ingest_counters_.cancelled);
  count("sluice_ingest_received_bytes_total", "Upload body bytes received (as sent: compressed when gzip).", {},
        ingest_counters_.bytes_received);
  const char* rows_help = "Rows of finished uploads: loaded into tables, or rejected as bad rows.";
  count("sluice_ingest_rows_total", rows_help, {{"result", "loaded"}}, ingest_counters_.rows_loaded);
  count("sluice_ingest_rows_total", rows_help, {{"result", "rejected"}}, ingest_counters_.rows_rejected);
  auto work = loop::WorkQueueStats();
  gauge("sluice_worker_queue_depth", "Work items queued for the worker pool, not started yet.", {},
        static_cast<double>(work.queued));
  gauge("sluice_worker_items_running", "Work items running on the worker pool now.", {},
        static_cast<double>(work.running));
  count("sluice_worker_items_total", "Work items finished by the worker pool (parse, hash, inflate, encode).", {},
        work.finished);
  if (budget_) {
    gauge("sluice_memory_budget_bytes", "[server] memory_budget.", {}, static_cast<double>(budget_->limit()));
    gauge("sluice_memory_budget_used_bytes", "Bytes of the memory budget held by uploads now.", {},
          static_cast<double>(budget_->used()));
    gauge("sluice_memory_budget_reserved_bytes",
          "Bytes of the memory budget granted to running uploads (each its working set at least).", {},
          static_cast<double>(budget_->reserved()));
    gauge("sluice_uploads_waiting_for_memory", "Uploads waiting for room in the memory budget before their body is read.",
          {}, static_cast<double>(budget_->waiting()));
  }
  size_t rss = 0;
  if (uv_resident_set_memory(&rss) == 0) {
    gauge("process_resident_memory_bytes", "Resident memory size in bytes.", {}, static_cast<double>(rss));
  }
  uv_rusage_t usage{};
  if (uv_getrusage(&usage) == 0) {
    double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                 static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    registry.GetCounter("process_cpu_seconds_total", "User and system CPU time spent, in seconds.").Set(cpu);
  }
  gauge("process_start_time_seconds", "Start time of the process since the epoch, in seconds.", {},
        static_cast<double>(start_time_));
}

void ServerApp::SetUpS3() {
  // A bad [s3] section does not stop the server: /healthz answers and /readyz
  // says what is wrong, so an operator sees it where they look.
  auto curl = glue::CurlMulti::Create(&loop_);
  if (curl) {
    curl_ = std::move(curl.value());
    auto client = s3::S3Client::Create(*curl_, config_.s3);
    if (client) {
      s3_ = std::move(client.value());
    } else {
      s3_setup_error_ = client.error();
    }
  } else {
    s3_setup_error_ = curl.error();
  }
  if (!s3_setup_error_.ok()) log_->error("s3: {}", s3_setup_error_.message());
  checks_.push_back({"s3", [this](std::function<void(core::Status)> done) {
                       if (!s3_) {
                         done(s3_setup_error_);
                         return;
                       }
                       s3_->HeadBucket(std::move(done));
                     }});
}

void ServerApp::Reload() {
  notifier_.Notify("RELOADING=1");
  if (config_.path.empty()) {
    log_->warn("SIGHUP: no conf file to reload");
    notifier_.Notify("READY=1");
    return;
  }
  auto loaded = config::LoadFile(config_.path);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) log_->error("reload: {}", error.ToString());
    log_->error("reload: the conf has errors; keeping the running configuration");
    notifier_.Notify("READY=1");
    return;
  }
  if (loaded.config.server.listen != config_.server.listen ||
      loaded.config.server.tls_listen != config_.server.tls_listen ||
      loaded.config.server.tls_cert != config_.server.tls_cert || loaded.config.server.tls_key != config_.server.tls_key) {
    log_->warn("reload: [server] listen/tls_* changed; that takes effect at the next restart");
  }
  if (loaded.config.auth.tokens.empty() && loaded.config.auth.jwt_secret.empty() &&
      (!AllLoopback(config_.server.listen) || !AllLoopback(config_.server.tls_listen))) {
    log_->error("reload: the new conf has no [auth] tokens or jwt_secret while listening beyond loopback; "
                "keeping the running configuration");
    notifier_.Notify("READY=1");
    return;
  }
  log::Init(loaded.config.log.level, loaded.config.log.format);
  server_->UpdateOptions(http::ServerOptions::FromConfig(loaded.config.server));
  authenticator_ = std::make_unique<auth::Authenticator>(loaded.config.auth);
  loaded.config.server.listen = config_.server.listen;
  loaded.config.server.tls_listen = config_.server.tls_listen;
  loaded.config.server.tls_cert = config_.server.tls_cert;
  loaded.config.server.tls_key = config_.server.tls_key;
  config_ = std::move(loaded.config);
  log_->info("reloaded {}", config_.path);
  notifier_.Notify("READY=1");
}

}  // namespace

bool AllLoopback(const std::vector<config::ListenAddress>& addresses) {
  for (const auto& address : addresses) {
    const std::string& host = address.host;
    bool loopback = host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
    if (!loopback) return false;
  }
  return true;
}

int RunServer(config::Config config) {
  log::Init(config.log.level, config.log.format);
  if (config.auth.tokens.empty() && config.auth.jwt_secret.empty() &&
      (!AllLoopback(config.server.listen) || !AllLoopback(config.server.tls_listen))) {
    log::Get("server")->error(
        "refusing to listen on a non-loopback address with no [auth] tokens or jwt_secret configured: "
        "anyone could read and load data. Set [auth] tokens, or listen on 127.0.0.1");
    return 1;
  }
  std::signal(SIGPIPE, SIG_IGN);
  // Uploads allocate MiB-sized, short-lived buffers (socket reads, S3 parts,
  // blocks, their parses and encodings) on the loop and the workers. glibc's
  // defaults give them fresh mappings (page faults and zeroing on every
  // block) or per-thread arenas that each keep freed pages. One arena that
  // keeps up to 16 MiB free reuses the blocks before, as `sluice ingest`
  // does: RSS is what the memory budget lets in flight plus that
  // (bench/upload_memory.sh measures it; README "Benchmarks").
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
  loop::SetWorkerThreads(config.server.workers);
  ServerApp app(std::move(config));
  return app.Run();
}

}  // namespace sluice::app
