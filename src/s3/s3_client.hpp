// S3Client: the S3 operations sluice needs, each one an HTTP request built
// from the config (s3_url), signed with SigV4 (sigv4) and sent through the
// loop-driven curl multi (glue::CurlMulti). Callbacks run on the loop thread.
//
// Errors: a transport failure is Status{kS3, CURLcode, "..."}; an HTTP error
// is Status{kS3, http_status, "<Code>: <Message>"} with Code and Message read
// from S3's `<Error>` XML body (s3_xml), or derived from the status when there
// is no body (HEAD). A 200 that carries an `<Error>` (CompleteMultipartUpload
// can do that) is an error too.
//
// Keys are relative to the configured `prefix` (prepended verbatim). The clock
// is injected so tests can sign at a fixed instant. The client may be
// destroyed while requests are in flight (they complete without retries); the
// CurlMulti must outlive them (its Shutdown() cancels them).
//
// Retries: a transport failure (connect, reset, timeout), HTTP 5xx (except
// 501 NotImplemented and 505) or 429, an
// S3 RequestTimeout, or a 200 carrying an <Error> (CompleteMultipartUpload
// only) is retried up to `retries` times (from the conf) with exponential
// backoff and jitter, re-signed each time; the body is resent from the same
// shared buffer. A waiting retry is a uv timer owned by the client: destroying
// the client cancels it (its callback gets a cancelled status). Every retry
// and every operation that ends without a success is counted per operation
// (stats(), for /metrics).
//
// Multipart upload (Create / UploadPart / Complete / Abort) is here too, as
// single requests; MultipartUpload (multipart_upload.hpp) drives them for a
// stream. Listings (ListObjectsV2, ListMultipartUploads, ListParts) find what
// an interrupted upload left behind; big pages are parsed on the worker pool.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "curl/curl_multi_uv.hpp"
#include "log/logger.hpp"
#include "s3/s3_documents.hpp"
#include "s3/s3_url.hpp"
#include "s3/sigv4.hpp"

