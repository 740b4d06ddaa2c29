// See upload_routes.hpp. Reading a record prefers the running job (fresher
// than the catalog, which is updated every 250 ms) and falls back to the
// catalog for finished uploads and those of earlier processes.
#include "api/upload_routes.hpp"

#include <fmt/format.h>

#include <charconv>

#include "api/upload_create.hpp"
#include "api/upload_delete.hpp"
#include "auth/role.hpp"
#include "core/json_writer.hpp"
#include "http/simple_handler.hpp"
#include "uv/uv_handle.hpp"

namespace sluice::api {
namespace {

constexpr uint64_t kMaxWaitSeconds = 60;

/// An upload has ended once its final record is written (finished_at set):
/// a failing upload shows `failed` at once, but its cleanup is still running.
bool IsFinal(const db::UploadRecord& record) { return record.finished_at_ms.has_value(); }

void RespondRecord(http::Exchange& exchange, const db::UploadRecord& record) {
  exchange.Respond(200, db::UploadRecordJson(record));
}

/// Looks up a record: the running job's, else the catalog's; 404 when neither.
void WithRecord(const UploadApi& api, http::Exchange& exchange,
                std::function<void(http::Exchange&, const db::UploadRecord&)> then) {
  std::string id(exchange.request().PathParam("id"));
  if (auto job = api.registry->Find(id)) {
    then(exchange, job->record());
    return;
  }
  std::weak_ptr<http::Exchange> weak = exchange.weak_from_this();
  api.catalog->GetUpload(id, [weak, id, then](core::Result<db::UploadRecord> record) {
    auto live = weak.lock();
    if (!live || !live->alive()) return;
    if (!record) {
      if (record.error().domain() == core::ErrorDomain::kNotFound) {
        live->RespondError(404, "not_found", fmt::format("no upload {}", id), "id");
      } else {
        live->RespondError(503, "catalog_unavailable", record.error().message());
      }
      return;
    }
    then(*live, *record);
  });
}

/// GET /v1/uploads/{id}[?wait=N]
class UploadGetHandler final : public http::Handler {
 public:
  explicit UploadGetHandler(const UploadApi& api) : api_(api) {}
  ~UploadGetHandler() override {
    if (auto job = job_.lock(); job && token_ != 0) job->Unsubscribe(token_);
  }

  void OnBodyEnd(http::Exchange& exchange) override {
    uint64_t wait = 0;
    if (auto text = exchange.request().Query("wait")) {
      if (std::from_chars(text->data(), text->data() + text->size(), wait).ec != std::errc() || text->empty()) {
        exchange.RespondError(400, "invalid_parameter", "wait must be a number of seconds", "wait");
        return;
      }
      wait = std::min(wait, kMaxWaitSeconds);
    }
    std::string id(exchange.request().PathParam("id"));
    auto job = api_.registry->Find(id);
    if (!job || wait == 0 || IsFinal(job->record())) {
      WithRecord(api_, exchange, [](http::Exchange& e, const db::UploadRecord& r) { RespondRecord(e, r); });
      return;
    }
    exchange_ = exchange.weak_from_this();
    job_ = job;
    ingest::IngestJob::Callbacks callbacks;
    callbacks.on_finished = [this](const db::UploadRecord& record) { Answer(record); };
    token_ = job->Subscribe(std::move(callbacks));
    timer_.Init(uv_timer_init, api_.loop);
    timer_->data = this;
    uv_timer_start(timer_.get(), [](uv_timer_t* t) {
      auto* self = static_cast<UploadGetHandler*>(t->data);
      if (auto j = self->job_.lock()) {
        self->Answer(j->record());
      } else if (auto e = self->exchange_.lock(); e && e->alive() && !e->responded()) {
        WithRecord(self->api_, *e, [](http::Exchange& x, const db::UploadRecord& r) { RespondRecord(x, r); });
      }
    }, wait * 1000, 0);
  }

 private:
  void Answer(const db::UploadRecord& record) {
    auto exchange = exchange_.lock();
    if (!exchange || !exchange->alive() || exchange->responded()) return;
    RespondRecord(*exchange, record);
  }

  const UploadApi& api_;
  std::weak_ptr<http::Exchange> exchange_;
  std::weak_ptr<ingest::IngestJob> job_;
  uint64_t token_ = 0;
  glue::UvHandle<uv_timer_t> timer_;
};

/// GET /v1/uploads/{id}/events: Server-Sent Events.
class UploadEventsHandler final : public http::Handler {
 public:
  explicit UploadEventsHandler(const UploadApi& api) : api_(api) {}
  ~UploadEventsHandler() override {
    if (auto job = job_.lock(); job && token_ != 0) job->Unsubscribe(token_);
  }

  void OnBodyEnd(http::Exchange& exchange) override {
    std::string id(exchange.request().PathParam("id"));
    auto job = api_.registry->Find(id);
    if (!job) {  // finished (or unknown): one final event
      WithRecord(api_, exchange, [](http::Exchange& e, const db::UploadRecord& r) {
        e.BeginStream(200, "text/event-stream", {{"Cache-Control", "no-store"}});
        e.Write(Event("done", r));
        e.EndStream();
      });
      return;
    }
    exchange_ = exchange.weak_from_this();
    job_ = job;
    exchange.BeginStream(200, "text/event-stream", {{"Cache-Control", "no-store"}, {"X-Accel-Buffering", "no"}});
    exchange.Write(Event("progress", job->record()));
    if (IsFinal(job->record())) {
      exchange.Write(Event("done", job->record()));
      exchange.EndStream();
      return;
    }
    ingest::IngestJob::Callbacks callbacks;
    callbacks.on_progress = [this](const db::UploadRecord& record) {
      if (auto e = exchange_.lock(); e && e->alive()) e->Write(Event("progress", record));
    };
    callbacks.on_finished = [this](const db::UploadRecord& record) {
      if (auto e = exchange_.lock(); e && e->alive()) {
        e->Write(Event("done", record));
        e->EndStream();
      }
    };
    token_ = job->Subscribe(std::move(callbacks));
  }

