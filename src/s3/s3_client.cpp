// S3 operations over CurlMulti (see s3_client.hpp). Each operation builds a
// location and hands it to Send, which hashes the payload once, then per
// attempt signs (method, path, query, headers, payload hash) at the clock's
// now and sends; a retryable failure waits on a uv timer and goes again. The
// operation's own handler turns the final response into a value or a kS3
// Status. Completions reach the client through a weak token, so the client
// can go away before its requests finish (they then complete without retry).
#include "s3/s3_client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <utility>

#include "loop/work_item.hpp"
#include "s3/s3_xml.hpp"

namespace sluice::s3 {
namespace {

using glue::HttpResponse;

bool Is2xx(long status) { return status >= 200 && status < 300; }

// The SDKs' names for statuses that come without a body (HEAD, proxies).
std::string_view CodeForStatus(long status) {
  switch (status) {
    case 301: return "PermanentRedirect";
    case 307: return "TemporaryRedirect";
    case 400: return "BadRequest";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 409: return "Conflict";
    case 412: return "PreconditionFailed";
    case 416: return "InvalidRange";
    case 500: return "InternalError";
    case 501: return "NotImplemented";
    case 503: return "ServiceUnavailable";
    default: return "HttpError";
  }
}

std::string What(std::string_view method, const S3Location& where) {
  for (const auto& [name, value] : where.query) {
    if (name == "partNumber") return fmt::format("{} {} part {}", method, where.path, value);
  }
  return fmt::format("{} {}", method, where.path);
}

// Listings bigger than this are parsed on the worker pool, not on the loop.
constexpr size_t kInlineParseBytes = 16 << 10;
// The most a listing answer may be (1000 entries of long keys).
constexpr uint64_t kMaxListBytes = 32ull << 20;

// Runs `parse` over `body` (inline when small, else on a worker) and hands
// the result to `done` on the loop thread.
template <class T>
void ParseOffLoop(uv_loop_t* loop, std::string body, core::Result<T> (*parse)(std::string_view),
                  std::function<void(core::Result<T>)> done) {
  if (body.size() <= kInlineParseBytes) {
    done(parse(body));
    return;
  }
  struct State {
    std::string body;
    std::optional<core::Result<T>> result;  // written by the worker, read after it
  };
  auto state = std::make_shared<State>();
  state->body = std::move(body);
  loop::SubmitWork(
      loop, [state, parse] { state->result.emplace(parse(state->body)); },
      [state, done = std::move(done)](int status) {
        if (status != 0 || !state->result) {
          return done(core::Status{core::ErrorDomain::kS3, CURLE_ABORTED_BY_CALLBACK,
                                   "cancelled: parsing a listing on the worker pool did not run"});
        }
        done(std::move(*state->result));
      });
}

bool IsS3CodeChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.'; }

}  // namespace

std::chrono::sys_seconds SystemNow() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::string_view S3ErrorCode(const core::Status& status) {
  if (status.ok() || status.domain() != core::ErrorDomain::kS3) return {};
  std::string_view m = status.message();
  const size_t colon = m.find(": ");
  if (colon == std::string_view::npos || colon == 0) return {};
  std::string_view code = m.substr(0, colon);
  for (char c : code) {
    if (!IsS3CodeChar(c)) return {};
  }
  return code;
}

core::Status S3ErrorStatus(const HttpResponse& response, std::string_view what) {
  const int status = static_cast<int>(response.status);
  if (auto err = ParseS3Error(response.body)) {
    std::string message = err->message.empty() ? fmt::format("HTTP {} for {}", status, what) : err->message;
    return {core::ErrorDomain::kS3, status, fmt::format("{}: {}", err->code, message)};
  }
  return {core::ErrorDomain::kS3, status,
          fmt::format("{}: HTTP {} for {}", CodeForStatus(response.status), status, what)};
}

// ---- construction ----

core::Result<std::unique_ptr<S3Client>> S3Client::Create(glue::CurlMulti& http, const config::S3Config& config,
                                                         Clock clock, ClientOptions options) {
  auto endpoint = ParseEndpoint(config.endpoint, config.region);
  if (!endpoint) return endpoint.error();
  if (config.bucket.empty()) return core::Status::Invalid("s3: bucket is empty");
  if (config.access_key.empty() || config.secret_key.empty()) {
    return core::Status::Invalid("s3: access_key and secret_key are required");
  }
  if (!clock) clock = SystemNow;
  UrlBuilder urls(std::move(*endpoint), config.bucket, config.path_style);
  Signer signer(Credentials{config.access_key, config.secret_key, config.session_token},
                config.region.empty() ? std::string("us-east-1") : config.region);
  if (options.retry_base_delay.count() < 1) options.retry_base_delay = std::chrono::milliseconds(1);
  if (options.retry_max_delay < options.retry_base_delay) options.retry_max_delay = options.retry_base_delay;
  return std::unique_ptr<S3Client>(new S3Client(http, std::move(urls), std::move(signer), config.prefix,
                                                std::max(config.retries, 0), std::move(clock), options));
}

S3Client::S3Client(glue::CurlMulti& http, UrlBuilder urls, Signer signer, std::string prefix, int retries,
                   Clock clock, ClientOptions options)
    : http_(http),
      urls_(std::move(urls)),
      signer_(std::move(signer)),
      prefix_(std::move(prefix)),
      retries_(retries),
      clock_(std::move(clock)),
      options_(options),
      logger_(log::Get("s3")),
      alive_(std::make_shared<S3Client*>(this)),
      jitter_state_(static_cast<uint32_t>(reinterpret_cast<uintptr_t>(this) >> 4) | 1u) {}

std::string S3Client::FullKey(std::string_view key) const {
  std::string out = prefix_;
  out += key;
  return out;
}

std::string S3Client::RelativeKey(std::string_view full_key) const {
  if (full_key.starts_with(prefix_)) full_key.remove_prefix(prefix_.size());
  return std::string(full_key);
}

std::string_view S3OpName(S3Op op) {
  static constexpr std::array<std::string_view, kS3OpCount> kNames = {
      "HeadBucket", "PutObject", "GetObject", "DeleteObject", "HeadObject", "ListObjectsV2",
      "ListMultipartUploads", "ListParts", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload",
      "AbortMultipartUpload"};
  return kNames[static_cast<std::size_t>(op)];
}

// ---- the one way out: sign, send, retry ----

struct S3Client::Call {
  S3Client* owner = nullptr;
  std::string method;
  S3Location where;
  KeyValues headers;
  glue::HttpBody body;
  std::string payload_sha256;
  uint64_t max_response_bytes = 0;
  bool error_body_fails = false;
  int retries_done = 0;
  S3Op op = S3Op::kHeadBucket;
  std::string what;
  RawCallback done;
  glue::UvHandle<uv_timer_t> timer;  ///< initialised only while waiting to retry
};

bool IsRetryable(const core::Result<HttpResponse>& result, bool error_body_fails) {
  if (!result) {
    switch (result.error().code()) {
      case CURLE_COULDNT_CONNECT:     // refused: the server may be restarting
      case CURLE_OPERATION_TIMEDOUT:  // stalled
      case CURLE_PARTIAL_FILE:
      case CURLE_GOT_NOTHING:
      case CURLE_SEND_ERROR:          // reset
      case CURLE_RECV_ERROR:
      case CURLE_SSL_CONNECT_ERROR:
        return true;
      default:
        return false;  // cancelled, response too large, bad URL, DNS, ...
    }
  }
  const long status = result->status;
  // 501 NotImplemented and 505 will not change on a second try (s3rver
  // answers ListMultipartUploads with 501).
  if (status == 429 || (status >= 500 && status != 501 && status != 505)) return true;
  if (status == 400) {
    auto err = ParseS3Error(result->body);
    return err && err->code == "RequestTimeout";
  }
  if (Is2xx(status) && error_body_fails) return ParseS3Error(result->body).has_value();
  return false;
}

S3Client::~S3Client() {
  alive_.reset();  // in-flight completions now deliver without retrying
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& [raw, call] : waiting) call->timer.Close();
  for (auto& [raw, call] : waiting) {
    RawCallback done = std::move(call->done);
    if (done) {
      done(core::Status{core::ErrorDomain::kS3, CURLE_ABORTED_BY_CALLBACK,
                        fmt::format("{}: cancelled: S3 client destroyed while waiting to retry", call->what)});
    }
  }
}

