// IngestRegistry: starts upload jobs and keeps the running ones by id. Start
// does, in order, everything that must answer before a byte of the body is
// read — the options (400), the concurrency limit (503), `create` on an
// existing table (409 table_exists), a duplicate of a sent Content-Digest
// (409 duplicate_upload), admission by the memory budget (the upload's
// working set must fit beside the others': it waits in order of arrival, up
// to [server] upload_queue_wait, then 503 busy) — then creates the job (its S3 upload)
// and its record in the catalog, and hands the job over. A job leaves the registry on
// the loop turn after its on_finished; CancelAll (shutdown) cancels every job
// through its cleanup path and reports once the last one has ended.
#include <fmt/format.h>

#include <map>
#include <utility>

#include "core/ids.hpp"
#include "csv/dialect.hpp"
#include "csv/encoding.hpp"
#include "db/catalog.hpp"
#include "db/table_ddl.hpp"
#include "ingest/defer.hpp"
#include "ingest/upload_job.hpp"
#include "uv/uv_handle.hpp"

namespace sluice::ingest {
namespace {

/// How long an upload waits for room in the memory budget before 503 busy
/// ([server] upload_queue_wait). Its body is not read meanwhile.
uint64_t AdmissionWaitMs(const config::Config* config) {
  return config != nullptr ? static_cast<uint64_t>(config->server.upload_queue_wait.count()) : 30'000;
}

bool IsHex64(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

bool EndsWithNoCase(std::string_view text, std::string_view suffix) {
  if (text.size() < suffix.size()) return false;
  for (std::size_t i = 0; i < suffix.size(); ++i) {
    char c = text[text.size() - suffix.size() + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != suffix[i]) return false;
  }
  return true;
}

/// API.md: `format` from the option, else the media type or the file name, else csv.
std::string ResolveFormat(const IngestOptions& options) {
  if (!options.format.empty()) return options.format;
  const std::string& type = options.content_type;
  if (type == "text/tab-separated-values") return "tsv";
  if (type == "application/x-ndjson" || type == "application/jsonl" || type == "application/x-jsonlines") return "jsonl";
  std::string_view name = options.filename;
  if (EndsWithNoCase(name, ".gz")) name.remove_suffix(3);
  if (EndsWithNoCase(name, ".tsv") || EndsWithNoCase(name, ".tab")) return "tsv";
  if (EndsWithNoCase(name, ".jsonl") || EndsWithNoCase(name, ".ndjson")) return "jsonl";
  return "csv";
}

IngestError Error(int status, std::string code, std::string message, std::string param = {}) {
  IngestError error;
  error.status = status;
  error.code = std::move(code);
  error.message = std::move(message);
  error.param = std::move(param);
  return error;
}

/// Checks and completes the options; an error is a 400/415 before anything starts.
std::optional<IngestError> Normalize(IngestOptions& options) {
  options.format = ResolveFormat(options);
  if (EndsWithNoCase(options.filename, ".gz")) options.gzip = true;
  if (options.table.empty()) options.table = DeriveTableName(options.filename);
  if (auto status = db::ValidateTableName(options.table); !status.ok()) {
    return Error(400, "invalid_parameter", "table: " + status.message(), "table");
  }
  if (!ParsePublishMode(options.mode)) {
    return Error(400, "invalid_parameter", fmt::format("mode must be create, replace or append, got '{}'", options.mode),
                 "mode");
  }
  if (!csv::ParseEncoding(options.encoding)) {
    return Error(415, "unsupported_encoding", fmt::format("encoding '{}' is not supported (utf-8, latin-1, auto)",
                                                          options.encoding), "encoding");
  }
  // The dialect: an explicit delimiter and the quote must make sense together.
  csv::DialectOptions dialect;
  dialect.format = options.format == "tsv" ? csv::Format::kTsv : csv::Format::kCsv;
  dialect.delimiter = options.delimiter == "auto" ? (options.format == "tsv" ? "\t" : ",") : options.delimiter;
  dialect.quote = options.quote;
  dialect.header = options.header;
  if (auto resolved = csv::ResolveDialect(dialect, "", true); !resolved) {
    std::string param = resolved.error().message().starts_with("quote") ? "quote" : "delimiter";
    return Error(400, "invalid_parameter", resolved.error().message(), param);
  }
  if (options.expected_sha256 && !IsHex64(*options.expected_sha256)) {
    return Error(400, "invalid_parameter", "the expected SHA-256 must be 64 hex digits", "Content-Digest");
  }
  return std::nullopt;
}

}  // namespace

struct IngestRegistry::Impl {
  struct State : std::enable_shared_from_this<State> {
    IngestContext context;
    std::map<std::string, std::shared_ptr<UploadJob>, std::less<>> jobs;
    std::size_t starting = 0;
    bool stopping = false;
    std::vector<std::function<void()>> when_empty;
    /// Starts waiting for room in the budget, by ticket: when they give up.
    struct Waiting {
      uint64_t deadline_ms = 0;
      std::function<void(IngestError)> refuse;
    };
    std::map<uint64_t, Waiting> waiting;
    glue::UvHandle<uv_timer_t> admission_timer;

