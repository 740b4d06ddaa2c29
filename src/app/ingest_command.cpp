// See ingest_command.hpp. The command builds what `serve` builds for uploads
// (loop, pool, catalog, S3 client, memory budget, registry), runs
// Catalog::Init, starts one job and feeds it from an InputReader: a file (or a
// stdin redirected from one) is read with uv_fs_read, 1 MiB at a time, one
// read in flight; a pipe or terminal on stdin is a uv stream. When the job
// says pause (Write() false) the reader stops and on_writable starts it
// again, so memory stays within the budget whatever the file size.
// SIGINT/SIGTERM cancel the job through its cleanup path (a second one exits
// at once). Teardown happens outside every callback chain: the job leaves the
// registry first (CancelAll's done), then S3, curl and the pool shut down and
// the loop runs dry.
#include "app/ingest_command.hpp"

#include <fmt/format.h>
#include <uv.h>

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "core/json_writer.hpp"
#include "curl/curl_multi_uv.hpp"
#include "db/catalog.hpp"
#include "db/db_pool.hpp"
#include "ingest/defer.hpp"
#include "ingest/ingest_job.hpp"
#include "log/logger.hpp"
#include "loop/work_item.hpp"
#include "s3/s3_client.hpp"
#include "uv/uv_handle.hpp"

namespace sluice::app {
namespace {

constexpr std::size_t kReadBytes = std::size_t{1} << 20;
constexpr const char* kInstalledConfig = "/etc/sluice/sluice.conf";

void PrintError(std::string_view message) { fmt::print(stderr, "sluice ingest: {}\n", message); }

/// Reads FILE (or stdin) on the loop and hands the bytes on. `on_data`
/// returns false to pause; Resume() goes on. `on_end(error)` runs once: at
/// EOF with an empty error, or with the read error.
class InputReader {
 public:
  InputReader(uv_loop_t* loop, std::function<bool(std::string_view)> on_data,
              std::function<void(std::string error)> on_end)
      : loop_(loop), on_data_(std::move(on_data)), on_end_(std::move(on_end)) {
    req_.data = this;
  }
  ~InputReader() {
    pipe_.Close();
    tty_.Close();
    if (fd_ > 0 && owns_fd_) {  // closed on the loop; the request frees itself
      auto close = std::make_unique<uv_fs_t>();
      if (uv_fs_close(loop_, close.get(), fd_, [](uv_fs_t* req) {
            uv_fs_req_cleanup(req);
            std::unique_ptr<uv_fs_t> owned(req);
          }) == 0) {
        close.release();
      }
    }
  }
  InputReader(const InputReader&) = delete;
  InputReader& operator=(const InputReader&) = delete;

  /// Destroys `reader` now, or — while a file request is in flight, whose
  /// memory libuv still holds — from that request's callback.
  static void Dispose(std::unique_ptr<InputReader> reader) {
    if (!reader) return;
    reader->ended_ = true;
    if (reader->stream_ != nullptr) uv_read_stop(reader->stream_);
    if (reader->fs_busy_) {
      reader->orphaned_ = true;
      reader.release();  // re-wrapped in the request's callback
    }
  }

  /// Opens `path` ("-" = stdin) without reading yet; `opened` gets an empty
  /// string or the error. Resume() starts reading.
  void Open(const std::string& path, std::function<void(std::string error)> opened) {
    if (path == "-") {
      uv_handle_type type = uv_guess_handle(0);
      if (type == UV_NAMED_PIPE || type == UV_TTY) return opened(OpenStream(type));
      fd_ = 0;  // a regular file (or /dev/null) redirected to stdin
      return opened({});
    }
    owns_fd_ = true;
    fs_busy_ = true;
    opened_ = std::move(opened);
    int rc = uv_fs_open(loop_, &req_, path.c_str(), O_RDONLY, 0, [](uv_fs_t* req) {
      auto* self = static_cast<InputReader*>(req->data);
      int result = static_cast<int>(req->result);
      uv_fs_req_cleanup(req);
      self->fs_busy_ = false;
      if (result >= 0) self->fd_ = result;
      if (self->orphaned_) return std::unique_ptr<InputReader>(self).reset();
      auto opened_cb = std::move(self->opened_);
      opened_cb(result < 0 ? fmt::format("cannot open {}: {}", self->path_, uv_strerror(result)) : std::string());
    });
    path_ = path;
    if (rc < 0) {
      fs_busy_ = false;
      auto opened_cb = std::move(opened_);
      opened_cb(fmt::format("cannot open {}: {}", path, uv_strerror(rc)));
    }
  }