void S3Client::Send(S3Op op, std::string method, const S3Location& where, KeyValues headers,
                    glue::HttpBody body, std::string payload_sha256,
                    uint64_t max_response_bytes, bool error_body_fails, RawCallback done) {
  auto call = std::make_shared<Call>();
  call->owner = this;
  call->op = op;
  call->what = What(method, where);
  call->method = std::move(method);
  call->where = where;
  call->headers = std::move(headers);
  if (payload_sha256.empty()) {
    payload_sha256 = body ? Sha256Hex(body.bytes) : std::string(kEmptyPayloadSha256);
  }
  call->body = std::move(body);
  call->payload_sha256 = std::move(payload_sha256);
  call->max_response_bytes = max_response_bytes;
  call->error_body_fails = error_body_fails;
  call->done = std::move(done);
  Attempt(std::move(call));
}

void S3Client::Attempt(std::shared_ptr<Call> call) {
  RequestToSign to_sign;
  to_sign.method = call->method;
  to_sign.path = call->where.path;
  to_sign.query = call->where.query;
  to_sign.headers.reserve(call->headers.size() + 1);
  to_sign.headers.emplace_back("host", call->where.host);
  to_sign.headers.insert(to_sign.headers.end(), call->headers.begin(), call->headers.end());
  to_sign.payload_hash = call->payload_sha256;
  HeaderSignature signature = signer_.Sign(to_sign, clock_());  // fresh x-amz-date per attempt

  glue::HttpRequest request;
  request.method = call->method;
  request.url = call->where.url;
  request.headers = std::move(signature.headers);
  request.body = call->body;
  request.timeout = options_.timeout;
  request.connect_timeout = options_.connect_timeout;
  request.max_response_bytes = call->max_response_bytes;

  std::weak_ptr<S3Client*> alive = alive_;
  http_.Perform(std::move(request), [alive, call](core::Result<HttpResponse> result) mutable {
    if (auto token = alive.lock()) {
      (*token)->Finished(std::move(call), std::move(result));
      return;
    }
    RawCallback done = std::move(call->done);  // the client is gone: no retry
    done(std::move(result));
  });
}