    ~State() {
      for (auto& [ticket, w] : waiting) context.budget->Cancel(ticket);
    }
    void Admit(std::function<void()> admitted, std::function<void(IngestError)> refuse);
    void CheckWaiting();

    void MaybeEmpty() {
      if (!jobs.empty() || starting > 0 || when_empty.empty()) return;
      auto callbacks = std::move(when_empty);
      when_empty.clear();
      for (auto& done : callbacks) done();
    }
  };
  std::shared_ptr<State> state = std::make_shared<State>();

  void Start(IngestOptions options, IngestJob::Callbacks callbacks, StartCallback done);
  void CreateJob(IngestOptions options, IngestJob::Callbacks callbacks, StartCallback done);
};

IngestRegistry::IngestRegistry(IngestContext context) : impl_(std::make_unique<Impl>()) {
  impl_->state->context = std::move(context);
}

IngestRegistry::~IngestRegistry() = default;

void IngestRegistry::Start(IngestOptions options, IngestJob::Callbacks callbacks, StartCallback done) {
  impl_->Start(std::move(options), std::move(callbacks), std::move(done));
}

std::shared_ptr<IngestJob> IngestRegistry::Find(std::string_view id) const {
  auto it = impl_->state->jobs.find(id);
  return it == impl_->state->jobs.end() ? nullptr : it->second;
}

size_t IngestRegistry::running() const { return impl_->state->jobs.size() + impl_->state->starting; }

void IngestRegistry::CancelAll(std::function<void()> done) {
  auto state = impl_->state;
  state->stopping = true;
  auto waiters = std::move(state->waiting);
  state->waiting.clear();
  for (auto& [ticket, w] : waiters) {
    state->context.budget->Cancel(ticket);
    w.refuse(Error(503, "shutting_down", "the server is shutting down"));
  }
  state->when_empty.push_back(std::move(done));
  auto jobs = state->jobs;  // a cancel may end a job (later) and change the map
  for (auto& [id, job] : jobs) job->Cancel("interrupted", "the server is shutting down");
  Defer(state->context.loop, [state] { state->MaybeEmpty(); });
}

void IngestRegistry::Impl::Start(IngestOptions options, IngestJob::Callbacks callbacks, StartCallback done) {
  uv_loop_t* loop = state->context.loop;
  auto refuse = [loop, done](IngestError error) {
    Defer(loop, [done, error = std::move(error)] { done(nullptr, error); });
  };
  if (auto error = Normalize(options)) return refuse(std::move(*error));
  if (state->stopping) return refuse(Error(503, "shutting_down", "the server is shutting down"));
  const config::Config* config = state->context.config;
  int limit = config != nullptr ? config->server.max_concurrent_uploads : 16;
  if (limit > 0 && state->jobs.size() + state->starting >= static_cast<std::size_t>(limit)) {
    return refuse(Error(503, "busy", fmt::format("{} uploads are running ([server] max_concurrent_uploads); retry later",
                                                 state->jobs.size() + state->starting)));
  }
  ++state->starting;
  // Once started, `done` comes back through this, which also counts the start as over.
  std::weak_ptr<State> weak = state;
  StartCallback finish = [weak, done](std::shared_ptr<IngestJob> job, std::optional<IngestError> error) {
    if (auto s = weak.lock()) {
      --s->starting;
      s->MaybeEmpty();
    }
    done(std::move(job), std::move(error));
  };
  auto next = [this, weak, options, callbacks, finish]() mutable {
    auto s = weak.lock();
    if (!s) return;
    if (s->context.budget == nullptr) return CreateJob(std::move(options), std::move(callbacks), std::move(finish));
    s->Admit([this, weak, options, callbacks, finish]() mutable {
      if (auto alive = weak.lock()) {
        CreateJob(std::move(options), std::move(callbacks), std::move(finish));
      }
    }, [finish](IngestError error) { finish(nullptr, std::move(error)); });
  };
  auto check_duplicate = [weak, options, finish, next]() mutable {
    auto s = weak.lock();
    if (!s) return;
    if (!options.expected_sha256 || s->context.catalog == nullptr) return next();
    std::string sha = *options.expected_sha256;
    for (char& c : sha) c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
    s->context.catalog->FindUpload(options.table, sha, [weak, options, finish, next](
                                                           core::Result<std::optional<db::UploadRecord>> found) mutable {
      auto alive = weak.lock();
      if (!alive) return;
      if (!found) return finish(nullptr, Error(503, "db_unavailable", "the catalog: " + found.error().message()));
      if (!*found) return next();
      std::string earlier = (*found)->id;
      CheckTableExists(*alive->context.pool, options.table, [options, finish, next, earlier](core::Result<bool> exists) mutable {
        if (!exists) return finish(nullptr, Error(503, "db_unavailable", exists.error().message()));
        if (!*exists) return next();
        IngestError error = Error(409, "duplicate_upload",
                                  fmt::format("the same bytes were already loaded into table '{}' by upload {}",
                                              options.table, earlier));
        error.upload_id = earlier;
        finish(nullptr, std::move(error));
      });
    });
  };
  if (options.mode != "create") return check_duplicate();
  CheckTableExists(*state->context.pool, options.table, [options, finish, check_duplicate](core::Result<bool> exists) mutable {
    if (!exists) return finish(nullptr, Error(503, "db_unavailable", "MariaDB: " + exists.error().message()));
    if (*exists) {
      return finish(nullptr, Error(409, "table_exists",
                                   fmt::format("table '{}' already exists (mode=create; use mode=replace or "
                                               "mode=append)", options.table), "table"));
    }
    check_duplicate();
  });
}

void IngestRegistry::Impl::State::Admit(std::function<void()> admitted, std::function<void(IngestError)> refuse) {
  MemoryBudget* budget = context.budget;
  const uint64_t floor = UploadFloorBytes(context);
  // Admitted later means from inside some account's Give or death: the job
  // starts on a later loop turn (and hands the grant back if it cannot).
  struct Call {
    bool inside = true;  ///< still inside Reserve()
    bool at_once = false;
    uint64_t ticket = 0;
  };
  auto call = std::make_shared<Call>();
  std::weak_ptr<State> weak = weak_from_this();
  uv_loop_t* loop = context.loop;
  call->ticket = budget->Reserve(floor, [call, weak, loop, budget, floor, admitted]() mutable {
    if (call->inside) {
      call->at_once = true;
      return;
    }
    if (auto s = weak.lock()) s->waiting.erase(call->ticket);
    Defer(loop, [weak, budget, floor, admitted]() mutable {
      if (!weak.lock()) return budget->Release(floor);
      admitted();
    });
  });
  call->inside = false;
  if (call->at_once) return admitted();
  Waiting w;
  w.deadline_ms = uv_now(loop) + AdmissionWaitMs(context.config);
  w.refuse = std::move(refuse);
  waiting.emplace(call->ticket, std::move(w));
  if (!admission_timer.initialized()) {
    admission_timer.Init(uv_timer_init, loop);
    admission_timer->data = this;
    uv_timer_start(admission_timer.get(), [](uv_timer_t* timer) {
      if (auto* state = static_cast<State*>(timer->data)) state->CheckWaiting();
    }, 250, 250);
  }
}

void IngestRegistry::Impl::State::CheckWaiting() {
  uint64_t now = uv_now(context.loop);
  std::vector<std::function<void(IngestError)>> expired;
  for (auto it = waiting.begin(); it != waiting.end();) {
    if (it->second.deadline_ms > now) {
      ++it;
      continue;
    }
    context.budget->Cancel(it->first);
    expired.push_back(std::move(it->second.refuse));
    it = waiting.erase(it);
  }
  if (waiting.empty()) admission_timer.Close();
  for (auto& refuse : expired) {
    refuse(Error(503, "busy", fmt::format("the uploads running hold the memory budget ([server] memory_budget = {} "
                                          "bytes; this upload needs {}); retry later",
                                          context.budget->limit(), UploadFloorBytes(context))));
  }
}

void IngestRegistry::Impl::CreateJob(IngestOptions options, IngestJob::Callbacks callbacks, StartCallback done) {
  const IngestContext& context = state->context;
  db::UploadRecord record;
  record.id = core::NewUlid();
  record.state = db::UploadState::kReceiving;
  record.table = options.table;
  record.mode = options.mode;
  record.filename = options.filename;
  record.created_at_ms = db::NowMs();
  std::weak_ptr<State> weak = state;
  auto job = UploadJob::Create(context, std::move(options), std::move(record), std::move(callbacks),
                               [weak](const std::string& id) {
                                 auto s = weak.lock();
                                 if (!s) return;
                                 // Forget it on the next turn: it is still inside its own callback now.
                                 Defer(s->context.loop, [weak, id] {
                                   if (auto now = weak.lock()) {
                                     now->jobs.erase(id);
                                     if (now->jobs.empty() && now->starting == 0 && now->context.on_idle) {
                                       now->context.on_idle();
                                     }
                                     now->MaybeEmpty();
                                   }
                                 });
                               });
  if (auto status = job->Begin(); !status.ok()) {
    return done(nullptr, Error(500, "s3_error", "cannot start the S3 upload: " + status.message()));
  }
  auto register_job = [weak, job, done]() {
    auto s = weak.lock();
    if (!s) return;
    s->jobs.emplace(job->record().id, job);
    if (s->stopping) job->Cancel("interrupted", "the server is shutting down");
    done(job, std::nullopt);
  };
  if (context.catalog == nullptr) return register_job();
  context.catalog->CreateUpload(job->record(), [job, done, register_job](core::Status status) {
    if (!status.ok()) return done(nullptr, Error(503, "db_unavailable", "the catalog: " + status.message()));
    register_job();
  });
}

}  // namespace sluice::ingest