  /// Reading may go on.
  void Resume() {
    if (!paused_ || ended_) return;
    paused_ = false;
    if (stream_ != nullptr) {
      uv_read_start(stream_, OnAlloc, OnStreamRead);
    } else {
      ReadNext();
    }
  }

 private:
  void ReadNext() {
    if (paused_ || fs_busy_ || ended_) return;
    fs_busy_ = true;
    if (buffer_.size() != kReadBytes) buffer_.resize(kReadBytes);
    uv_buf_t buf = uv_buf_init(buffer_.data(), static_cast<unsigned>(buffer_.size()));
    int rc = uv_fs_read(loop_, &req_, fd_, &buf, 1, -1, [](uv_fs_t* req) {
      auto* self = static_cast<InputReader*>(req->data);
      auto result = static_cast<ssize_t>(req->result);
      uv_fs_req_cleanup(req);
      self->fs_busy_ = false;
      if (self->orphaned_) return std::unique_ptr<InputReader>(self).reset();
      if (result < 0) return self->End(fmt::format("reading the file: {}", uv_strerror(static_cast<int>(result))));
      if (result == 0) return self->End({});
      if (!self->on_data_(std::string_view(self->buffer_.data(), static_cast<std::size_t>(result)))) {
        self->paused_ = true;
        return;
      }
      self->ReadNext();
    });
    if (rc < 0) {
      fs_busy_ = false;
      End(fmt::format("reading the file: {}", uv_strerror(rc)));
    }
  }

  std::string OpenStream(uv_handle_type type) {
    int rc = 0;
    if (type == UV_TTY) {
      rc = tty_.Init(uv_tty_init, loop_, 0, 1);
      if (rc == 0) stream_ = reinterpret_cast<uv_stream_t*>(tty_.get());
    } else {
      rc = pipe_.Init(uv_pipe_init, loop_, 0);
      if (rc == 0) rc = uv_pipe_open(pipe_.get(), 0);
      if (rc == 0) stream_ = reinterpret_cast<uv_stream_t*>(pipe_.get());
    }
    if (rc < 0) return fmt::format("stdin: {}", uv_strerror(rc));
    stream_->data = this;
    return {};  // reading starts with Resume()
  }

  static void OnAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
    auto* self = static_cast<InputReader*>(handle->data);
    if (self->buffer_.size() != kReadBytes) self->buffer_.resize(kReadBytes);
    *buf = uv_buf_init(self->buffer_.data(), static_cast<unsigned>(self->buffer_.size()));
  }

  static void OnStreamRead(uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
    auto* self = static_cast<InputReader*>(stream->data);
    if (self == nullptr || self->ended_) return;
    if (n == UV_EOF) {
      uv_read_stop(stream);
      return self->End({});
    }
    if (n < 0) {
      uv_read_stop(stream);
      return self->End(fmt::format("reading stdin: {}", uv_strerror(static_cast<int>(n))));
    }
    if (n == 0) return;
    if (!self->on_data_(std::string_view(buf->base, static_cast<std::size_t>(n)))) {
      self->paused_ = true;
      uv_read_stop(stream);
    }
  }

  void End(std::string error) {
    if (ended_) return;
    ended_ = true;
    if (on_end_) on_end_(std::move(error));
  }

  uv_loop_t* loop_;
  std::function<bool(std::string_view)> on_data_;
  std::function<void(std::string)> on_end_;
  uv_fs_t req_{};
  int fd_ = -1;
  bool owns_fd_ = false;
  bool fs_busy_ = false;   ///< req_ is with libuv
  bool orphaned_ = false;  ///< Dispose() ran while it was: the callback frees this
  glue::UvHandle<uv_pipe_t> pipe_;
  glue::UvHandle<uv_tty_t> tty_;
  uv_stream_t* stream_ = nullptr;  ///< pipe_ or tty_ when stdin is a stream
  std::string buffer_;
  std::string path_;
  std::function<void(std::string)> opened_;
  bool paused_ = true;  ///< until the first Resume()
  bool ended_ = false;
};

/// The whole command; lives on Run()'s stack.
class IngestCommand {
 public:
  IngestCommand(const IngestCommandArgs& args, config::Config config) : args_(args), config_(std::move(config)) {}
  int Run();

 private:
  void Begin();
  void StartJob();
  void OnFinished(const db::UploadRecord& record);
  void Teardown();
  static void OnSignal(uv_signal_t* handle, int signum);