void S3Client::Finished(std::shared_ptr<Call> call, core::Result<HttpResponse> result) {
  if (result) {
    logger_->debug("{} -> {} ({} bytes, {:.1f} ms{})", call->what, result->status, result->body.size(),
                   result->total_seconds * 1000, result->new_connections == 0 ? ", reused" : "");
  } else {
    logger_->debug("{} -> {}", call->what, result.error().message());
  }
  if (call->retries_done < retries_ && IsRetryable(result, call->error_body_fails)) {
    // Exponential backoff with "equal jitter": half fixed, half random.
    const int shift = std::min(call->retries_done, 20);
    const int64_t cap = std::min<int64_t>(options_.retry_max_delay.count(),
                                          options_.retry_base_delay.count() * (int64_t{1} << shift));
    jitter_state_ ^= jitter_state_ << 13;
    jitter_state_ ^= jitter_state_ >> 17;
    jitter_state_ ^= jitter_state_ << 5;
    const int64_t delay = cap / 2 + static_cast<int64_t>(jitter_state_ % static_cast<uint32_t>(cap / 2 + 1));
    ++call->retries_done;
    ++stats_[static_cast<std::size_t>(call->op)].retries;
    logger_->warn("{} failed ({}); retry {}/{} in {} ms", call->what,
                  result ? S3ErrorStatus(*result, call->what).message() : result.error().message(),
                  call->retries_done, retries_, delay);
    if (call->timer.Init(uv_timer_init, http_.loop()) == 0) {
      Call* raw = call.get();
      raw->timer->data = raw;
      waiting_.emplace(raw, std::move(call));
      uv_timer_start(raw->timer.get(), &S3Client::OnRetryTimer, static_cast<uint64_t>(delay), 0);
      return;
    }
  }
  S3OpStats& counts = stats_[static_cast<std::size_t>(call->op)];
  ++counts.requests;
  if (!result || !Is2xx(result->status) || (call->error_body_fails && ParseS3Error(result->body))) ++counts.errors;
  RawCallback done = std::move(call->done);
  done(std::move(result));
}