 private:
  static std::string Event(std::string_view name, const db::UploadRecord& record) {
    return fmt::format("event: {}\ndata: {}\n\n", name, db::UploadRecordJson(record));
  }

  const UploadApi& api_;
  std::weak_ptr<http::Exchange> exchange_;
  std::weak_ptr<ingest::IngestJob> job_;
  uint64_t token_ = 0;
};

/// A cursor is the id of the last upload of the previous page: a ULID.
bool IsUploadId(std::string_view text) {
  if (text.size() != 26) return false;
  for (char c : text) {
    bool base32 = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z' && c != 'I' && c != 'L' && c != 'O' && c != 'U');
    if (!base32) return false;
  }
  return true;
}

void ListUploads(const UploadApi& api, http::Exchange& exchange) {
  uint64_t limit = 100;
  if (auto text = exchange.request().Query("limit")) {
    if (std::from_chars(text->data(), text->data() + text->size(), limit).ec != std::errc() || limit == 0 ||
        limit > 1000) {
      exchange.RespondError(400, "invalid_parameter", "limit must be 1..1000", "limit");
      return;
    }
  }
  std::string cursor(exchange.request().Query("cursor").value_or(""));
  if (!cursor.empty() && !IsUploadId(cursor)) {
    exchange.RespondError(400, "invalid_parameter", "cursor must be the next_cursor of an earlier page", "cursor");
    return;
  }
  std::weak_ptr<http::Exchange> weak = exchange.weak_from_this();
  const UploadApi* api_ptr = &api;
  api.catalog->ListUploads(limit, cursor, [weak, api_ptr](core::Result<db::UploadPage> page) {
    auto live = weak.lock();
    if (!live || !live->alive()) return;
    if (!page) {
      live->RespondError(page.error().domain() == core::ErrorDomain::kInvalid ? 400 : 503,
                         page.error().domain() == core::ErrorDomain::kInvalid ? "invalid_parameter"
                                                                              : "catalog_unavailable",
                         page.error().message(), page.error().domain() == core::ErrorDomain::kInvalid ? "cursor" : "");
      return;
    }
    core::JsonWriter w;
    w.BeginObject().Key("uploads").BeginArray();
    for (const auto& record : page->uploads) {
      // A running upload's live record is fresher than the catalog's.
      auto job = api_ptr->registry->Find(record.id);
      w.Raw(db::UploadRecordJson(job ? job->record() : record));
    }
    w.EndArray().Key("next_cursor");
    if (page->next_cursor.empty()) {
      w.Null();
    } else {
      w.String(page->next_cursor);
    }
    w.EndObject();
    live->Respond(200, std::move(w).str());
  });
}

void CancelUpload(const UploadApi& api, http::Exchange& exchange) {
  std::string id(exchange.request().PathParam("id"));
  if (auto job = api.registry->Find(id); job && !IsFinal(job->record())) {
    job->Cancel("cancelled", "cancelled by DELETE /v1/uploads/" + id);
    exchange.Respond(202, db::UploadRecordJson(job->record()), http::kJsonType,
                     {{"Location", "/v1/uploads/" + id}});
    return;
  }
  WithRecord(api, exchange, [&api](http::Exchange& e, const db::UploadRecord& record) {
    if (record.state != db::UploadState::kDone) {
      e.RespondError(409, "upload_finished",
                     fmt::format("upload {} is {}: it left no table or object to delete", record.id,
                                 db::UploadStateName(record.state)));
      return;
    }
    if (e.request().caller_role < static_cast<int>(auth::Role::kAdmin)) {
      e.RespondError(403, "forbidden",
                     fmt::format("upload {} is done: deleting it drops table '{}' and its S3 object, which needs "
                                 "the admin role",
                                 record.id, record.table));
      return;
    }
    DeleteFinishedUpload(api, e, record);
  });
}

/// Wraps a handler factory so the route answers 503 until the catalog is ready.
http::HandlerFactory WhenReady(const UploadApi& api, std::function<void(const UploadApi&, http::Exchange&)> fn) {
  return http::Simple([&api, fn](http::Exchange& exchange) {
    if (api.ready && !api.ready()) {
      exchange.RespondError(503, "not_ready", "the catalog is not ready yet (is MariaDB up?); retry shortly", "",
                            {{"Retry-After", "5"}});
      return;
    }
    fn(api, exchange);
  });
}

}  // namespace

void AddUploadRoutes(http::Router& router, const UploadApi& api) {
  router.Add({"POST", "/v1/uploads", "uploads.create", http::BodyLimit::kUpload,
              [&api] { return MakeUploadCreateHandler(api); }, auth::Role::kWrite});
  router.Add({"GET", "/v1/uploads", "uploads.list", http::BodyLimit::kSmall, WhenReady(api, ListUploads),
              auth::Role::kRead});
  router.Add({"GET", "/v1/uploads/{id}", "uploads.get", http::BodyLimit::kSmall,
              [&api] { return std::make_unique<UploadGetHandler>(api); }, auth::Role::kRead});
  router.Add({"DELETE", "/v1/uploads/{id}", "uploads.cancel", http::BodyLimit::kSmall,
              WhenReady(api, CancelUpload), auth::Role::kWrite});
  router.Add({"GET", "/v1/uploads/{id}/events", "uploads.events", http::BodyLimit::kSmall,
              [&api] { return std::make_unique<UploadEventsHandler>(api); }, auth::Role::kRead});
}

}  // namespace sluice::api