  const IngestCommandArgs& args_;
  config::Config config_;
  ingest::IngestOptions options_;
  uv_loop_t loop_{};
  std::unique_ptr<db::DbPool> pool_;
  std::unique_ptr<db::Catalog> catalog_;
  std::unique_ptr<glue::CurlMulti> curl_;
  std::unique_ptr<s3::S3Client> s3_;
  std::unique_ptr<ingest::MemoryBudget> budget_;
  std::unique_ptr<ingest::IngestRegistry> registry_;
  std::shared_ptr<ingest::IngestJob> job_;
  std::unique_ptr<InputReader> reader_;
  glue::UvHandle<uv_signal_t> sigint_;
  glue::UvHandle<uv_signal_t> sigterm_;
  bool torn_down_ = false;
  bool cancelled_ = false;
  int exit_code_ = 1;
};

int IngestCommand::Run() {
  // The options first: a bad one is bad usage, before anything connects.
  for (const auto& [name, value] : args_.options) {
    std::string param;
    if (auto status = ingest::ApplyOption(options_, name, value, &param); !status.ok()) {
      PrintError(status.message());
      return 2;
    }
  }
  bool named = false;
  for (const auto& [name, value] : args_.options) named = named || name == "filename";
  if (!named && args_.file != "-") {
    auto slash = args_.file.find_last_of('/');
    options_.filename = slash == std::string::npos ? args_.file : args_.file.substr(slash + 1);
  } else if (!named) {
    options_.filename = "stdin.csv";
  }
  options_.gzip = options_.gzip || args_.gzip;
  if (!args_.sha256.empty()) options_.expected_sha256 = args_.sha256;

  if (int rc = uv_loop_init(&loop_); rc != 0) {
    PrintError(fmt::format("cannot start the event loop: {}", uv_strerror(rc)));
    return 1;
  }
  pool_ = std::make_unique<db::DbPool>(&loop_, config_.mariadb);
  catalog_ = std::make_unique<db::Catalog>(*pool_);
  bool keys = !config_.s3.access_key.empty() && !config_.s3.secret_key.empty();
  if (!args_.no_s3 && keys) {
    auto curl = glue::CurlMulti::Create(&loop_);
    if (!curl) {
      PrintError("s3: " + curl.error().message());
      exit_code_ = 1;
      Teardown();
    } else {
      curl_ = std::move(curl.value());
      auto client = s3::S3Client::Create(*curl_, config_.s3);
      if (!client) {
        PrintError("s3: " + client.error().message());
        exit_code_ = 2;
        Teardown();
      } else {
        s3_ = std::move(client.value());
      }
    }
  } else if (!args_.no_s3) {
    PrintError("note: no [s3] access_key/secret_key configured, so the original file is not stored in S3 "
               "(--no-s3 silences this)");
  }
  if (!torn_down_) {
    budget_ = std::make_unique<ingest::MemoryBudget>(config_.server.memory_budget);
    ingest::IngestContext context;
    context.loop = &loop_;
    context.pool = pool_.get();
    context.catalog = catalog_.get();
    context.s3 = s3_.get();
    context.s3_bucket = config_.s3.bucket;
    context.budget = budget_.get();
    context.config = &config_;
    registry_ = std::make_unique<ingest::IngestRegistry>(context);
    for (auto* handle : {&sigint_, &sigterm_}) {
      handle->Init(uv_signal_init, &loop_);
      (*handle)->data = this;
    }
    uv_signal_start(sigint_.get(), OnSignal, SIGINT);
    uv_signal_start(sigterm_.get(), OnSignal, SIGTERM);
    Begin();
  }

  uv_run(&loop_, UV_RUN_DEFAULT);
  InputReader::Dispose(std::move(reader_));
  job_.reset();
  registry_.reset();
  catalog_.reset();
  pool_.reset();
  uv_run(&loop_, UV_RUN_DEFAULT);  // the pool's and the reader's last handles close
  if (uv_loop_close(&loop_) != 0) log::Get("ingest")->warn("event loop closed with open handles");
  return exit_code_;
}

void IngestCommand::Begin() {
  catalog_->Init([this](core::Status status) {
    if (!status.ok()) {
      PrintError("the catalog in MariaDB: " + status.message());
      exit_code_ = 1;
      return Teardown();
    }
    if (cancelled_) return Teardown();
    // The input first: a file that cannot be read leaves no upload record.
    reader_ = std::make_unique<InputReader>(
        &loop_, [this](std::string_view bytes) { return job_->Write(bytes); },
        [this](std::string read_error) {
          if (!read_error.empty()) return job_->Cancel("read_error", read_error);
          job_->Finish();
        });
    reader_->Open(args_.file, [this](std::string error) {
      // Inside the reader's own callback: tear down (which frees it) on a later turn.
      if (!error.empty()) PrintError(error);
      if (!error.empty() || cancelled_) return ingest::Defer(&loop_, [this] { Teardown(); });
      StartJob();
    });
  });
}

void IngestCommand::StartJob() {
  ingest::IngestJob::Callbacks callbacks;
  callbacks.on_writable = [this] {
    if (reader_) reader_->Resume();
  };
  callbacks.on_finished = [this](const db::UploadRecord& record) { OnFinished(record); };
  registry_->Start(options_, std::move(callbacks),
                   [this](std::shared_ptr<ingest::IngestJob> job, std::optional<ingest::IngestError> error) {
                     if (error) {
                       core::JsonWriter w;
                       w.BeginObject().Key("error").BeginObject().Key("code").String(error->code);
                       w.Key("message").String(error->message);
                       if (!error->param.empty()) w.Key("param").String(error->param);
                       w.EndObject();
                       if (!error->upload_id.empty()) w.Key("upload_id").String(error->upload_id);
                       w.EndObject();
                       fmt::print(stderr, "{}\n", w.str());
                       PrintError(error->message);
                       exit_code_ = error->status == 400 || error->status == 415 ? 2 : 1;
                       return Teardown();
                     }
                     job_ = std::move(job);
                     if (cancelled_) return job_->Cancel("cancelled", "interrupted by a signal");
                     reader_->Resume();
                   });
}

void IngestCommand::OnFinished(const db::UploadRecord& record) {
  fmt::print("{}\n", db::UploadRecordJson(record));
  std::fflush(stdout);
  exit_code_ = record.state == db::UploadState::kDone ? 0 : 1;
  if (exit_code_ != 0) PrintError(fmt::format("{}: {}", record.error_code, record.error_message));
  // The job leaves the registry on a later turn; tear down once it has.
  registry_->CancelAll([this] { Teardown(); });
}

void IngestCommand::Teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  sigint_.Close();
  sigterm_.Close();
  InputReader::Dispose(std::move(reader_));
  s3_.reset();
  if (curl_) curl_->Shutdown();
  curl_.reset();
  pool_->Shutdown([] {});
}