void S3Client::OnRetryTimer(uv_timer_t* timer) {
  auto* raw = static_cast<Call*>(timer->data);
  if (raw == nullptr) return;
  S3Client* self = raw->owner;
  auto node = self->waiting_.extract(raw);
  if (node.empty()) return;
  std::shared_ptr<Call> call = std::move(node.mapped());
  call->timer.Close();  // freed in its close callback, after this one returns
  self->Attempt(std::move(call));
}

// ---- operations ----

void S3Client::HeadBucket(StatusCallback done) {
  const S3Location where = urls_.Bucket();
  Send(S3Op::kHeadBucket, "HEAD", where, {}, {}, "", 0, false,
       [what = What("HEAD", where), done = std::move(done)](core::Result<HttpResponse> r) {
         if (!r) return done(r.error());
         if (!Is2xx(r->status)) return done(S3ErrorStatus(*r, what));
         done(core::Status::Ok());
       });
}

void S3Client::PutObject(std::string_view key, glue::HttpBody body, PutOptions options,
                         Callback<PutObjectResult> done) {
  const S3Location where = urls_.Object(FullKey(key));
  KeyValues headers = std::move(options.extra_headers);
  if (!options.content_type.empty()) headers.emplace_back("content-type", options.content_type);
  if (!body) body = std::make_shared<const std::string>();
  Send(S3Op::kPutObject, "PUT", where, std::move(headers), std::move(body), std::move(options.payload_sha256),
       1 << 20, false,
       [what = What("PUT", where), done = std::move(done)](core::Result<HttpResponse> r) {
         if (!r) return done(r.error());
         if (!Is2xx(r->status)) return done(S3ErrorStatus(*r, what));
         PutObjectResult out;
         out.etag = std::string(r->Header("etag").value_or(""));
         done(std::move(out));
       });
}

void S3Client::GetObject(std::string_view key, GetOptions options, Callback<GetObjectResult> done) {
  const S3Location where = urls_.Object(FullKey(key));
  KeyValues headers;
  if (!options.range.empty()) headers.emplace_back("range", options.range);
  Send(S3Op::kGetObject, "GET", where, std::move(headers), {}, "", options_.max_get_bytes, false,
       [what = What("GET", where), done = std::move(done)](core::Result<HttpResponse> r) {
         if (!r) return done(r.error());
         if (!Is2xx(r->status)) return done(S3ErrorStatus(*r, what));
         GetObjectResult out;
         out.status = r->status;
         out.etag = std::string(r->Header("etag").value_or(""));
         out.content_type = std::string(r->Header("content-type").value_or(""));
         out.content_range = std::string(r->Header("content-range").value_or(""));
         out.body = std::move(r->body);
         done(std::move(out));
       });
}

void S3Client::DeleteObject(std::string_view key, StatusCallback done) {
  const S3Location where = urls_.Object(FullKey(key));
  Send(S3Op::kDeleteObject, "DELETE", where, {}, {}, "", 1 << 20, false,
       [what = What("DELETE", where), done = std::move(done)](core::Result<HttpResponse> r) {
         if (!r) return done(r.error());
         if (!Is2xx(r->status)) return done(S3ErrorStatus(*r, what));
         done(core::Status::Ok());
       });
}

void S3Client::CreateMultipartUpload(std::string_view key, PutOptions options, Callback<std::string> done) {
  const S3Location where = urls_.Object(FullKey(key), {{"uploads", ""}});
  KeyValues headers = std::move(options.extra_headers);
  if (!options.content_type.empty()) headers.emplace_back("content-type", options.content_type);
  Send(S3Op::kCreateMultipartUpload, "POST", where, std::move(headers), {}, "", 1 << 20, false,
       [what = What("POST", where), done = std::move(done)](core::Result<HttpResponse> r) {
         if (!r) return done(r.error());
         if (!Is2xx(r->status) || ParseS3Error(r->body)) return done(S3ErrorStatus(*r, what));
         auto id = XmlText(r->body, "UploadId");
         if (!id || id->empty()) {
           return done(core::Status{core::ErrorDomain::kS3, static_cast<int>(r->status),
                                    fmt::format("MalformedResponse: no UploadId in the answer to {}", what)});
         }
         done(std::move(*id));
       });
}

