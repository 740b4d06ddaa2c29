// See multipart_sweep.hpp. One page of ListMultipartUploads at a time: one
// catalog query for the ids on the page, then the aborts one after another,
// then the next page.
#include "ingest/multipart_sweep.hpp"

#include <fmt/format.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "db/db_pool.hpp"
#include "db/sql_quote.hpp"
#include "s3/s3_client.hpp"

namespace sluice::ingest {
namespace {

constexpr std::string_view kUploadsPrefix = "uploads/";

/// The upload id in "uploads/<id>/<name>", or "" for another key.
std::string UploadIdOf(const std::string& key) {
  if (!key.starts_with(kUploadsPrefix)) return "";
  auto slash = key.find('/', kUploadsPrefix.size());
  if (slash == std::string::npos) return "";
  std::string id = key.substr(kUploadsPrefix.size(), slash - kUploadsPrefix.size());
  if (id.empty() || id.size() > 32) return "";
  for (char c : id) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!ok) return "";
  }
  return id;
}

}  // namespace

struct MultipartSweep::State : std::enable_shared_from_this<MultipartSweep::State> {
  s3::S3Client* s3 = nullptr;
  db::DbPool* pool = nullptr;
  bool cancelled = false;
  std::size_t aborted = 0;
  std::function<void(core::Result<std::size_t>)> done;
  std::vector<s3::ListedUpload> to_abort;
  std::size_t next_abort = 0;
  s3::ListUploadsOptions page_options;
  bool last_page = false;

  void Finish(core::Result<std::size_t> result) {
    auto callback = std::move(done);
    done = nullptr;
    if (callback) callback(std::move(result));
  }

  void ListPage() {
    if (cancelled) return;
    s3->ListMultipartUploads(kUploadsPrefix, page_options, [w = weak_from_this()](core::Result<s3::ListUploadsResult> page) {
      auto self = w.lock();
      if (!self || self->cancelled) return;
      if (!page) return self->Finish(page.error());
      self->last_page = !page->is_truncated || page->next_key_marker.empty();
      self->page_options.key_marker = page->next_key_marker;
      self->page_options.upload_id_marker = page->next_upload_id_marker;
      self->CheckCatalog(std::move(page->uploads));
    });
  }

  void CheckCatalog(std::vector<s3::ListedUpload> uploads) {
    std::set<std::string> ids;
    for (const auto& u : uploads) {
      if (auto id = UploadIdOf(u.key); !id.empty()) ids.insert(id);
    }
    if (ids.empty()) return NextPage();
    std::string sql = "SELECT id FROM sluice_uploads WHERE state NOT IN ('receiving', 'loading') AND id IN (";
    bool first = true;
    for (const auto& id : ids) {
      if (!first) sql += ", ";
      first = false;
      db::AppendString(sql, id);
    }
    sql += ")";
    pool->Query(std::move(sql), [w = weak_from_this(), uploads = std::move(uploads)](
                                    core::Result<glue::QueryResult> known) mutable {
      auto self = w.lock();
      if (!self || self->cancelled) return;
      if (!known) return self->Finish(known.error());
      std::set<std::string> finished;
      for (const auto& row : known->rows) finished.insert(row[0].value_or(""));
      self->to_abort.clear();
      self->next_abort = 0;
      for (auto& u : uploads) {
        if (finished.count(UploadIdOf(u.key)) > 0) self->to_abort.push_back(std::move(u));
      }
      self->AbortNext();
    });
  }

  void AbortNext() {
    if (cancelled) return;
    if (next_abort >= to_abort.size()) return NextPage();
    const auto& u = to_abort[next_abort++];
    s3->AbortMultipartUpload(u.key, u.upload_id, [w = weak_from_this(), key = u.key](core::Status status) {
      auto self = w.lock();
      if (!self || self->cancelled) return;
      bool gone = status.domain() == core::ErrorDomain::kS3 && status.code() == 404;
      if (!status.ok() && !gone) return self->Finish(status);
      ++self->aborted;
      self->AbortNext();
    });
  }

  void NextPage() {
    if (last_page) return Finish(aborted);
    ListPage();
  }
};

MultipartSweep::MultipartSweep(s3::S3Client* s3, db::DbPool* pool) : state_(std::make_shared<State>()) {
  state_->s3 = s3;
  state_->pool = pool;
}

MultipartSweep::~MultipartSweep() { state_->cancelled = true; }

void MultipartSweep::Run(std::function<void(core::Result<std::size_t>)> done) {
  state_->done = std::move(done);
  state_->ListPage();
}

}  // namespace sluice::ingest
