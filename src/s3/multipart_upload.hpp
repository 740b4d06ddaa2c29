// MultipartUpload: one S3 object written as a stream. The upload pipeline
// hands it body bytes as they arrive from the client socket; it cuts them
// into parts of `part_size`, has each part's SHA-256 computed on the worker
// pool, sends the parts with UploadPart (at most `max_parts_in_flight` at a
// time) and joins them with CompleteMultipartUpload at Finish(). An object of
// at most one part goes up with a single PutObject instead, so small files
// cost one request and leave no multipart state behind.
//
// Why a stream object rather than "upload this buffer": the bytes of an
// upload never all sit in memory (DESIGN.md, the upload pipeline). Memory is
// bounded by part_size × (max_parts_in_flight + 2): the parts in flight, one
// sealed part waiting for a slot and the part being filled. Past that the
// producer is told to pause (Write() returns false) and told to resume
// (on_writable) when a part finishes; buffered_bytes() is what this upload
// holds right now, to count against the pipeline's one memory budget.
//
// Rules:
//  - Loop thread only. Nothing here blocks: hashing runs on the worker pool,
//    requests on the CurlMulti, XML is tiny or parsed off the loop.
//  - Every callback (MultipartEvents, Finish's, Abort's) runs on the loop
//    thread from a later loop iteration, never from inside Write(),
//    Finish() or Abort(). A callback may destroy the upload.
//  - A part's bytes are kept until that part has succeeded: S3Client retries
//    each request alone (`[s3] retries`, backoff with jitter), so a failed
//    part is resent without touching the others.
//  - On a final failure, or Abort(), the upload waits for its requests in
//    flight, then runs AbortMultipartUpload (a 404/405/501 answer counts as
//    done: the upload is gone, or the server — s3rver — cannot abort). The
//    error keeps the S3 status and "<Code>: <Message>" of the request that
//    failed (S3ErrorCode() reads the code back).
//  - Destroying an upload that is neither completed nor cleaned up sends a
//    best-effort AbortMultipartUpload and drops its pending callbacks. The
//    S3Client (and its CurlMulti) must outlive the upload.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "log/logger.hpp"
#include "s3/part_buffer.hpp"
#include "s3/s3_client.hpp"
#include "uv/uv_handle.hpp"

namespace sluice::s3 {

/// How part payloads are signed.
enum class PayloadSigning {
  kSha256,           ///< hex SHA-256 of each part, hashed on the worker pool
  kUnsignedOverTls,  ///< UNSIGNED-PAYLOAD when the endpoint is https; kSha256 over http
};

/// Per-upload settings; FromConfig() takes them from `[s3]`.
struct MultipartOptions {
  uint64_t part_size = 8ull << 20;  ///< [s3] part_size: 5 MiB .. 5 GiB
  int max_parts_in_flight = 4;      ///< [s3] max_parts_in_flight: parts hashing or uploading at once
  std::string content_type;         ///< empty = none sent
  KeyValues extra_headers;          ///< e.g. x-amz-meta-*, signed, on the PUT or CreateMultipartUpload
  PayloadSigning payload_signing = PayloadSigning::kSha256;
  /// Tests only: accept a part_size under 5 MiB (S3 then refuses Complete
  /// with EntityTooSmall; s3rver does not check).
  bool allow_small_parts = false;