void IngestCommand::OnSignal(uv_signal_t* handle, int signum) {
  auto* self = static_cast<IngestCommand*>(handle->data);
  if (self->cancelled_) std::_Exit(128 + signum);
  self->cancelled_ = true;
  if (self->job_) self->job_->Cancel("cancelled", fmt::format("interrupted by {}", signum == SIGINT ? "SIGINT" : "SIGTERM"));
}

}  // namespace

int RunIngestCommand(const IngestCommandArgs& args) {
  // Without --config: the server's conf when it is installed (same database
  // and bucket as `serve`), else the built-in defaults; SLUICE_* apply to both.
  std::string path = args.config_path;
  if (path.empty() && ::access(kInstalledConfig, R_OK) == 0) path = kInstalledConfig;
  config::LoadResult loaded = path.empty() ? config::LoadString("", "(defaults)") : config::LoadFile(path);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) fmt::print(stderr, "{}\n", error.ToString());
    return 2;
  }
  log::Init(loaded.config.log.level, loaded.config.log.format);
  std::signal(SIGPIPE, SIG_IGN);
  // Blocks, their parses and encodings are MiB-sized and short-lived. Fresh
  // mappings for each (a low fixed mmap threshold) made the kernel fault in
  // and zero fresh pages several times over per CSV byte: ~30% of this
  // process's CPU (perf, 1M rows: 0.88 s → 0.62 s without). Per-thread arenas
  // with glibc's sliding threshold kept pages in every arena instead, so RSS
  // grew. One arena that keeps up to 16 MiB free at its top reuses the
  // buffers of the blocks before, and RSS stays what is in flight plus that:
  // bench/ingest_rss.sh (2 GiB file) and bench/ingest_e2e.sh measure both.
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
  loop::SetWorkerThreads(loaded.config.server.workers);
  IngestCommand command(args, std::move(loaded.config));
  return command.Run();
}

}  // namespace sluice::app
