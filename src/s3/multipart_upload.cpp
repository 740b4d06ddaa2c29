// MultipartUpload (see multipart_upload.hpp): a small state machine on the
// loop thread.
//
// Write() appends to `current_` (a PartBuffer: its own mapping, so freed
// parts leave RSS at once); a full part is sealed only when the next
// byte arrives (or at Finish), so an object of exactly part_size bytes still
// goes up as one PutObject. A sealed part moves through kQueued → kHashing
// (SHA-256 on the worker pool) → kReady → kUploading and leaves `parts_` when
// its UploadPart succeeds; its bytes stay referenced until then, so the
// client's per-request retries resend them. At most max_parts_in_flight parts
// are past kQueued at once. CreateMultipartUpload is sent with the first
// sealed part, and parts wait in kReady until its UploadId arrives.
//
// Pump() is the one place that starts work; it runs after every event and is
// guarded against re-entry (a request that fails synchronously calls back
// into us while Pump is still running). Failure is one path: Fail() records
// the first error, drops every buffer not in a request, waits until nothing
// is in flight, then runs AbortMultipartUpload once (MaybeCleanUp).
//
// Callbacks to the producer are queued and run from a zero-delay uv timer, so
// none runs inside Write()/Finish()/Abort(), and each is the last thing a
// notification step does: the producer may destroy the upload in any of them
// (RunNotifications checks the weak token after each).
#include "s3/multipart_upload.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "loop/work_item.hpp"
#include "uv/uv_error.hpp"

