// S3 operations over CurlMulti (see s3_client.hpp). Each operation builds a
// location, signs (method, path, query, headers, payload hash) at the clock's
// now, sends, and turns the response into a value or a kS3 Status. The
// completion lambdas capture only values (never `this`), so the client can go
// away before its requests finish.
#include "s3/s3_client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "log/logger.hpp"
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
  return fmt::format("{} {}", method, where.path);
}

}  // namespace

std::chrono::sys_seconds SystemNow() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
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
  return std::unique_ptr<S3Client>(
      new S3Client(http, std::move(urls), std::move(signer), config.prefix, std::move(clock), options));
}

S3Client::S3Client(glue::CurlMulti& http, UrlBuilder urls, Signer signer, std::string prefix, Clock clock,
                   ClientOptions options)
    : http_(http),
      urls_(std::move(urls)),
      signer_(std::move(signer)),
      prefix_(std::move(prefix)),
      clock_(std::move(clock)),
      options_(options) {}

std::string S3Client::FullKey(std::string_view key) const {
  std::string out = prefix_;
  out += key;
  return out;
}

// ---- the one way out ----

void S3Client::Send(std::string method, const S3Location& where, KeyValues headers,
                    std::shared_ptr<const std::string> body, std::string payload_sha256,
                    uint64_t max_response_bytes, std::function<void(core::Result<HttpResponse>)> done) {
  if (payload_sha256.empty()) {
    payload_sha256 = body ? Sha256Hex(*body) : std::string(kEmptyPayloadSha256);
  }
  RequestToSign to_sign;
  to_sign.method = method;
  to_sign.path = where.path;
  to_sign.query = where.query;
  to_sign.headers.reserve(headers.size() + 1);
  to_sign.headers.emplace_back("host", where.host);
  for (auto& h : headers) to_sign.headers.push_back(std::move(h));
  to_sign.payload_hash = std::move(payload_sha256);
  HeaderSignature signature = signer_.Sign(to_sign, clock_());

  glue::HttpRequest request;
  request.method = std::move(method);
  request.url = where.url;
  request.headers = std::move(signature.headers);
  request.body = std::move(body);
  request.timeout = options_.timeout;
  request.connect_timeout = options_.connect_timeout;
  request.max_response_bytes = max_response_bytes;

  auto logger = log::Get("s3");
  std::string what = What(request.method, where);
  http_.Perform(std::move(request), [logger, what = std::move(what), done = std::move(done)](
                                        core::Result<HttpResponse> result) {
    if (result) {
      logger->debug("{} -> {} ({} bytes, {:.1f} ms{})", what, result->status, result->body.size(),
                    result->total_seconds * 1000, result->new_connections == 0 ? ", reused" : "");
    } else {
      logger->debug("{} -> {}", what, result.error().message());
    }
    done(std::move(result));
  });
}

// ---- operations ----

void S3Client::HeadBucket(StatusCallback done) {
  const S3Location where = urls_.Bucket();
  Send("HEAD", where, {}, nullptr, "", 0,
       [what = What("HEAD", where), done = std::move(done)](core::Result<HttpResponse> r) {
         if (!r) return done(r.error());
         if (!Is2xx(r->status)) return done(S3ErrorStatus(*r, what));
         done(core::Status::Ok());
       });
}

void S3Client::PutObject(std::string_view key, std::shared_ptr<const std::string> body, PutOptions options,
                         Callback<PutObjectResult> done) {
  const S3Location where = urls_.Object(FullKey(key));
  KeyValues headers = std::move(options.extra_headers);
  if (!options.content_type.empty()) headers.emplace_back("content-type", options.content_type);
  if (!body) body = std::make_shared<const std::string>();
  Send("PUT", where, std::move(headers), std::move(body), std::move(options.payload_sha256), 1 << 20,
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
  Send("GET", where, std::move(headers), nullptr, "", options_.max_get_bytes,
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
  Send("DELETE", where, {}, nullptr, "", 1 << 20,
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
  Send("POST", where, std::move(headers), nullptr, "", 1 << 20,
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
                          std::shared_ptr<const std::string> data, std::string payload_sha256,
                          Callback<std::string> done) {
  const S3Location where =
      urls_.Object(FullKey(key), {{"partNumber", std::to_string(part_number)}, {"uploadId", std::string(upload_id)}});
  if (!data) data = std::make_shared<const std::string>();
  Send("PUT", where, {}, std::move(data), std::move(payload_sha256), 1 << 20,
       [what = fmt::format("PUT {} part {}", where.path, part_number),
        done = std::move(done)](core::Result<HttpResponse> r) {
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
  std::vector<CompletedPart> sorted = parts;
  std::sort(sorted.begin(), sorted.end(),
            [](const CompletedPart& a, const CompletedPart& b) { return a.part_number < b.part_number; });
  std::string xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const auto& p : sorted) {
    xml += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", p.part_number, XmlEscape(p.etag));
  }
  xml += "</CompleteMultipartUpload>";
  auto body = std::make_shared<const std::string>(std::move(xml));
  Send("POST", where, {{"content-type", "application/xml"}}, std::move(body), "", 1 << 20,
       [what = What("POST", where), done = std::move(done)](core::Result<HttpResponse> r) {
         if (!r) return done(r.error());
         // A 200 may still carry an <Error>: the failure came after the headers.
         if (!Is2xx(r->status) || ParseS3Error(r->body)) return done(S3ErrorStatus(*r, what));
         CompleteMultipartResult out;
         out.etag = XmlText(r->body, "ETag").value_or("");
         // Ceph RGW 16 answers <ETag></ETag>; some servers put it in a header.
         if (out.etag.empty()) out.etag = std::string(r->Header("etag").value_or(""));
         out.location = XmlText(r->body, "Location").value_or("");
         done(std::move(out));
       });
}

void S3Client::AbortMultipartUpload(std::string_view key, std::string_view upload_id, StatusCallback done) {
  const S3Location where = urls_.Object(FullKey(key), {{"uploadId", std::string(upload_id)}});
  Send("DELETE", where, {}, nullptr, "", 1 << 20,
       [what = What("DELETE", where), done = std::move(done)](core::Result<HttpResponse> r) {
         if (!r) return done(r.error());
         if (!Is2xx(r->status)) return done(S3ErrorStatus(*r, what));
         done(core::Status::Ok());
       });
}

std::string S3Client::PresignGetUrl(std::string_view key, std::chrono::seconds expires) const {
  expires = std::clamp(expires, std::chrono::seconds(1), std::chrono::seconds(7 * 24 * 3600));
  const S3Location where = urls_.Object(FullKey(key));
  const QuerySignature sig = signer_.Presign("GET", where.host, where.path, {}, expires, clock_());
  return where.url + "?" + sig.query_string;
}

}  // namespace sluice::s3