void S3Client::UploadPart(std::string_view key, std::string_view upload_id, int part_number,
                          glue::HttpBody data, std::string payload_sha256,
                          Callback<std::string> done) {
  const S3Location where =
      urls_.Object(FullKey(key), {{"partNumber", std::to_string(part_number)}, {"uploadId", std::string(upload_id)}});
  if (!data) data = std::make_shared<const std::string>();
  Send(S3Op::kUploadPart, "PUT", where, {}, std::move(data), std::move(payload_sha256), 1 << 20, false,
       [what = What("PUT", where), done = std::move(done)](core::Result<HttpResponse> r) {
         if (!r) return done(r.error());
         if (!Is2xx(r->status)) return done(S3ErrorStatus(*r, what));
         auto etag = r->Header("etag");
         if (!etag || etag->empty()) {
           return done(core::Status{core::ErrorDomain::kS3, static_cast<int>(r->status),
                                    fmt::format("MalformedResponse: no ETag in the answer to {}", what)});
         }
         done(std::string(*etag));
       });
}

void S3Client::CompleteMultipartUpload(std::string_view key, std::string_view upload_id,
                                       const std::vector<CompletedPart>& parts,
                                       Callback<CompleteMultipartResult> done) {
  const S3Location where = urls_.Object(FullKey(key), {{"uploadId", std::string(upload_id)}});
  auto body = std::make_shared<const std::string>(CompleteMultipartUploadXml(parts));
  Send(S3Op::kCompleteMultipartUpload, "POST", where, {{"content-type", "application/xml"}}, std::move(body), "",
       1 << 20, true,
       [what = What("POST", where), done = std::move(done)](core::Result<HttpResponse> r) {
         if (!r) return done(r.error());
         // A 200 may still carry an <Error>: the failure came after the headers.
         if (!Is2xx(r->status) || ParseS3Error(r->body)) return done(S3ErrorStatus(*r, what));
         CompleteMultipartResult out;
         out.etag = XmlText(r->body, "ETag").value_or("");
         // Ceph RGW 16 answers <ETag></ETag> (and, to a repeated Complete, an
         // unquoted ETag); some servers put it in a header. ETags are quoted.
         if (out.etag.empty()) out.etag = std::string(r->Header("etag").value_or(""));
         if (!out.etag.empty() && out.etag.front() != '"') out.etag = "\"" + out.etag + "\"";
         out.location = XmlText(r->body, "Location").value_or("");
         done(std::move(out));
       });
}

void S3Client::AbortMultipartUpload(std::string_view key, std::string_view upload_id, StatusCallback done) {
  const S3Location where = urls_.Object(FullKey(key), {{"uploadId", std::string(upload_id)}});
  Send(S3Op::kAbortMultipartUpload, "DELETE", where, {}, {}, "", 1 << 20, false,
       [what = What("DELETE", where), done = std::move(done)](core::Result<HttpResponse> r) {
         if (!r) return done(r.error());
         if (!Is2xx(r->status)) return done(S3ErrorStatus(*r, what));
         done(core::Status::Ok());
       });
}

void S3Client::HeadObject(std::string_view key, Callback<ObjectInfo> done) {
  const S3Location where = urls_.Object(FullKey(key));
  Send(S3Op::kHeadObject, "HEAD", where, {}, {}, "", 0, false,
       [what = What("HEAD", where), done = std::move(done)](core::Result<HttpResponse> r) {
         if (!r) return done(r.error());
         if (!Is2xx(r->status)) return done(S3ErrorStatus(*r, what));
         ObjectInfo out;
         const std::string_view length = r->Header("content-length").value_or("0");
         out.size = std::strtoull(std::string(length).c_str(), nullptr, 10);
         out.etag = std::string(r->Header("etag").value_or(""));
         out.content_type = std::string(r->Header("content-type").value_or(""));
         out.last_modified = std::string(r->Header("last-modified").value_or(""));
         done(std::move(out));
       });
}

