// See leftovers.hpp. Every 2 s while anything is pending, each step not
// already in flight is tried once; a step that succeeds is removed. A final
// record waits until no table or S3 step of the same upload id is left, so
// "failed" in the catalog means that nothing of it remains.
#include "ingest/leftovers.hpp"

#include <fmt/format.h>

#include <list>
#include <utility>

#include "db/catalog.hpp"
#include "db/db_pool.hpp"
#include "db/table_ddl.hpp"
#include "log/logger.hpp"
#include "s3/s3_client.hpp"
#include "uv/uv_handle.hpp"

namespace sluice::ingest {
namespace {

constexpr uint64_t kRetryMs = 2000;

enum class StepKind { kDropTable, kAbortUpload, kDeleteObject, kStoreRecord };

struct Step {
  StepKind kind;
  std::string name;       ///< table, or S3 key
  std::string upload_id;  ///< S3 multipart upload id
  db::UploadRecord record;
  bool in_flight = false;
  bool done = false;
  std::string Describe() const {
    switch (kind) {
      case StepKind::kDropTable: return "drop table " + name;
      case StepKind::kAbortUpload: return "abort multipart upload " + name;
      case StepKind::kDeleteObject: return "delete s3 object " + name;
      case StepKind::kStoreRecord: return "store the final record of upload " + record.id;
    }
    return "?";
  }
};

}  // namespace

struct Leftovers::State : std::enable_shared_from_this<Leftovers::State> {
  uv_loop_t* loop = nullptr;
  db::DbPool* pool = nullptr;
  db::Catalog* catalog = nullptr;
  s3::S3Client* s3 = nullptr;
  std::list<Step> steps;
  glue::UvHandle<uv_timer_t> timer;
  std::shared_ptr<spdlog::logger> log = log::Get("ingest");

  void Add(Step step) {
    log->warn("cleanup: {} failed; retrying every {} s until it succeeds", step.Describe(), kRetryMs / 1000);
    steps.push_back(std::move(step));
    Arm();
  }

  void Arm() {
    if (!uv_is_active(timer.base())) {
      uv_timer_start(timer.get(), [](uv_timer_t* t) { static_cast<State*>(t->data)->RetryAll(); }, kRetryMs, 0);
    }
  }

  /// A table or S3 step of upload `upload_id` is pending (staging table
  /// names hold the id in lower case, S3 keys as it is).
  bool UploadHasOtherSteps(const std::string& upload_id) const {
    std::string id = Lower(upload_id);
    for (const auto& step : steps) {
      if (step.kind != StepKind::kStoreRecord && !step.done && Lower(step.name).find(id) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  static std::string Lower(std::string text) {
    for (char& c : text) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return text;
  }

  void RetryAll() {
    // `next` first: a step whose callback runs at once (a request that cannot
    // even be sent) erases itself before the loop moves on.
    for (auto it = steps.begin(), next = it; it != steps.end(); it = next) {
      ++next;
      Step& step = *it;
      if (step.in_flight || step.done) continue;
      if (step.kind == StepKind::kStoreRecord && UploadHasOtherSteps(step.record.id)) continue;
      step.in_flight = true;
      auto finished = [w = weak_from_this(), it](core::Status status) {
        auto self = w.lock();
        if (!self) return;
        it->in_flight = false;
        if (status.ok()) {
          self->log->info("cleanup: {}: done", it->Describe());
          self->steps.erase(it);
        }
        if (!self->steps.empty()) self->Arm();
      };
      switch (step.kind) {
        case StepKind::kDropTable:
          pool->Query(db::DropTableSql(step.name), [finished](core::Result<glue::QueryResult> r) {
            finished(r ? core::Status::Ok() : r.error());
          });
          break;
        case StepKind::kAbortUpload:
          s3->AbortMultipartUpload(step.name, step.upload_id, [finished](core::Status status) {
            // NoSuchUpload: nothing left to abort.
            bool gone = status.domain() == core::ErrorDomain::kS3 && status.code() == 404;
            finished(gone ? core::Status::Ok() : status);
          });
          break;
        case StepKind::kDeleteObject:
          s3->DeleteObject(step.name, finished);
          break;
        case StepKind::kStoreRecord:
          catalog->FinishUpload(step.record, [finished](core::Status status) {
            // No record to finish (it was never stored): nothing to do.
            finished(status.domain() == core::ErrorDomain::kNotFound ? core::Status::Ok() : status);
          });
          break;
      }
    }
    if (!steps.empty()) Arm();
  }
};

Leftovers::Leftovers(uv_loop_t* loop, db::DbPool* pool, db::Catalog* catalog, s3::S3Client* s3)
    : state_(std::make_shared<State>()) {
  state_->loop = loop;
  state_->pool = pool;
  state_->catalog = catalog;
  state_->s3 = s3;
  state_->timer.Init(uv_timer_init, loop);
  state_->timer->data = state_.get();
}

Leftovers::~Leftovers() {
  if (!state_->steps.empty()) {
    state_->log->warn("cleanup: {} step(s) still pending at shutdown; the next start's recovery takes them over",
                      state_->steps.size());
  }
  state_->timer.Close();
}

void Leftovers::DropTable(std::string table) { state_->Add(Step{StepKind::kDropTable, std::move(table), {}, {}}); }

void Leftovers::AbortMultipartUpload(std::string key, std::string upload_id) {
  if (state_->s3 == nullptr) return;
  state_->Add(Step{StepKind::kAbortUpload, std::move(key), std::move(upload_id), {}});
}

void Leftovers::DeleteObject(std::string key) {
  if (state_->s3 == nullptr) return;
  state_->Add(Step{StepKind::kDeleteObject, std::move(key), {}, {}});
}

void Leftovers::StoreRecord(db::UploadRecord record) {
  if (state_->catalog == nullptr) return;
  state_->Add(Step{StepKind::kStoreRecord, {}, {}, std::move(record)});
}

std::size_t Leftovers::pending() const { return state_->steps.size(); }

}  // namespace sluice::ingest