namespace sluice::s3 {
namespace {

// Adds where it happened to an S3 error, keeping its "<Code>: <Message>" first.
core::Status Annotate(const core::Status& error, std::string_view context) {
  return {error.domain(), error.code(), fmt::format("{} ({})", error.message(), context)};
}

// AbortMultipartUpload answers that still mean "nothing left to clean up".
// The request body for a part (or the single PUT); an empty object has none.
glue::HttpBody BodyOf(const std::shared_ptr<const PartBuffer>& buffer) {
  if (!buffer) return glue::HttpBody(std::make_shared<const std::string>());
  return glue::HttpBody(buffer, buffer->view());
}

bool AbortCountsAsDone(const core::Status& s, std::shared_ptr<spdlog::logger>& logger, std::string_view what) {
  if (s.ok()) return true;
  if (s.domain() != core::ErrorDomain::kS3) return false;
  if (s.code() == 404) return true;  // NoSuchUpload: already gone
  if (s.code() == 405 || s.code() == 501) {
    logger->warn("{}: the server cannot abort multipart uploads ({}); its parts may stay", what, s.message());
    return true;  // s3rver
  }
  return false;
}

}  // namespace

std::string_view StateName(MultipartUpload::State state) {
  switch (state) {
    case MultipartUpload::State::kOpen: return "open";
    case MultipartUpload::State::kFinishing: return "finishing";
    case MultipartUpload::State::kCompleted: return "completed";
    case MultipartUpload::State::kFailing: return "failing";
    case MultipartUpload::State::kFailed: return "failed";
    case MultipartUpload::State::kAborted: return "aborted";
  }
  return "?";
}

MultipartOptions MultipartOptions::FromConfig(const config::S3Config& config) {
  MultipartOptions o;
  o.part_size = config.part_size;
  o.max_parts_in_flight = config.max_parts_in_flight;
  return o;
}

// ---- construction ----

core::Result<std::unique_ptr<MultipartUpload>> MultipartUpload::Create(S3Client& client, std::string key,
                                                                       MultipartOptions options,
                                                                       MultipartEvents events) {
  if (key.empty()) return core::Status::Invalid("s3: an upload needs a key");
  if (options.part_size == 0 || options.part_size > kMaxPartSize ||
      (options.part_size < kMinPartSize && !options.allow_small_parts)) {
    return core::Status::Invalid(
        fmt::format("s3: part_size {} is outside S3's limits (5 MiB .. 5 GiB)", options.part_size));
  }
  if (options.max_parts_in_flight < 1 || options.max_parts_in_flight > 64) {
    return core::Status::Invalid(
        fmt::format("s3: max_parts_in_flight {} is outside 1 .. 64", options.max_parts_in_flight));
  }
  std::unique_ptr<MultipartUpload> self(
      new MultipartUpload(client, std::move(key), std::move(options), std::move(events)));
  if (int rc = self->notify_.Init(uv_timer_init, client.loop()); rc != 0) {
    return glue::UvStatus(rc, "uv_timer_init");
  }
  self->notify_->data = self.get();
  return self;
}

MultipartUpload::MultipartUpload(S3Client& client, std::string key, MultipartOptions options,
                                 MultipartEvents events)
    : client_(client),
      key_(std::move(key)),
      options_(std::move(options)),
      events_(std::move(events)),
      logger_(log::Get("s3")),
      alive_(std::make_shared<MultipartUpload*>(this)) {}

MultipartUpload::~MultipartUpload() {
  alive_.reset();  // completions still in flight find no one and stop
  if (!upload_id_.empty() && !cleaned_up_ && !aborting_) {
    // Best effort: the producer dropped us mid-way. Parts still uploading may
    // land after this; ListMultipartUploads finds any such leftover.
    logger_->warn("upload of {} destroyed while {}; aborting {}", key_, StateName(state_), upload_id_);
    client_.AbortMultipartUpload(key_, upload_id_,
                                 [logger = logger_, key = key_, id = upload_id_](core::Status s) {
                                   if (!s.ok()) logger->error("abort of {} ({}) failed: {}", key, id, s.message());
                                 });
  } else if (creating_) {
    logger_->warn("upload of {} destroyed while CreateMultipartUpload was in flight; "
                  "ListMultipartUploads will show it", key_);
  }
}

std::string MultipartUpload::Context() const {
  if (upload_id_.empty()) return fmt::format("upload of {}", client_.FullKey(key_));
  return fmt::format("upload {} of {}", upload_id_, client_.FullKey(key_));
}

// ---- the producer's side ----

bool MultipartUpload::WantsMore() const noexcept {
  return state_ == State::kOpen && parts_.size() <= static_cast<size_t>(options_.max_parts_in_flight);
}

bool MultipartUpload::Write(std::string_view bytes) {
  if (state_ != State::kOpen) {
    if (!bytes.empty() && (state_ == State::kFinishing || state_ == State::kCompleted)) {
      logger_->error("{}: {} bytes written after Finish() are dropped", Context(), bytes.size());
    }
    return false;
  }
  bytes_written_ += bytes.size();
  while (!bytes.empty()) {
    if (current_ && current_->full()) {
      SealCurrent();  // only now: the stream goes on past this part
      if (state_ != State::kOpen) return false;
    }
    if (!current_) {
      current_ = PartBuffer::Create(options_.part_size);
      if (!current_) {
        Fail(core::Status{core::ErrorDomain::kLimit, 0,
                          fmt::format("s3: no memory for a part of {} bytes ({})", options_.part_size, Context())});
        return false;
      }
    }
    const size_t n = current_->Append(bytes);
    buffered_bytes_ += n;
    bytes.remove_prefix(n);
  }
  const bool more = WantsMore();
  if (!more) told_to_pause_ = true;
  return more;
}

void MultipartUpload::Finish(Callback<UploadResult> done) {
  if (finish_called_) {
    Defer([done = std::move(done)] { done(core::Status::Invalid("s3: Finish() called twice on one upload")); });
    return;
  }
  finish_called_ = true;
  finish_done_ = std::move(done);
  switch (state_) {
    case State::kOpen:
      state_ = State::kFinishing;
      if (next_part_number_ == 1) {
        StartSinglePut();  // nothing was cut yet: the object fits in one request
      } else {
        if (current_ && current_->size() > 0) SealCurrent();  // the last part may be small
        Pump();
      }
      return;
    case State::kFailed:
    case State::kAborted:
      DeliverFinish(error_);
      return;
    default:
      return;  // kFailing: FinishCleanUp delivers
  }
}

void MultipartUpload::Abort(StatusCallback done) {
  switch (state_) {
    case State::kCompleted:
      Defer([done = std::move(done), msg = fmt::format("s3: {} already completed; delete the object instead",
                                                        client_.FullKey(key_))] {
        done(core::Status{core::ErrorDomain::kConflict, 0, msg});
      });
      return;
    case State::kFailed:
    case State::kAborted:
      Defer([done = std::move(done), s = cleanup_status_] { done(s); });
      return;
    case State::kFailing:
      abort_waiting_.push_back(std::move(done));
      return;
    case State::kOpen:
    case State::kFinishing:
      abort_waiting_.push_back(std::move(done));
      if (abort_requested_) return;
      abort_requested_ = true;
      // The last request (Complete, or the one PUT) decides on its own: if it
      // succeeds the object exists (Abort gets kConflict), else cleanup runs.
      if (completing_ || putting_) return;
      FailAborted();
      return;
  }
}

// ---- parts ----

void MultipartUpload::SealCurrent() {
  if (next_part_number_ > kMaxPartNumber) {
    Fail(core::Status{core::ErrorDomain::kLimit, 0,
                      fmt::format("s3: {} needs more than {} parts of {} bytes; raise [s3] part_size", Context(),
                                  kMaxPartNumber, options_.part_size)});
    return;
  }
  Part part;
  part.number = next_part_number_++;
  part.data = std::move(current_);  // the next Write maps a fresh buffer
  parts_.emplace(part.number, std::move(part));
  Pump();
}

MultipartUpload::Part* MultipartUpload::FirstInStage(Stage stage) {
  for (auto& [number, part] : parts_) {
    if (part.stage == stage) return &part;
  }
  return nullptr;
}

void MultipartUpload::Pump() {
  if (pumping_) {
    repump_ = true;
    return;
  }
  pumping_ = true;
  do {
    repump_ = false;
    PumpOnce();
  } while (repump_);
  pumping_ = false;
  if (told_to_pause_ && WantsMore()) {
    told_to_pause_ = false;
    notify_writable_ = true;
    ScheduleNotify();
  }
}

void MultipartUpload::PumpOnce() {
  if (state_ == State::kFailing) {
    MaybeCleanUp();
    return;
  }
  if (state_ != State::kOpen && state_ != State::kFinishing) return;
  if (putting_) return;
  auto running = [this] { return state_ == State::kOpen || state_ == State::kFinishing; };
  while (in_flight_ < options_.max_parts_in_flight) {
    Part* part = FirstInStage(Stage::kQueued);
    if (part == nullptr) break;
    StartHash(*part);
    if (!running()) return;
  }
  if (upload_id_.empty()) {
    if (!creating_ && !parts_.empty()) StartCreate();
    return;
  }
  while (Part* part = FirstInStage(Stage::kReady)) {
    StartUpload(*part);  // `part` may be gone after this (a synchronous failure)
    if (!running()) return;
  }
  if (state_ == State::kFinishing && parts_.empty() && in_flight_ == 0 && !completing_) StartComplete();
}

void MultipartUpload::StartHash(Part& part) {
  part.stage = Stage::kHashing;
  ++in_flight_;
  if (options_.payload_signing == PayloadSigning::kUnsignedOverTls && client_.https()) {
    part.payload_sha256 = std::string(kUnsignedPayload);  // TLS protects the bytes on the wire
    part.stage = Stage::kReady;
    return;
  }
  struct Hash {
    std::shared_ptr<const PartBuffer> data;
    std::string hex;  // written on the worker, read on the loop after it
  };
  auto hash = std::make_shared<Hash>();
  hash->data = part.data;
  std::weak_ptr<MultipartUpload*> alive = alive_;
  loop::SubmitWork(
      client_.loop(), [hash] { hash->hex = Sha256Hex(hash->data->view()); },
      [alive, hash, number = part.number](int status) {
        if (auto self = alive.lock()) (*self)->OnHashed(number, std::move(hash->hex), status);
      });
}

void MultipartUpload::OnHashed(int number, std::string sha256, int status) {
  auto it = parts_.find(number);
  if (it == parts_.end() || it->second.stage != Stage::kHashing) return;  // dropped by a failure
  if (status != 0) {
    Release(it->second.data->size());
    parts_.erase(it);
    --in_flight_;
    Fail(glue::UvStatus(status, fmt::format("hashing part {} of {}", number, Context())));
    return;
  }
  it->second.payload_sha256 = std::move(sha256);
  it->second.stage = Stage::kReady;
  Pump();
}

void MultipartUpload::StartCreate() {
  creating_ = true;
  PutOptions put;
  put.content_type = options_.content_type;
  put.extra_headers = options_.extra_headers;
  std::weak_ptr<MultipartUpload*> alive = alive_;
  client_.CreateMultipartUpload(key_, std::move(put), [alive](core::Result<std::string> id) {
    if (auto self = alive.lock()) (*self)->OnCreated(std::move(id));
  });
}

void MultipartUpload::OnCreated(core::Result<std::string> id) {
  creating_ = false;
  if (!id) {
    Fail(Annotate(id.error(), fmt::format("CreateMultipartUpload of {}", client_.FullKey(key_))));
    return;
  }
  upload_id_ = std::move(*id);
  logger_->debug("{}: started", Context());
  Pump();  // uploads the parts waiting in kReady, or cleans up when failing
}

void MultipartUpload::StartUpload(Part& part) {
  part.stage = Stage::kUploading;
  std::weak_ptr<MultipartUpload*> alive = alive_;
  const int number = part.number;
  client_.UploadPart(key_, upload_id_, number, BodyOf(part.data), part.payload_sha256,
                     [alive, number](core::Result<std::string> etag) {
                       if (auto self = alive.lock()) (*self)->OnPartDone(number, std::move(etag));
                     });
}

void MultipartUpload::OnPartDone(int number, core::Result<std::string> etag) {
  auto it = parts_.find(number);
  if (it == parts_.end()) return;
  const uint64_t size = it->second.data->size();
  parts_.erase(it);  // the bytes are released: the part succeeded, or its retries are over
  --in_flight_;
  Release(size);
  if (!etag) {
    Fail(Annotate(etag.error(), fmt::format("part {} of {}", number, Context())));
    return;
  }
  if (state_ == State::kFailing) {
    MaybeCleanUp();
    return;
  }
  completed_.push_back({number, std::move(*etag)});
  Pump();
}

// ---- one PUT for a small object ----

void MultipartUpload::StartSinglePut() {
  putting_ = true;
  glue::HttpBody body = BodyOf(std::shared_ptr<const PartBuffer>(std::move(current_)));
  single_put_bytes_ = body.size();
  if (options_.payload_signing == PayloadSigning::kUnsignedOverTls && client_.https()) {
    OnSinglePutHashed(std::move(body), std::string(kUnsignedPayload), 0);
    return;
  }
  struct Hash {
    glue::HttpBody body;
    std::string hex;
  };
  auto hash = std::make_shared<Hash>();
  hash->body = std::move(body);
  std::weak_ptr<MultipartUpload*> alive = alive_;
  loop::SubmitWork(
      client_.loop(), [hash] { hash->hex = Sha256Hex(hash->body.bytes); },
      [alive, hash](int status) {
        if (auto self = alive.lock()) (*self)->OnSinglePutHashed(std::move(hash->body), std::move(hash->hex), status);
      });
}

void MultipartUpload::OnSinglePutHashed(glue::HttpBody body, std::string sha256, int status) {
  if (abort_requested_ || status != 0) {
    putting_ = false;
    Release(single_put_bytes_);
    if (status != 0) {
      Fail(glue::UvStatus(status, fmt::format("hashing the body of {}", Context())));
    } else {
      FailAborted();
    }
    return;
  }
  PutOptions put;
  put.content_type = options_.content_type;
  put.payload_sha256 = std::move(sha256);
  put.extra_headers = options_.extra_headers;
  std::weak_ptr<MultipartUpload*> alive = alive_;
  client_.PutObject(key_, std::move(body), std::move(put), [alive](core::Result<PutObjectResult> r) {
    if (auto self = alive.lock()) (*self)->OnSinglePutDone(std::move(r));
  });
}

void MultipartUpload::OnSinglePutDone(core::Result<PutObjectResult> result) {
  putting_ = false;
  Release(single_put_bytes_);
  if (!result) {
    Fail(Annotate(result.error(), fmt::format("PutObject of {}", client_.FullKey(key_))));
    return;
  }
  UploadResult out;
  out.key = key_;
  out.etag = std::move(result->etag);
  out.size = bytes_written_;
  Succeed(std::move(out));
}

// ---- completion ----

void MultipartUpload::StartComplete() {
  completing_ = true;
  std::sort(completed_.begin(), completed_.end(),
            [](const CompletedPart& a, const CompletedPart& b) { return a.part_number < b.part_number; });
  std::weak_ptr<MultipartUpload*> alive = alive_;
  client_.CompleteMultipartUpload(key_, upload_id_, completed_, [alive](core::Result<CompleteMultipartResult> r) {
    if (auto self = alive.lock()) (*self)->OnCompleted(std::move(r));
  });
}

void MultipartUpload::OnCompleted(core::Result<CompleteMultipartResult> result) {
  if (!result) {
    if (S3ErrorCode(result.error()) == "NoSuchUpload") {
      // A retried Complete whose first answer was lost finds the upload gone:
      // the object may well be there. Trust it only if its ETag is ours.
      std::weak_ptr<MultipartUpload*> alive = alive_;
      client_.HeadObject(key_, [alive, error = result.error()](core::Result<ObjectInfo> head) {
        if (auto self = alive.lock()) (*self)->OnCompleteLost(error, std::move(head));
      });
      return;
    }
    completing_ = false;
    Fail(Annotate(result.error(), fmt::format("CompleteMultipartUpload of {} parts, {}", completed_.size(),
                                              Context())));
    return;
  }
  completing_ = false;
  std::vector<std::string> etags;
  etags.reserve(completed_.size());
  for (const auto& p : completed_) etags.push_back(p.etag);
  UploadResult out;
  out.key = key_;
  out.etag = result->etag;
  if (out.etag.empty()) out.etag = MultipartEtag(etags).value_or("");  // Ceph RGW 16 leaves it out
  out.size = bytes_written_;
  out.parts = static_cast<int>(completed_.size());
  out.upload_id = upload_id_;
  Succeed(std::move(out));
}

void MultipartUpload::OnCompleteLost(core::Status error, core::Result<ObjectInfo> head) {
  completing_ = false;
  std::vector<std::string> etags;
  for (const auto& p : completed_) etags.push_back(p.etag);
  const auto expected = MultipartEtag(etags);
  if (head && expected && head->etag == *expected && head->size == bytes_written_) {
    logger_->info("{}: Complete's answer was lost, but the object is there with our ETag", Context());
    UploadResult out;
    out.key = key_;
    out.etag = head->etag;
    out.size = bytes_written_;
    out.parts = static_cast<int>(completed_.size());
    out.upload_id = upload_id_;
    Succeed(std::move(out));
    return;
  }
  Fail(Annotate(error, fmt::format("CompleteMultipartUpload of {}", Context())));
}

void MultipartUpload::Succeed(UploadResult result) {
  state_ = State::kCompleted;
  cleaned_up_ = true;
  logger_->debug("{}: completed, {} bytes in {} part(s), ETag {}", Context(), result.size, result.parts,
                 result.etag);
  DeliverFinish(std::move(result));
  for (auto& done : abort_waiting_) {
    Defer([done = std::move(done), msg = fmt::format("s3: {} completed before Abort(); delete the object instead",
                                                      client_.FullKey(key_))] {
      done(core::Status{core::ErrorDomain::kConflict, 0, msg});
    });
  }
  abort_waiting_.clear();
}

// ---- failure and cleanup ----

void MultipartUpload::FailAborted() {
  aborted_by_caller_ = true;
  Fail(core::Status{core::ErrorDomain::kS3, 0, fmt::format("Aborted: {} was aborted before it completed", Context())});
}

void MultipartUpload::Fail(core::Status error) {
  if (state_ == State::kFailing) {  // the first error wins; this one only moves cleanup on
    Pump();
    return;
  }
  if (state_ != State::kOpen && state_ != State::kFinishing) return;
  state_ = State::kFailing;
  error_ = std::move(error);
  if (abort_requested_) {
    logger_->info("{}: aborting", Context());
  } else {
    logger_->warn("{}: failed: {}", Context(), error_.message());
  }
  DropBuffers();
  if (!finish_called_ && !abort_requested_) {
    notify_failed_ = true;
    ScheduleNotify();
  }
  Pump();  // → MaybeCleanUp, re-entry safe
}

void MultipartUpload::DropBuffers() {
  uint64_t dropped = current_ ? current_->size() : 0;
  current_.reset();
  for (auto it = parts_.begin(); it != parts_.end();) {
    if (it->second.stage == Stage::kUploading) {
      ++it;  // the request holds the bytes; its completion releases them
      continue;
    }
    if (it->second.stage != Stage::kQueued) --in_flight_;  // a hash still running finds nothing
    dropped += it->second.data->size();
    it = parts_.erase(it);
  }
  if (dropped > 0) Release(dropped);
}

void MultipartUpload::MaybeCleanUp() {
  if (state_ != State::kFailing || cleaned_up_) return;
  if (in_flight_ > 0 || creating_ || completing_ || putting_ || aborting_) return;  // wait for them
  if (upload_id_.empty()) {
    FinishCleanUp(core::Status::Ok());  // nothing was created on S3
    return;
  }
  aborting_ = true;
  std::weak_ptr<MultipartUpload*> alive = alive_;
  client_.AbortMultipartUpload(key_, upload_id_, [alive](core::Status s) {
    if (auto self = alive.lock()) (*self)->OnAbortDone(std::move(s));
  });
}

void MultipartUpload::OnAbortDone(core::Status status) {
  aborting_ = false;
  if (AbortCountsAsDone(status, logger_, Context())) {
    FinishCleanUp(core::Status::Ok());
    return;
  }
  logger_->error("{}: AbortMultipartUpload failed ({}); the parts stay until a cleanup finds them", Context(),
                 status.message());
  FinishCleanUp(std::move(status));
}

void MultipartUpload::FinishCleanUp(core::Status cleanup) {
  cleaned_up_ = cleanup.ok();
  cleanup_status_ = cleanup;
  state_ = aborted_by_caller_ ? State::kAborted : State::kFailed;
  if (!cleanup.ok()) {
    error_ = core::Status{error_.domain(), error_.code(),
                          fmt::format("{}; AbortMultipartUpload failed too: {}", error_.message(), cleanup.message())};
  } else if (!upload_id_.empty() && !aborted_by_caller_) {
    error_ = core::Status{error_.domain(), error_.code(), fmt::format("{}; upload aborted", error_.message())};
  }
  if (finish_called_) DeliverFinish(error_);
  for (auto& done : abort_waiting_) {
    Defer([done = std::move(done), cleanup] { done(cleanup); });
  }
  abort_waiting_.clear();
}

// ---- notifications ----

void MultipartUpload::DeliverFinish(core::Result<UploadResult> result) {
  if (!finish_done_) return;
  Defer([done = std::move(finish_done_), result = std::move(result)]() mutable { done(std::move(result)); });
  finish_done_ = nullptr;
}

void MultipartUpload::Release(uint64_t bytes) {
  buffered_bytes_ -= std::min(bytes, buffered_bytes_);
  if (events_.on_released && bytes > 0) {
    notify_released_ += bytes;
    ScheduleNotify();
  }
}

void MultipartUpload::Defer(std::function<void()> call) {
  deferred_.push_back(std::move(call));
  ScheduleNotify();
}

void MultipartUpload::ScheduleNotify() {
  if (!notify_.initialized() || uv_is_active(notify_.base())) return;
  uv_timer_start(notify_.get(), &MultipartUpload::OnNotify, 0, 0);
}

void MultipartUpload::OnNotify(uv_timer_t* timer) {
  auto* self = static_cast<MultipartUpload*>(timer->data);
  if (self != nullptr) self->RunNotifications();
}

void MultipartUpload::RunNotifications() {
  // Each callback may destroy `this`: copy what it needs, call it last, and
  // stop as soon as the weak token says we are gone.
  std::weak_ptr<MultipartUpload*> alive = alive_;
  if (notify_released_ > 0) {
    const uint64_t bytes = std::exchange(notify_released_, 0);
    if (auto cb = events_.on_released) {
      cb(bytes);
      if (alive.expired()) return;
    }
  }
  if (std::exchange(notify_writable_, false) && state_ == State::kOpen && WantsMore()) {
    if (auto cb = events_.on_writable) {
      cb();
      if (alive.expired()) return;
    }
  }
  if (std::exchange(notify_failed_, false)) {
    if (auto cb = events_.on_failed) {
      const core::Status error = error_;
      cb(error);
      if (alive.expired()) return;
    }
  }
  std::vector<std::function<void()>> calls = std::move(deferred_);
  deferred_.clear();
  for (auto& call : calls) {
    call();
    if (alive.expired()) return;
  }
}

}  // namespace sluice::s3