namespace sluice::s3 {

/// Where "now" comes from when signing.
using Clock = std::function<std::chrono::sys_seconds()>;
/// The system clock, truncated to seconds.
std::chrono::sys_seconds SystemNow();

/// A completion with a value.
template <class T>
using Callback = std::function<void(core::Result<T>)>;
/// A completion without a value.
using StatusCallback = std::function<void(core::Status)>;

/// Per-client knobs that are not in the conf file.
struct ClientOptions {
  std::chrono::milliseconds timeout{120000};         ///< whole request
  std::chrono::milliseconds connect_timeout{10000};  ///< TCP (+TLS) connect
  uint64_t max_get_bytes = 256ull << 20;             ///< GetObject body limit in memory
  std::chrono::milliseconds retry_base_delay{100};   ///< first backoff (doubles per attempt)
  std::chrono::milliseconds retry_max_delay{5000};   ///< backoff cap
};

/// PutObject / CreateMultipartUpload options.
struct PutOptions {
  std::string content_type;  ///< empty = none sent
  /// Hex SHA-256 of the body when already known (e.g. hashed on a worker), or
  /// kUnsignedPayload. Empty = hashed here, on the calling (loop) thread.
  std::string payload_sha256;
  KeyValues extra_headers;  ///< e.g. x-amz-meta-*, signed too
};

/// PutObject's result.
struct PutObjectResult {
  std::string etag;  ///< as sent by the server, quotes included
};

/// GetObject options.
struct GetOptions {
  std::string range;  ///< e.g. "bytes=0-9"; empty = whole object
};

/// GetObject's result.
struct GetObjectResult {
  long status = 0;            ///< 200, or 206 for a range
  std::string body;
  std::string etag;
  std::string content_type;
  std::string content_range;  ///< for 206
};

/// HeadObject's result.
struct ObjectInfo {
  uint64_t size = 0;
  std::string etag;           ///< quotes included
  std::string content_type;
  std::string last_modified;  ///< the Last-Modified header, as sent
};

/// ListObjectsV2 options (one page).
struct ListObjectsOptions {
  std::string continuation_token;  ///< from the previous page; empty = first page
  std::string delimiter;           ///< e.g. "/" to get common prefixes; empty = none
  int max_keys = 0;                ///< 0 = the server's default (1000)
};

/// ListMultipartUploads options (one page).
struct ListUploadsOptions {
  std::string key_marker;        ///< from the previous page (next_key_marker, relative)
  std::string upload_id_marker;  ///< from the previous page
  int max_uploads = 0;           ///< 0 = the server's default (1000)
};

/// ListParts options (one page).
struct ListPartsOptions {
  int part_number_marker = 0;  ///< from the previous page; 0 = first page
  int max_parts = 0;           ///< 0 = the server's default (1000)
};

/// CompleteMultipartUpload's result.
struct CompleteMultipartResult {
  std::string etag;      ///< the object's ETag ("…-N" on AWS); may be empty (Ceph RGW 16)
  std::string location;  ///< may be empty (s3rver)
};

/// The S3 API operations this client sends (the metrics' `operation` label).
enum class S3Op {
  kHeadBucket,
  kPutObject,
  kGetObject,
  kDeleteObject,
  kHeadObject,
  kListObjectsV2,
  kListMultipartUploads,
  kListParts,
  kCreateMultipartUpload,
  kUploadPart,
  kCompleteMultipartUpload,
  kAbortMultipartUpload,
};
inline constexpr std::size_t kS3OpCount = 12;
static_assert(static_cast<std::size_t>(S3Op::kAbortMultipartUpload) + 1 == kS3OpCount, "S3Op and kS3OpCount differ");
/// The operation's name in the S3 API reference, e.g. "UploadPart".
std::string_view S3OpName(S3Op op);

/// Counts per operation since the client was made (loop thread; for /metrics).
struct S3OpStats {
  uint64_t requests = 0;  ///< operations finished (each once, after its retries)
  uint64_t retries = 0;   ///< attempts that failed and were sent again
  uint64_t errors = 0;    ///< operations that finished without a success (after retries)
};
using S3Stats = std::array<S3OpStats, kS3OpCount>;

/// The S3 operations, signed and sent on the loop.
class S3Client {
 public:
  /// Validates the config (endpoint, bucket, keys) and builds the client.
  /// `http` must outlive every request this client starts.
  static core::Result<std::unique_ptr<S3Client>> Create(glue::CurlMulti& http, const config::S3Config& config,
                                                        Clock clock = SystemNow, ClientOptions options = {});
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;
  /// Cancels waiting retries (their callbacks run now, with a cancelled status).
  ~S3Client();

  /// HEAD the bucket: Ok when it exists and the keys may use it.
  void HeadBucket(StatusCallback done);
  /// PUT an object from memory (a shared std::string converts to HttpBody).
  void PutObject(std::string_view key, glue::HttpBody body, PutOptions options,
                 Callback<PutObjectResult> done);
  /// GET an object (or a range of it) into memory.
  void GetObject(std::string_view key, GetOptions options, Callback<GetObjectResult> done);
  /// DELETE an object (S3 answers 204 whether or not it existed).
  void DeleteObject(std::string_view key, StatusCallback done);
  /// HEAD an object: size, ETag, type. A missing key is Status{kS3, 404, "NotFound: ..."}.
  void HeadObject(std::string_view key, Callback<ObjectInfo> done);

  /// GET ?list-type=2: one page of the objects whose key starts with
  /// `prefix` (relative to the configured prefix, like every key here). The
  /// keys and common prefixes in the result are relative too. Pages over
  /// 16 KiB are parsed on the worker pool.
  void ListObjectsV2(std::string_view prefix, ListObjectsOptions options, Callback<ListObjectsResult> done);
  /// GET ?uploads: one page of the multipart uploads in progress under
  /// `prefix` (relative; the keys in the result are relative too). For
  /// cleaning up interrupted uploads. s3rver answers 501 NotImplemented.
  void ListMultipartUploads(std::string_view prefix, ListUploadsOptions options, Callback<ListUploadsResult> done);
  /// GET ?uploadId=…: one page of the parts uploaded so far. s3rver answers 405.
  void ListParts(std::string_view key, std::string_view upload_id, ListPartsOptions options,
                 Callback<ListPartsResult> done);