  /// part_size and max_parts_in_flight from the conf.
  static MultipartOptions FromConfig(const config::S3Config& config);
};

/// What a finished upload produced.
struct UploadResult {
  std::string key;        ///< relative to [s3] prefix, as given to Create()
  std::string etag;       ///< quotes included; "…-N" for N parts (computed when the server omits it)
  uint64_t size = 0;      ///< bytes written
  int parts = 0;          ///< parts uploaded; 0 = one PutObject
  std::string upload_id;  ///< empty for a PutObject
};

/// Notifications to the producer. All optional; all on the loop thread.
struct MultipartEvents {
  /// WantsMore() is true again after a Write() returned false: resume reading.
  std::function<void()> on_writable;
  /// `bytes` left buffered_bytes() (a part succeeded, or buffers were dropped
  /// after a failure): the pipeline's memory budget can take more.
  std::function<void(uint64_t bytes)> on_released;
  /// The upload failed before Finish() was called (a part or the create
  /// request gave up): stop writing. Cleanup (AbortMultipartUpload) is
  /// already running; Finish()/Abort() report when it is over.
  std::function<void(const core::Status& error)> on_failed;
};

/// One object streamed to S3 (see the file comment for the rules).
class MultipartUpload {
 public:
  /// Where an upload is in its life.
  enum class State {
    kOpen,       ///< taking Write()s
    kFinishing,  ///< Finish() called; parts draining, then Complete (or the one PUT)
    kCompleted,  ///< the object exists; Finish's callback got the result
    kFailing,    ///< failed or aborted; waiting for requests in flight, then AbortMultipartUpload
    kFailed,     ///< failed and cleaned up; error() says why
    kAborted,    ///< Abort() ran and cleanup is over
  };

  /// Checks the options (part_size 5 MiB .. 5 GiB unless allow_small_parts,
  /// max_parts_in_flight 1 .. 64) and prepares an upload of `key` (relative to
  /// the client's prefix). Nothing is sent before the first part is full or
  /// Finish() is called.
  static core::Result<std::unique_ptr<MultipartUpload>> Create(S3Client& client, std::string key,
                                                               MultipartOptions options, MultipartEvents events = {});
  MultipartUpload(const MultipartUpload&) = delete;
  MultipartUpload& operator=(const MultipartUpload&) = delete;
  ~MultipartUpload();

  /// Appends `bytes` (copied). Returns WantsMore(): false means pause the
  /// producer until on_writable. Bytes written while paused are still taken
  /// (the bound grows by one write). After a failure, or once Finish() or
  /// Abort() was called, the bytes are dropped and false is returned.
  bool Write(std::string_view bytes);
  /// True while the upload takes more bytes without passing its memory bound.
  bool WantsMore() const noexcept;

  /// Ends the stream: sends what is buffered (one PutObject when no part was
  /// cut yet), waits for every part, completes the upload. `done` gets the
  /// result, or the error after cleanup. Call once.
  void Finish(Callback<UploadResult> done);
  /// Stops the upload: drops buffered bytes, waits for requests in flight,
  /// runs AbortMultipartUpload. `done` gets Ok when S3 holds nothing of the
  /// upload any more, else the cleanup's error. A pending Finish() gets an
  /// "Aborted" error. After completion there is nothing to abort: `done` gets
  /// kConflict (delete the object instead). May be called more than once.
  void Abort(StatusCallback done);

  /// Bytes this upload holds: the part being filled plus every part not yet
  /// uploaded (queued, hashing, or in flight and kept for retries).
  uint64_t buffered_bytes() const noexcept { return buffered_bytes_; }
  /// Bytes in the part being filled (part of buffered_bytes(); it moves on
  /// only with more bytes, or at Finish).
  uint64_t open_part_bytes() const noexcept { return current_ ? current_->size() : 0; }
  /// Bytes accepted by Write() so far.
  uint64_t bytes_written() const noexcept { return bytes_written_; }
  /// Parts hashing or uploading right now (at most max_parts_in_flight).
  int parts_in_flight() const noexcept { return in_flight_; }
  /// Parts uploaded successfully so far.
  int parts_uploaded() const noexcept { return static_cast<int>(completed_.size()); }
  /// The current state.
  State state() const noexcept { return state_; }
  /// Why the upload failed (Ok unless kFailing/kFailed/kAborted).
  const core::Status& error() const noexcept { return error_; }
  /// The UploadId once CreateMultipartUpload answered ("" before, or for a PUT).
  const std::string& upload_id() const noexcept { return upload_id_; }
  /// The key, relative to the client's prefix.
  const std::string& key() const noexcept { return key_; }
  /// The options in use.
  const MultipartOptions& options() const noexcept { return options_; }

