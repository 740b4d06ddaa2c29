// Fuzz target: the HTTP request path before any handler — llhttp with the
// callbacks http/connection.cpp installs, the LimitTracker (414/431/413),
// target → path + decoded query (PercentDecode, ParseQueryString), the router
// with the API's route table, Authorization (static tokens and HS256 JWTs,
// also re-signed with the right key so the claim checks are reached), the
// multipart boundary of a Content-Type, and the upload options of a
// POST /v1/uploads query string.
//
// The bytes are executed once whole and once in pieces from the input's seed;
// both must see the same requests and stop with the same outcome (llhttp
// error or limit error), as a connection must not depend on how TCP cut the
// stream. Pipelined requests are followed (on_message_complete pauses, as in
// the server, and parsing resumes after it).
//
// Input: byte 0 picks the limits (tiny ones too, so every limit trips), bytes
// 1–4 seed the pieces, the rest is what a client sent.
#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/authenticator.hpp"
#include "config/config.hpp"
#include "fuzz_support.hpp"
#include "http/multipart_parser.hpp"
#include "http/request.hpp"
#include "http/request_limits.hpp"
#include "http/router.hpp"
#include "ingest/ingest_job.hpp"

namespace {

using namespace sluice::http;

const Router& ApiRouter() {
  static const Router router = [] {
    Router r;
    const std::pair<const char*, const char*> routes[] = {
        {"GET", "/healthz"},          {"GET", "/readyz"},
        {"GET", "/metrics"},          {"GET", "/openapi.json"},
        {"POST", "/v1/uploads"},      {"GET", "/v1/uploads"},
        {"GET", "/v1/uploads/{id}"},  {"DELETE", "/v1/uploads/{id}"},
        {"GET", "/v1/uploads/{id}/events"}, {"GET", "/v1/tables"},
        {"GET", "/v1/tables/{table}"}, {"DELETE", "/v1/tables/{table}"},
        {"GET", "/v1/tables/{table}/rows"}, {"GET", "/v1/tables/{table}/aggregate"},
        {"POST", "/v1/tables/{table}/indexes"}};
    for (const auto& [method, pattern] : routes) {
      Route route;
      route.method = method;
      route.pattern = pattern;
      route.name = pattern;
      route.body_limit = std::string_view(pattern) == "/v1/uploads" && std::string_view(method) == "POST"
                             ? BodyLimit::kUpload
                             : BodyLimit::kSmall;
      FUZZ_CHECK(r.Add(std::move(route)), "route %s", pattern);
    }
    return r;
  }();
  return router;
}

const sluice::auth::Authenticator& Auth() {
  static const sluice::auth::Authenticator auth = [] {
    sluice::config::AuthConfig config;
    config.tokens = {{"read", "r3ad-token"}, {"admin", "adm1n-token"}};
    config.jwt_secret = "fuzz-secret";
    return sluice::auth::Authenticator(config);
  }();
  return auth;
}

/// What one request looked like to the handlers.
struct Seen {
  std::string method, target, path, raw_query;
  ParamList query;
  HeaderList headers;
  int route_kind = -1;
  bool query_ok = false;
  bool operator==(const Seen&) const = default;
};

/// One connection's parser state, as in http/connection.cpp.
class Session {
 public:
  explicit Session(const RequestLimits& limits) : limits_(limits) {
    llhttp_settings_init(&settings_);
    settings_.on_message_begin = [](llhttp_t* p) { return Self(p).OnMessageBegin(); };
    settings_.on_url = [](llhttp_t* p, const char* at, size_t n) { return Self(p).OnUrl({at, n}); };
    settings_.on_header_field = [](llhttp_t* p, const char* at, size_t n) { return Self(p).OnField({at, n}); };
    settings_.on_header_field_complete = [](llhttp_t* p) { return Self(p).OnFieldComplete(); };
    settings_.on_header_value = [](llhttp_t* p, const char* at, size_t n) { return Self(p).OnValue({at, n}); };
    settings_.on_header_value_complete = [](llhttp_t* p) { return Self(p).OnValueComplete(); };
    settings_.on_headers_complete = [](llhttp_t* p) { return Self(p).OnHeadersComplete(); };
    settings_.on_body = [](llhttp_t* p, const char* at, size_t n) { return Self(p).OnBody({at, n}); };
    settings_.on_message_complete = [](llhttp_t* p) { return Self(p).OnMessageComplete(); };
    llhttp_init(&parser_, HTTP_REQUEST, &settings_);
    parser_.data = this;
  }