  /// POST ?uploads: starts a multipart upload; gives the UploadId.
  void CreateMultipartUpload(std::string_view key, PutOptions options, Callback<std::string> done);
  /// PUT ?partNumber=N&uploadId=…: one part; gives its ETag.
  /// `payload_sha256` as in PutOptions (empty = hashed here).
  void UploadPart(std::string_view key, std::string_view upload_id, int part_number,
                  glue::HttpBody data, std::string payload_sha256, Callback<std::string> done);
  /// POST ?uploadId=…: joins the parts (ascending part numbers).
  void CompleteMultipartUpload(std::string_view key, std::string_view upload_id,
                               const std::vector<CompletedPart>& parts, Callback<CompleteMultipartResult> done);
  /// DELETE ?uploadId=…: drops the upload and its parts.
  void AbortMultipartUpload(std::string_view key, std::string_view upload_id, StatusCallback done);

  /// A presigned GET URL for `key`, valid for `expires` from the clock's now
  /// (1 s .. 7 days). Pure: no request is made.
  std::string PresignGetUrl(std::string_view key, std::chrono::seconds expires) const;

  /// prefix + key: the key as stored in the bucket.
  std::string FullKey(std::string_view key) const;
  /// The key relative to the configured prefix (the inverse of FullKey);
  /// `full_key` as is when it does not start with the prefix.
  std::string RelativeKey(std::string_view full_key) const;
  /// The addressing in use (endpoint, bucket, style).
  const UrlBuilder& urls() const noexcept { return urls_; }
  /// The loop the requests run on (for work that goes with them, e.g. hashing).
  uv_loop_t* loop() const noexcept { return http_.loop(); }
  /// Requests, retries and errors per operation (index: S3Op).
  const S3Stats& stats() const noexcept { return stats_; }
  /// True when the endpoint is https (UNSIGNED-PAYLOAD is allowed only then).
  bool https() const noexcept { return urls_.endpoint().scheme == "https"; }

 private:
  struct Call;
  using RawCallback = std::function<void(core::Result<glue::HttpResponse>)>;

  S3Client(glue::CurlMulti& http, UrlBuilder urls, Signer signer, std::string prefix, int retries, Clock clock,
           ClientOptions options);

  /// Signs and sends (with retries); `done` gets the final raw response for
  /// any HTTP status. `error_body_fails`: a 2xx with an <Error> is retryable.
  void Send(S3Op op, std::string method, const S3Location& where, KeyValues headers, glue::HttpBody body,
            std::string payload_sha256, uint64_t max_response_bytes, bool error_body_fails, RawCallback done);
  void Attempt(std::shared_ptr<Call> call);
  void Finished(std::shared_ptr<Call> call, core::Result<glue::HttpResponse> result);
  static void OnRetryTimer(uv_timer_t* timer);

  glue::CurlMulti& http_;
  UrlBuilder urls_;
  Signer signer_;
  std::string prefix_;
  int retries_;
  Clock clock_;
  ClientOptions options_;
  std::shared_ptr<spdlog::logger> logger_;
  std::shared_ptr<S3Client*> alive_;  ///< completions hold a weak_ptr to this
  std::unordered_map<Call*, std::shared_ptr<Call>> waiting_;  ///< retries waiting on their timer
  uint32_t jitter_state_;
  S3Stats stats_{};
};

/// True when `result` is worth another attempt: a transport failure that may
/// be transient, HTTP 5xx (but 501/505)/429, S3 RequestTimeout, or (with
/// `error_body_fails`) a 2xx whose body is an <Error>.
bool IsRetryable(const core::Result<glue::HttpResponse>& result, bool error_body_fails);

/// The S3 error code a Status from this client starts with ("SlowDown" for
/// "SlowDown: Please reduce your request rate"), or "" for a transport error.
std::string_view S3ErrorCode(const core::Status& status);

/// The Status for a non-2xx response (or a 2xx carrying an `<Error>` body):
/// Status{kS3, status, "<Code>: <Message>"}. `what` ("GET /bucket/key")
/// stands in for a missing message.
core::Status S3ErrorStatus(const glue::HttpResponse& response, std::string_view what);

}  // namespace sluice::s3