 private:
  enum class Stage { kQueued, kHashing, kReady, kUploading };
  struct Part {
    int number = 0;
    std::shared_ptr<const PartBuffer> data;
    std::string payload_sha256;
    Stage stage = Stage::kQueued;
  };

  MultipartUpload(S3Client& client, std::string key, MultipartOptions options, MultipartEvents events);

  void SealCurrent();
  void Pump();
  void PumpOnce();
  void StartHash(Part& part);
  void OnHashed(int number, std::string sha256, int status);
  void OnSinglePutHashed(glue::HttpBody body, std::string sha256, int status);
  void StartCreate();
  void OnCreated(core::Result<std::string> id);
  void StartUpload(Part& part);
  void OnPartDone(int number, core::Result<std::string> etag);
  void StartSinglePut();
  void OnSinglePutDone(core::Result<PutObjectResult> result);
  void StartComplete();
  void OnCompleted(core::Result<CompleteMultipartResult> result);
  void OnCompleteLost(core::Status error, core::Result<ObjectInfo> head);
  void Succeed(UploadResult result);

  void Fail(core::Status error);
  void FailAborted();
  void DropBuffers();
  void MaybeCleanUp();
  void OnAbortDone(core::Status status);
  void FinishCleanUp(core::Status cleanup);
  void DeliverFinish(core::Result<UploadResult> result);
  void Defer(std::function<void()> call);

  void Release(uint64_t bytes);
  void ScheduleNotify();
  static void OnNotify(uv_timer_t* timer);
  void RunNotifications();

  Part* FirstInStage(Stage stage);
  std::string Context() const;

  S3Client& client_;
  std::string key_;
  MultipartOptions options_;
  MultipartEvents events_;
  std::shared_ptr<spdlog::logger> logger_;
  std::shared_ptr<MultipartUpload*> alive_;  ///< completions hold a weak_ptr to this

  State state_ = State::kOpen;
  std::unique_ptr<PartBuffer> current_;  ///< the part being filled (null until its first byte)
  std::map<int, Part> parts_;            ///< sealed and not yet uploaded, by number
  std::vector<CompletedPart> completed_; ///< uploaded, in completion order
  int next_part_number_ = 1;
  int in_flight_ = 0;                    ///< parts in kHashing, kReady or kUploading
  uint64_t buffered_bytes_ = 0;
  uint64_t bytes_written_ = 0;
  std::string upload_id_;
  bool creating_ = false;    ///< CreateMultipartUpload in flight
  bool putting_ = false;     ///< the single PutObject (or its hash) in flight
  bool completing_ = false;  ///< CompleteMultipartUpload (or its HEAD check) in flight
  bool aborting_ = false;    ///< AbortMultipartUpload in flight
  bool abort_requested_ = false;
  bool aborted_by_caller_ = false;  ///< the failure is Abort()'s, not an error's
  bool told_to_pause_ = false;
  bool pumping_ = false;
  bool repump_ = false;
  core::Status error_;
  core::Status cleanup_status_;

  // Callbacks wait here and run from the notify timer, never from inside a
  // call into this object. Flags coalesce; completions queue.
  glue::UvHandle<uv_timer_t> notify_;
  bool notify_writable_ = false;
  uint64_t notify_released_ = 0;
  bool notify_failed_ = false;
  std::vector<std::function<void()>> deferred_;
  bool finish_called_ = false;
  Callback<UploadResult> finish_done_;
  std::vector<StatusCallback> abort_waiting_;  ///< Abort() callbacks waiting for cleanup
  bool cleaned_up_ = false;                    ///< nothing of the upload is left on S3 (or it completed)
  uint64_t single_put_bytes_ = 0;
};

/// The name of a state, for logs and test messages.
std::string_view StateName(MultipartUpload::State state);

}  // namespace sluice::s3