  /// Feeds bytes; false once the connection failed (error or limit).
  bool Feed(std::string_view data) {
    if (failed_) return false;
    while (true) {
      llhttp_errno_t rc = llhttp_execute(&parser_, data.data(), data.size());
      if (rc == HPE_OK) return true;
      if (rc == HPE_PAUSED || rc == HPE_PAUSED_UPGRADE) {
        const char* stop = llhttp_get_error_pos(&parser_);
        std::size_t used = stop != nullptr ? static_cast<std::size_t>(stop - data.data()) : data.size();
        FUZZ_CHECK(used <= data.size(), "error pos past the data");
        if (rc == HPE_PAUSED_UPGRADE) {
          llhttp_resume_after_upgrade(&parser_);
        } else {
          llhttp_resume(&parser_);
        }
        data.remove_prefix(used);
        continue;  // the next pipelined request (maybe no bytes: an empty execute is fine)
      }
      failed_ = true;
      outcome_ = limit_error_ ? "limit " + std::to_string(limit_error_->status) + " " + limit_error_->code
                              : std::string("llhttp ") + llhttp_errno_name(rc);
      return false;
    }
  }
  void Finish() {
    if (!failed_) {
      llhttp_errno_t rc = llhttp_finish(&parser_);
      outcome_ = std::string("finish ") + llhttp_errno_name(rc);
    }
  }
  const std::vector<Seen>& seen() const { return seen_; }
  const std::string& outcome() const { return outcome_; }
  std::uint64_t body_bytes() const { return body_bytes_; }

 private:
  static Session& Self(llhttp_t* p) { return *static_cast<Session*>(p->data); }

  int Limit(std::optional<LimitError> error) {
    if (!error) return HPE_OK;
    FUZZ_CHECK(error->status == 413 || error->status == 414 || error->status == 431, "status %d", error->status);
    limit_error_ = std::move(error);
    return HPE_USER;
  }
  int OnMessageBegin() {
    url_.clear();
    field_.clear();
    value_.clear();
    headers_.clear();
    limit_error_.reset();
    tracker_.emplace(limits_);
    return HPE_OK;
  }
  int OnUrl(std::string_view d) {
    url_.append(d);
    return Limit(tracker_->OnUrlBytes(d.size()));
  }
  int OnField(std::string_view d) {
    field_.append(d);
    return Limit(tracker_->OnHeaderBytes(d.size()));
  }
  int OnFieldComplete() { return Limit(tracker_->OnHeaderFieldStart()); }
  int OnValue(std::string_view d) {
    value_.append(d);
    return Limit(tracker_->OnHeaderBytes(d.size()));
  }
  int OnValueComplete() {
    headers_.emplace_back(std::move(field_), std::move(value_));
    field_.clear();
    value_.clear();
    return HPE_OK;
  }
  int OnHeadersComplete() {
    Request request;
    request.method = llhttp_method_name(static_cast<llhttp_method_t>(llhttp_get_method(&parser_)));
    request.target = url_;
    request.headers = headers_;
    if ((parser_.flags & F_CONTENT_LENGTH) != 0) request.content_length = parser_.content_length;
    Seen seen{request.method, request.target, {}, {}, {}, request.headers, -1, false};

    std::string_view target = request.target;
    std::size_t question = target.find('?');
    std::string_view raw_path = target.substr(0, question);
    if (question != std::string_view::npos) request.raw_query = std::string(target.substr(question + 1));
    seen.raw_query = request.raw_query;
    std::uint64_t body_limit = limits_.max_body_bytes;
    if (!raw_path.empty() && raw_path.front() == '/' && PercentDecode(raw_path, request.path, false) &&
        ParseQueryString(request.raw_query, request.query)) {
      seen.path = request.path;
      seen.query = request.query;
      seen.query_ok = true;
      RouteMatch match = ApiRouter().Match(request.method, request.path);
      seen.route_kind = static_cast<int>(match.kind);
      if (match.kind == RouteMatch::Kind::kFound) {
        FUZZ_CHECK(match.route != nullptr, "found without a route");
        if (match.route->body_limit == BodyLimit::kUpload) body_limit = 1 << 16;
        for (const auto& [name, value] : match.params) FUZZ_CHECK(!value.empty(), "empty path parameter %s", name.c_str());
        if (match.route->name == "/v1/uploads") UploadOptions(request);
      } else if (match.kind == RouteMatch::Kind::kMethodNotAllowed) {
        FUZZ_CHECK(!match.allow.empty(), "405 without Allow");
      }
      CheckAuth(request);
    }
    if (auto ct = request.Header("Content-Type")) {
      if (auto b = MultipartBoundary(*ct)) FUZZ_CHECK(!b->empty() && b->size() <= 70, "boundary");
    }
    seen_.push_back(std::move(seen));
    return Limit(tracker_->OnHeadersComplete(request.content_length, body_limit));
  }
  int OnBody(std::string_view d) {
    body_bytes_ += d.size();
    return Limit(tracker_->OnBodyBytes(d.size()));
  }
  int OnMessageComplete() { return HPE_PAUSED; }  // one request at a time, as the server does

