// Test support for MultipartUpload on a real loop:
//
//  - Feeder: a producer that behaves like the upload pipeline's socket
//    reader. On every loop iteration (a uv_idle_t, like uv_read_start) it
//    writes a few chunks of its data into the upload; when Write() returns
//    false it stops (uv_read_stop) and records the moment; on_writable starts
//    it again. At the end of the data — or when on_failed says the upload
//    failed — it calls Finish() and keeps the result. It records pauses,
//    resumes, the most parts in flight and bytes buffered it ever saw.
//  - Binary(): deterministic pseudo-random bytes; AwsCliGet(): reads an
//    object back with the independent Debian awscli; UniqueTestPrefix().
//  - MultipartFixture: a LoopTest with a client on a target (`client_`, maybe
//    through a FaultProxy) and one straight to it (`direct_`, for checks and
//    cleanup), both under one unique key prefix; Stream() runs a Feeder to
//    the end; TearDown deletes what the test left (objects and uploads).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "../support/services.hpp"
#include "fault_proxy.hpp"
#include "loop_fixture.hpp"
#include "s3/multipart_upload.hpp"
#include "uv/uv_handle.hpp"

namespace sluice::testing::s3 {

/// `n` pseudo-random bytes (an LCG seeded with `seed`).
inline std::string Binary(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

/// "it-mpu/<pid>-<n>-<test name>/": keys of one test never meet another's.
inline std::string UniqueTestPrefix() {
  static std::atomic<int> counter{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return "it-mpu/" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" + info->name() + "/";
}

/// Downloads s3://bucket/<full_key> with /usr/bin/aws (an independent
/// client); nullopt when it fails. Blocking: test thread only, loop idle.
inline std::optional<std::string> AwsCliGet(const S3Target& target, const std::string& full_key) {
  char path[] = "/tmp/sluice-awscli-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return std::nullopt;
  close(fd);
  const std::string cmd = "AWS_ACCESS_KEY_ID='" + target.access_key + "' AWS_SECRET_ACCESS_KEY='" +
                          target.secret_key +
                          "' AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true "
                          "AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null "
                          "timeout 120 /usr/bin/aws --endpoint-url '" +
                          target.endpoint + "' s3 cp 's3://" + target.bucket + "/" + full_key + "' '" + path +
                          "' --quiet --only-show-errors";
  const int rc = std::system(cmd.c_str());
  std::optional<std::string> out;
  if (rc == 0) {
    std::ifstream in(path, std::ios::binary);
    out.emplace(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  unlink(path);
  return out;
}

/// Runs `cmd` (a shell command line) and returns its stdout and exit status.
inline std::pair<std::string, int> Shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {"", -1};
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int rc = pclose(p);
  return {out, WIFEXITED(rc) ? WEXITSTATUS(rc) : -1};
}

/// Feeds `data` into a MultipartUpload the way the pipeline's socket reader would.
class Feeder {
 public:
  Feeder(uv_loop_t* loop, std::string_view data, size_t chunk = 65536, int chunks_per_tick = 4)
      : data_(data), chunk_(chunk), per_tick_(chunks_per_tick) {
    EXPECT_EQ(idle_.Init(uv_idle_init, loop), 0);
    idle_->data = this;
  }

  /// The events to create the upload with.
  ::sluice::s3::MultipartEvents Events() {
    ::sluice::s3::MultipartEvents e;
    e.on_writable = [this] {
      ++resumes;
      if (paused_) {
        paused_ = false;
        Run();
      }
    };
    e.on_released = [this](uint64_t n) {
      released += n;
      Sample();
    };
    e.on_failed = [this](const core::Status& s) {
      failed.emplace(s);
      Halt();
      if (finish_at_end) CallFinish();
    };
    return e;
  }

  /// Starts feeding `upload` (which must outlive the feeding).
  void Start(::sluice::s3::MultipartUpload* upload) {
    upload_ = upload;
    Run();
  }

  bool fed_all() const { return offset_ == data_.size(); }
  size_t offset() const { return offset_; }

  // What happened.
  std::optional<core::Result<::sluice::s3::UploadResult>> result;
  std::optional<core::Status> failed;  ///< on_failed's status
  int pauses = 0;
  int resumes = 0;
  std::vector<int> in_flight_at_pause;
  int max_in_flight = 0;
  uint64_t max_buffered = 0;
  uint64_t released = 0;
  bool finish_at_end = true;
  /// Called after every tick with the bytes fed so far (to act mid-stream).
  std::function<void(size_t)> on_tick;

 private:
  void Run() { uv_idle_start(idle_.get(), &Feeder::OnIdle); }
  void Halt() { uv_idle_stop(idle_.get()); }
  void Sample() {
    if (upload_ == nullptr) return;
    max_in_flight = std::max(max_in_flight, upload_->parts_in_flight());
    max_buffered = std::max(max_buffered, upload_->buffered_bytes());
  }
  void CallFinish() {
    if (finished_) return;
    finished_ = true;
    upload_->Finish([this](core::Result<::sluice::s3::UploadResult> r) { result.emplace(std::move(r)); });
  }
  static void OnIdle(uv_idle_t* idle) { static_cast<Feeder*>(idle->data)->Tick(); }
  void Tick() {
    for (int i = 0; i < per_tick_ && offset_ < data_.size(); ++i) {
      const size_t n = std::min(chunk_, data_.size() - offset_);
      const bool more = upload_->Write(data_.substr(offset_, n));
      offset_ += n;
      Sample();
      if (!more) {
        Halt();
        if (upload_->state() != ::sluice::s3::MultipartUpload::State::kOpen) return;  // on_failed comes
        ++pauses;
        in_flight_at_pause.push_back(upload_->parts_in_flight());
        paused_ = true;
        if (on_tick) on_tick(offset_);
        return;
      }
    }
    if (on_tick) on_tick(offset_);
    if (offset_ == data_.size()) {
      Halt();
      if (finish_at_end) CallFinish();
    }
  }

  std::string_view data_;
  size_t chunk_;
  int per_tick_;
  size_t offset_ = 0;
  bool paused_ = false;
  bool finished_ = false;
  ::sluice::s3::MultipartUpload* upload_ = nullptr;
  glue::UvHandle<uv_idle_t> idle_;
};

/// A loop with S3 clients on one target and helpers to stream uploads.
class MultipartFixture : public LoopTest {
 protected:
  void BeforeLoopClose() override {
    feeder_.reset();
    upload_.reset();
    client_.reset();
    if (direct_ && !HasFatalFailure()) CleanUp();
    direct_.reset();
    proxy_.reset();
  }

  /// A client config for `endpoint` with the target's keys and this test's prefix.
  config::S3Config ConfigFor(const std::string& endpoint) const {
    config::S3Config c;
    c.endpoint = endpoint;
    c.region = "us-east-1";
    c.bucket = target_.bucket;
    c.access_key = target_.access_key;
    c.secret_key = target_.secret_key;
    c.path_style = true;
    c.prefix = prefix_;
    c.part_size = 5ull << 20;
    c.retries = 3;
    return c;
  }

  std::unique_ptr<::sluice::s3::S3Client> MakeClient(const config::S3Config& c,
                                                     ::sluice::s3::ClientOptions options = {}) {
    auto client = ::sluice::s3::S3Client::Create(*http_, c, ::sluice::s3::SystemNow, options);
    EXPECT_TRUE(client.has_value()) << client.error().message();
    return client ? std::move(*client) : nullptr;
  }

  /// Points the fixture at `target`: `direct_` and (by default) `client_`.
  void Use(const S3Target& target) {
    target_ = target;
    prefix_ = UniqueTestPrefix();
    direct_ = MakeClient(ConfigFor(target.endpoint));
    ASSERT_NE(direct_, nullptr);
    client_ = MakeClient(ConfigFor(target.endpoint));
    ASSERT_NE(client_, nullptr);
  }

  /// Options for the tests: 5 MiB parts, `in_flight` of them at once.
  static ::sluice::s3::MultipartOptions Options(int in_flight = 4, uint64_t part_size = 5ull << 20) {
    ::sluice::s3::MultipartOptions o;
    o.part_size = part_size;
    o.max_parts_in_flight = in_flight;
    o.content_type = "application/octet-stream";
    return o;
  }

  /// Creates `upload_` for `key` with a Feeder over `data` and starts feeding.
  void StartStream(const std::string& key, std::string_view data, ::sluice::s3::MultipartOptions options,
                   size_t chunk = 65536) {
    feeder_ = std::make_unique<Feeder>(&loop_, data, chunk);
    auto upload = ::sluice::s3::MultipartUpload::Create(*client_, key, std::move(options), feeder_->Events());
    ASSERT_TRUE(upload.has_value()) << upload.error().message();
    upload_ = std::move(*upload);
    feeder_->Start(upload_.get());
  }

  /// Streams `data` to `key` and waits for Finish's result.
  core::Result<::sluice::s3::UploadResult> Stream(const std::string& key, std::string_view data,
                                                  ::sluice::s3::MultipartOptions options, size_t chunk = 65536,
                                                  std::chrono::milliseconds limit = std::chrono::seconds(120)) {
    StartStream(key, data, std::move(options), chunk);
    if (HasFatalFailure()) return core::Status::Internal("could not start");
    if (!RunUntil([this] { return feeder_->result.has_value(); }, limit)) {
      return core::Status::Internal("timed out waiting for the upload");
    }
    return std::move(*feeder_->result);
  }

  /// The multipart uploads in progress under this test's prefix (direct).
  core::Result<std::vector<::sluice::s3::ListedUpload>> InProgress() {
    auto page = Await<::sluice::s3::ListUploadsResult>([&](auto cb) {
      direct_->ListMultipartUploads("", {}, std::move(cb));
    });
    if (!page) return page.error();
    return page->uploads;
  }

  core::Result<::sluice::s3::ObjectInfo> Head(const std::string& key) {
    return Await<::sluice::s3::ObjectInfo>([&](auto cb) { direct_->HeadObject(key, std::move(cb)); });
  }

  core::Result<::sluice::s3::GetObjectResult> Get(const std::string& key) {
    return Await<::sluice::s3::GetObjectResult>([&](auto cb) { direct_->GetObject(key, {}, std::move(cb)); });
  }

  /// Deletes every object and aborts every upload under the prefix.
  void CleanUp() {
    for (int page = 0; page < 20; ++page) {
      auto listed = Await<::sluice::s3::ListObjectsResult>([&](auto cb) { direct_->ListObjectsV2("", {}, std::move(cb)); });
      if (!listed || listed->objects.empty()) break;
      for (const auto& o : listed->objects) {
        AwaitStatus([&](auto cb) { direct_->DeleteObject(o.key, std::move(cb)); });
      }
    }
    auto uploads = InProgress();  // s3rver: 501, nothing to do
    if (uploads) {
      for (const auto& u : *uploads) {
        AwaitStatus([&](auto cb) { direct_->AbortMultipartUpload(u.key, u.upload_id, std::move(cb)); });
      }
    }
  }

  S3Target target_;
  std::string prefix_;
  std::unique_ptr<::sluice::s3::S3Client> direct_;
  std::unique_ptr<::sluice::s3::S3Client> client_;
  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<Feeder> feeder_;
  std::unique_ptr<::sluice::s3::MultipartUpload> upload_;
};

}  // namespace sluice::testing::s3