void S3Client::ListObjectsV2(std::string_view prefix, ListObjectsOptions options, Callback<ListObjectsResult> done) {
  KeyValues query = {{"list-type", "2"}, {"prefix", FullKey(prefix)}};
  if (!options.continuation_token.empty()) query.emplace_back("continuation-token", options.continuation_token);
  if (!options.delimiter.empty()) query.emplace_back("delimiter", options.delimiter);
  if (options.max_keys > 0) query.emplace_back("max-keys", std::to_string(options.max_keys));
  const S3Location where = urls_.Bucket(query);
  Send(S3Op::kListObjectsV2, "GET", where, {}, {}, "", kMaxListBytes, false,
       [what = What("GET", where), loop = http_.loop(), prefix = prefix_,
        done = std::move(done)](core::Result<HttpResponse> r) mutable {
         if (!r) return done(r.error());
         if (!Is2xx(r->status)) return done(S3ErrorStatus(*r, what));
         ParseOffLoop<ListObjectsResult>(
             loop, std::move(r->body), &ParseListObjectsV2,
             [prefix = std::move(prefix), done = std::move(done)](core::Result<ListObjectsResult> page) {
               if (page) {
                 for (auto& o : page->objects) {
                   if (o.key.starts_with(prefix)) o.key.erase(0, prefix.size());
                 }
                 for (auto& p : page->common_prefixes) {
                   if (p.starts_with(prefix)) p.erase(0, prefix.size());
                 }
               }
               done(std::move(page));
             });
       });
}

void S3Client::ListMultipartUploads(std::string_view prefix, ListUploadsOptions options,
                                    Callback<ListUploadsResult> done) {
  KeyValues query = {{"uploads", ""}, {"prefix", FullKey(prefix)}};
  if (!options.key_marker.empty()) query.emplace_back("key-marker", FullKey(options.key_marker));
  if (!options.upload_id_marker.empty()) query.emplace_back("upload-id-marker", options.upload_id_marker);
  if (options.max_uploads > 0) query.emplace_back("max-uploads", std::to_string(options.max_uploads));
  const S3Location where = urls_.Bucket(query);
  Send(S3Op::kListMultipartUploads, "GET", where, {}, {}, "", kMaxListBytes, false,
       [what = What("GET", where), loop = http_.loop(), prefix = prefix_,
        done = std::move(done)](core::Result<HttpResponse> r) mutable {
         if (!r) return done(r.error());
         if (!Is2xx(r->status)) return done(S3ErrorStatus(*r, what));
         ParseOffLoop<ListUploadsResult>(
             loop, std::move(r->body), &ParseListMultipartUploads,
             [prefix = std::move(prefix), done = std::move(done)](core::Result<ListUploadsResult> page) {
               if (page) {
                 for (auto& u : page->uploads) {
                   if (u.key.starts_with(prefix)) u.key.erase(0, prefix.size());
                 }
                 if (page->next_key_marker.starts_with(prefix)) page->next_key_marker.erase(0, prefix.size());
               }
               done(std::move(page));
             });
       });
}

void S3Client::ListParts(std::string_view key, std::string_view upload_id, ListPartsOptions options,
                         Callback<ListPartsResult> done) {
  KeyValues query = {{"uploadId", std::string(upload_id)}};
  if (options.part_number_marker > 0) {
    query.emplace_back("part-number-marker", std::to_string(options.part_number_marker));
  }
  if (options.max_parts > 0) query.emplace_back("max-parts", std::to_string(options.max_parts));
  const S3Location where = urls_.Object(FullKey(key), query);
  Send(S3Op::kListParts, "GET", where, {}, {}, "", kMaxListBytes, false,
       [what = What("GET", where), loop = http_.loop(), done = std::move(done)](core::Result<HttpResponse> r) mutable {
         if (!r) return done(r.error());
         if (!Is2xx(r->status)) return done(S3ErrorStatus(*r, what));
         ParseOffLoop<ListPartsResult>(loop, std::move(r->body), &ParseListParts, std::move(done));
       });
}

std::string S3Client::PresignGetUrl(std::string_view key, std::chrono::seconds expires) const {
  expires = std::clamp(expires, std::chrono::seconds(1), std::chrono::seconds(7 * 24 * 3600));
  const S3Location where = urls_.Object(FullKey(key));
  const QuerySignature sig = signer_.Presign("GET", where.host, where.path, {}, expires, clock_());
  return where.url + "?" + sig.query_string;
}

}  // namespace sluice::s3
