// See upload_create.hpp. The per-request state lives in an UploadSession held
// by shared_ptr: the job's callbacks hold a weak_ptr to it, so a client that
// goes away (and takes the handler with it) never leaves a dangling callback.
#include "api/upload_create.hpp"

#include <fmt/format.h>

#include <optional>
#include <string>

#include "core/json_writer.hpp"
#include "http/multipart_parser.hpp"
#include "http/status.hpp"
#include "log/logger.hpp"

namespace sluice::api {
namespace {

constexpr size_t kMaxFormField = 64 * 1024;
/// Retry-After on every 503 (busy, not ready, a service down): API.md asks for
/// one when saturated; uploads take seconds, so a few seconds is the hint.
constexpr std::string_view kRetryAfterSeconds = "5";

http::HeaderList RetryAfterFor(int status) {
  if (status != 503) return {};
  return {{"Retry-After", std::string(kRetryAfterSeconds)}};
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::string MediaType(std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type;
}

bool IsRawFileType(std::string_view type) {
  return type == "text/csv" || type == "text/tab-separated-values" || type == "application/x-ndjson" ||
         type == "application/octet-stream" || type == "text/plain" || type == "application/csv" ||
         type == "application/jsonl" || type == "application/gzip";
}

std::string ErrorJson(const ingest::IngestError& error) {
  core::JsonWriter w;
  w.BeginObject().Key("error").BeginObject().Key("code").String(error.code).Key("message").String(error.message);
  if (!error.param.empty()) w.Key("param").String(error.param);
  w.EndObject();
  if (!error.upload_id.empty()) w.Key("upload_id").String(error.upload_id);
  w.EndObject();
  return std::move(w).str();
}

/// A bad option is a 400, but for a text encoding sluice cannot read: API.md
/// answers an unsupported encoding with 415.
int OptionErrorStatus(std::string_view param) { return param == "encoding" ? 415 : 400; }
std::string_view OptionErrorCode(std::string_view param) {
  return param == "encoding" ? "unsupported_encoding" : "invalid_parameter";
}

class UploadSession : public std::enable_shared_from_this<UploadSession> {
 public:
  explicit UploadSession(const UploadApi& api) : api_(api) {}

  void OnRequest(http::Exchange& exchange);
  void OnBody(http::Exchange& exchange, std::string_view chunk);
  void OnBodyEnd(http::Exchange& exchange);
  void OnAbort(http::Exchange& exchange);

 private:
  void StartJob(http::Exchange& exchange);
  void Feed(std::string_view bytes);
  void FinishInput();
  void Fail(int status, std::string_view code, std::string message, std::string_view param = {});
  void Answer(const db::UploadRecord& record, int status);
  void OnFinished(const db::UploadRecord& record);
  std::shared_ptr<http::Exchange> Live() const {
    auto exchange = exchange_.lock();
    return exchange && exchange->alive() ? exchange : nullptr;
  }

  // multipart
  void OnPartBegin(const http::PartHeaders& headers);
  void OnPartData(std::string_view data);
  void OnPartEnd();

  const UploadApi& api_;
  std::weak_ptr<http::Exchange> exchange_;
  ingest::IngestOptions options_;
  std::unique_ptr<http::MultipartParser> multipart_;
  std::string field_name_;
  std::string field_value_;
  bool in_file_part_ = false;
  bool file_seen_ = false;
  bool file_done_ = false;
  std::shared_ptr<ingest::IngestJob> job_;
  bool starting_ = false;
  std::string pending_;  ///< file bytes that came while the job was starting
  bool input_complete_ = false;
  bool finish_sent_ = false;
  bool respond_async_ = false;
  bool answered_ = false;
  bool failed_ = false;
  bool client_gone_ = false;
  bool filename_from_query_ = false;
};

void UploadSession::Fail(int status, std::string_view code, std::string message, std::string_view param) {
  if (failed_) return;
  failed_ = true;
  if (job_) job_->Cancel(std::string(code), message);
  if (auto exchange = Live(); exchange && !answered_) {
    answered_ = true;
    exchange->RespondError(status, code, message, param, RetryAfterFor(status));
  }
}

void UploadSession::OnRequest(http::Exchange& exchange) {
  exchange_ = exchange.weak_from_this();
  const http::Request& request = exchange.request();
  if (api_.ready && !api_.ready()) {
    Fail(503, "not_ready", "the catalog is not ready yet (is MariaDB up?); retry shortly");
    return;
  }
  // Options from the query string; the file name too for raw bodies.
  for (const auto& [name, value] : request.query) {
    if (name == "filename") {
      if (value.empty()) return Fail(400, "invalid_parameter", "filename must not be empty", "filename");
      options_.filename = value;
      filename_from_query_ = true;
      continue;
    }
    std::string param;
    if (auto status = ingest::ApplyOption(options_, name, value, &param); !status.ok()) {
      if (param.empty()) param = name;
      return Fail(OptionErrorStatus(param), OptionErrorCode(param), status.message(), param);
    }
  }
  if (auto encoding = request.Header("Content-Encoding")) {
    std::string coding = MediaType(*encoding);
    if (coding == "gzip" || coding == "x-gzip") {
      options_.gzip = true;
    } else if (!coding.empty() && coding != "identity") {
      return Fail(415, "unsupported_encoding", fmt::format("Content-Encoding {} is not supported (gzip is)", coding));
    }
  }
  if (auto digest = request.Header("Content-Digest")) {
    std::optional<std::string> sha;
    if (!ParseContentDigest(*digest, sha)) {
      return Fail(400, "invalid_parameter", "Content-Digest must be sha-256=:<base64 of 32 bytes>:", "Content-Digest");
    }
    options_.expected_sha256 = sha;
  }
  if (auto prefer = request.Header("Prefer")) respond_async_ = prefer->find("respond-async") != std::string_view::npos;

  std::string content_type(request.Header("Content-Type").value_or(""));
  std::string type = MediaType(content_type);
  if (type == "multipart/form-data") {
    auto boundary = http::MultipartBoundary(content_type);
    if (!boundary) return Fail(400, "bad_request", "multipart/form-data needs a boundary parameter");
    auto self = weak_from_this();
    multipart_ = std::make_unique<http::MultipartParser>(
        *boundary, http::MultipartParser::Callbacks{
                       [self](const http::PartHeaders& h) { if (auto s = self.lock()) s->OnPartBegin(h); },
                       [self](std::string_view d) { if (auto s = self.lock()) s->OnPartData(d); },
                       [self] { if (auto s = self.lock()) s->OnPartEnd(); }});
    return;  // the job starts at the file part, once the form fields before it are in
  }
  if (type.empty() || !IsRawFileType(type)) {
    return Fail(415, "unsupported_media_type",
                fmt::format("Content-Type {} is not an upload: send multipart/form-data, text/csv, "
                            "text/tab-separated-values, application/x-ndjson or application/octet-stream",
                            type.empty() ? "(none)" : type));
  }
  options_.content_type = type;
  if (EndsWith(options_.filename, ".gz")) options_.gzip = true;
  exchange.HoldContinue();  // 409/503 before the client sends a byte of the file
  StartJob(exchange);
}

void UploadSession::StartJob(http::Exchange& exchange) {
  starting_ = true;
  exchange.PauseBody();  // no byte is read before the job accepted the upload (409s come first)
  auto self = weak_from_this();
  ingest::IngestJob::Callbacks callbacks;
  callbacks.on_writable = [self] {
    log::Get("uploads")->debug("upload: writable again");
    if (auto s = self.lock()) {
      if (auto live = s->Live()) live->ResumeBody();
    }
  };
  callbacks.on_finished = [self](const db::UploadRecord& record) {
    if (auto s = self.lock()) s->OnFinished(record);
  };
  api_.registry->Start(options_, std::move(callbacks),
                       [self](std::shared_ptr<ingest::IngestJob> job, std::optional<ingest::IngestError> error) {
                         auto s = self.lock();
                         if (!s || s->client_gone_ || s->failed_) {
                           if (job) job->Cancel("client_gone", "the client disconnected before the upload began");
                           return;
                         }
                         s->starting_ = false;
                         if (error) {
                           s->failed_ = true;
                           if (auto live = s->Live()) {
                             s->answered_ = true;
                             if (error->upload_id.empty()) {  // the common shape: logged (5xx) with its id
                               live->RespondError(error->status, error->code, error->message, error->param,
                                                  RetryAfterFor(error->status));
                             } else {  // e.g. 409 duplicate_upload names the earlier upload
                               live->Respond(error->status, ErrorJson(*error), http::kJsonType,
                                             RetryAfterFor(error->status));
                             }
                           }
                           return;
                         }
                         s->job_ = std::move(job);
                         if (!s->pending_.empty()) {
                           std::string bytes = std::move(s->pending_);
                           s->pending_.clear();
                           s->Feed(bytes);
                         }
                         if (s->input_complete_) {
                           s->FinishInput();
                         } else if (auto live = s->Live()) {
                           live->Continue();
                           live->ResumeBody();
                         }
                       });
}

void UploadSession::Feed(std::string_view bytes) {
  if (failed_ || bytes.empty()) return;
  if (!job_) {
    pending_.append(bytes);
    return;
  }
  if (!job_->Write(bytes)) {
    log::Get("uploads")->debug("upload {}: paused at {} bytes", job_->record().id, job_->record().bytes_received);
    if (auto exchange = Live()) exchange->PauseBody();  // on_writable resumes
  }
}

void UploadSession::OnBody(http::Exchange&, std::string_view chunk) {
  if (failed_) return;
  if (!multipart_) {
    Feed(chunk);
    return;
  }
  if (!multipart_->Feed(chunk)) Fail(400, "bad_request", "malformed multipart body: " + multipart_->error());
}

void UploadSession::OnPartBegin(const http::PartHeaders& headers) {
  if (failed_) return;
  if (headers.filename) {
    if (file_seen_) return Fail(400, "bad_request", "one file per upload: the body has a second file part");
    file_seen_ = true;
    in_file_part_ = true;
    if (!headers.filename->empty() && !filename_from_query_) options_.filename = *headers.filename;
    options_.content_type = MediaType(headers.content_type);
    if (EndsWith(options_.filename, ".gz")) options_.gzip = true;
    if (auto exchange = Live()) StartJob(*exchange);
    return;
  }
  in_file_part_ = false;
  field_name_ = headers.name;
  field_value_.clear();
}

void UploadSession::OnPartData(std::string_view data) {
  if (failed_) return;
  if (in_file_part_) {
    Feed(data);
    return;
  }
  if (file_seen_) return;  // fields after the file cannot change it any more: ignored
  if (field_value_.size() + data.size() > kMaxFormField) {
    return Fail(400, "invalid_parameter", fmt::format("form field {} is larger than 64 KiB", field_name_), field_name_);
  }
  field_value_.append(data);
}

void UploadSession::OnPartEnd() {
  if (failed_) return;
  if (in_file_part_) {
    in_file_part_ = false;
    file_done_ = true;
    return;
  }
  if (file_seen_) return;
  if (field_name_ == "filename") {
    options_.filename = field_value_;
    return;
  }
  std::string param;
  if (auto status = ingest::ApplyOption(options_, field_name_, field_value_, &param); !status.ok()) {
    if (param.empty()) param = field_name_;
    Fail(OptionErrorStatus(param), OptionErrorCode(param), status.message(), param);
  }
}

void UploadSession::OnBodyEnd(http::Exchange&) {
  log::Get("uploads")->debug("upload: body end (job {})", job_ ? "started" : "starting");
  if (failed_) return;
  if (multipart_) {
    if (!multipart_->Finish()) return Fail(400, "bad_request", "malformed multipart body: " + multipart_->error());
    if (!file_seen_) return Fail(400, "bad_request", "the multipart body has no file part (a part with a filename)");
  }
  input_complete_ = true;
  if (job_) FinishInput();  // else: when the job has started
}

void UploadSession::FinishInput() {
  if (finish_sent_ || failed_) return;
  finish_sent_ = true;
  job_->Finish();
  if (respond_async_) Answer(job_->record(), 202);
}

void UploadSession::OnFinished(const db::UploadRecord& record) {
  if (answered_) return;
  // Conflicts found once the body was in (the same bytes without a
  // Content-Digest; a table created meanwhile under `create`) are 409s in the
  // API's error shape, like those found before the body; other failures 422.
  if (record.state == db::UploadState::kFailed &&
      (record.error_code == "duplicate_upload" || record.error_code == "table_exists")) {
    auto exchange = Live();
    if (!exchange) return;
    answered_ = true;
    ingest::IngestError error;
    error.code = record.error_code;
    error.message = record.error_message;
    if (record.error_code == "table_exists") error.param = "table";
    if (job_) error.upload_id = job_->duplicate_of();
    exchange->Respond(409, ErrorJson(error), http::kJsonType, {{"Location", "/v1/uploads/" + record.id}});
    return;
  }
  Answer(record, record.state == db::UploadState::kDone ? 201 : 422);
}

void UploadSession::Answer(const db::UploadRecord& record, int status) {
  auto exchange = Live();
  if (!exchange || answered_) return;
  answered_ = true;
  exchange->Respond(status, db::UploadRecordJson(record), http::kJsonType,
                    {{"Location", "/v1/uploads/" + record.id}});
}

void UploadSession::OnAbort(http::Exchange& exchange) {
  client_gone_ = true;
  if (!job_ || input_complete_) return;  // a complete body finishes without its client
  if (exchange.status() == 413) {
    job_->Cancel("too_large", "the upload is larger than [server] max_upload_bytes");
  } else {
    job_->Cancel("client_gone", "the client disconnected before the upload was complete");
  }
}

class UploadCreateHandler final : public http::Handler {
 public:
  explicit UploadCreateHandler(const UploadApi& api) : session_(std::make_shared<UploadSession>(api)) {}
  void OnRequest(http::Exchange& exchange) override { session_->OnRequest(exchange); }
  void OnBody(http::Exchange& exchange, std::string_view chunk) override { session_->OnBody(exchange, chunk); }
  void OnBodyEnd(http::Exchange& exchange) override { session_->OnBodyEnd(exchange); }
  void OnAbort(http::Exchange& exchange) override { session_->OnAbort(exchange); }

 private:
  std::shared_ptr<UploadSession> session_;
};

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

bool ParseContentDigest(std::string_view header, std::optional<std::string>& sha256_hex) {
  sha256_hex.reset();
  // A list of algorithm=:base64: entries (RFC 9530 §2, RFC 8941 byte sequences).
  size_t pos = 0;
  while (pos < header.size()) {
    size_t comma = header.find(',', pos);
    std::string_view entry = header.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    pos = comma == std::string_view::npos ? header.size() : comma + 1;
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos) return false;
    std::string algorithm(entry.substr(0, eq));
    for (auto& c : algorithm) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (algorithm != "sha-256") continue;
    std::string_view value = entry.substr(eq + 1);
    if (value.size() < 2 || value.front() != ':' || value.back() != ':') return false;
    value = value.substr(1, value.size() - 2);
    std::string bytes;
    uint32_t buffer = 0;
    int bits = 0;
    for (char c : value) {
      if (c == '=') break;
      int v = Base64Value(c);
      if (v < 0) return false;
      buffer = (buffer << 6) | static_cast<uint32_t>(v);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        bytes.push_back(static_cast<char>((buffer >> bits) & 0xff));
      }
    }
    if (bytes.size() != 32) return false;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char b : bytes) {
      hex.push_back(kHex[b >> 4]);
      hex.push_back(kHex[b & 15]);
    }
    sha256_hex = hex;
    return true;
  }
  return true;  // no sha-256 entry: nothing to check
}

std::unique_ptr<http::Handler> MakeUploadCreateHandler(const UploadApi& api) {
  return std::make_unique<UploadCreateHandler>(api);
}

}  // namespace sluice::api