  static void UploadOptions(const Request& request) {
    sluice::ingest::IngestOptions options;
    for (const auto& [name, value] : request.query) {
      std::string param;
      auto status = sluice::ingest::ApplyOption(options, name, value, &param);
      if (!status.ok()) FUZZ_CHECK(!status.message().empty(), "option error without a message");
    }
    std::string table = sluice::ingest::DeriveTableName(options.filename);
    FUZZ_CHECK(!table.empty() && table.size() <= 64, "derived table name '%s'", table.c_str());
  }

  static void CheckAuth(const Request& request) {
    const std::int64_t now = 1'700'000'000;
    auto header = request.Header("Authorization");
    auto outcome = Auth().Check(header, sluice::auth::Role::kRead, now);
    FUZZ_CHECK(outcome.principal.has_value() != outcome.error.has_value(), "auth outcome must be one of the two");
    if (!header) return;
    // A JWT with the fuzzer's header and claims, signed with the right key:
    // gets past the signature to the claim checks.
    std::string_view value = *header;
    if (value.size() > 7) value.remove_prefix(7);
    std::size_t dot1 = value.find('.');
    std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : value.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos) return;
    std::string head_json, claims_json;
    if (!sluice::auth::Base64UrlDecode(value.substr(0, dot1), head_json) ||
        !sluice::auth::Base64UrlDecode(value.substr(dot1 + 1, dot2 - dot1 - 1), claims_json)) {
      return;
    }
    std::string jwt = sluice::auth::SignJwtHs256(head_json, claims_json, "fuzz-secret");
    auto signed_outcome = Auth().Check("Bearer " + jwt, sluice::auth::Role::kRead, now);
    FUZZ_CHECK(signed_outcome.principal.has_value() != signed_outcome.error.has_value(), "signed JWT outcome");
    if (signed_outcome.error) {
      FUZZ_CHECK(signed_outcome.error->status == 401 || signed_outcome.error->status == 403, "auth status %d",
                 signed_outcome.error->status);
    }
  }

  RequestLimits limits_;
  llhttp_settings_t settings_{};
  llhttp_t parser_{};
  std::optional<LimitTracker> tracker_;
  std::optional<LimitError> limit_error_;
  std::string url_, field_, value_;
  HeaderList headers_;
  std::vector<Seen> seen_;
  std::string outcome_;
  std::uint64_t body_bytes_ = 0;
  bool failed_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sluice::fuzz::ByteReader in(data, size);
  const std::uint8_t mode = in.Byte();
  const std::uint32_t seed = in.U32();
  const std::string_view bytes = in.Rest();

  RequestLimits limits;  // the defaults, or tiny ones that trip on short inputs
  if ((mode & 1) != 0) limits = RequestLimits{16u + (mode >> 4), 64u + (mode >> 1), 1u + (mode >> 5), 8u + mode};

  Session whole(limits);
  whole.Feed(bytes);
  whole.Finish();
  Session split(limits);
  std::size_t pos = 0;
  for (std::size_t n : sluice::fuzz::Pieces(seed, bytes.size())) {
    if (!split.Feed(bytes.substr(pos, n))) break;
    pos += n;
  }
  split.Finish();
  FUZZ_CHECK(whole.seen() == split.seen(), "requests differ when the bytes come in pieces (%zu vs %zu)",
             whole.seen().size(), split.seen().size());
  // Both ways must end the same, except that a request with two faults may
  // report either first: a URL that is too long and has a bad character is a
  // 414 when the limit trips on an early piece, a 400 when llhttp sees the
  // character before our callback sees the length.
  const bool both_failed = whole.outcome().rfind("finish", 0) != 0 && split.outcome().rfind("finish", 0) != 0;
  FUZZ_CHECK(whole.outcome() == split.outcome() || both_failed, "outcome '%s' whole, '%s' in pieces",
             whole.outcome().c_str(), split.outcome().c_str());
  // Body bytes delivered before a failure depend on the pieces (a 413 trips
  // on the piece that crosses the limit): compare them on success only.
  if (!both_failed) FUZZ_CHECK(whole.body_bytes() == split.body_bytes(), "body bytes differ");
  return 0;
}
