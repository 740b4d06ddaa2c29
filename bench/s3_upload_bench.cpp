// bench_s3_upload: streams one file to S3 through sluice's own client —
// MultipartUpload on S3Client on CurlMulti on one libuv loop, exactly the
// path an upload takes in the server — and prints throughput and memory.
//
// The file is read with uv_fs_read (async, on the worker pool) in 256 KiB
// pieces, the way body chunks arrive from a socket: when Write() says the
// upload is full, reading stops; on_writable starts it again. So the numbers
// include backpressure, hashing on the worker pool and the loop's own work.
// Output is one `key=value` line per figure, for bench/s3_upload.sh:
//   seconds, mib_per_s, parts, peak_rss_kib (whole process, getrusage),
//   base_rss_kib (before the upload), peak_buffered_bytes, bound_bytes.
//
// Usage: bench_s3_upload --endpoint URL --bucket B --access-key K --secret-key S
//                        --file PATH [--key K] [--part-size BYTES] [--in-flight N]
#include <fcntl.h>
#include <sys/resource.h>
#include <uv.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include <curl/curl.h>

#include "curl/curl_multi_uv.hpp"
#include "log/logger.hpp"
#include "s3/multipart_upload.hpp"

namespace {

using sluice::s3::MultipartUpload;

long RssKib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

long PeakRssKib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// Reads a file into a MultipartUpload with uv_fs_read, pausing on backpressure.
class FileFeeder {
 public:
  FileFeeder(uv_loop_t* loop, uv_file fd) : loop_(loop), fd_(fd) { req_.data = this; }

  sluice::s3::MultipartEvents Events() {
    sluice::s3::MultipartEvents e;
    e.on_writable = [this] {
      if (paused_) {
        paused_ = false;
        ReadNext();
      }
    };
    e.on_failed = [this](const sluice::core::Status&) { Finish(); };
    return e;
  }

  void Start(MultipartUpload* upload) {
    upload_ = upload;
    ReadNext();
  }

  std::optional<sluice::core::Result<sluice::s3::UploadResult>> result;
  uint64_t peak_buffered = 0;

 private:
  void ReadNext() {
    uv_buf_t b = uv_buf_init(buf_, sizeof buf_);
    if (uv_fs_read(loop_, &req_, fd_, &b, 1, -1, &FileFeeder::OnRead) != 0) Finish();
  }
  static void OnRead(uv_fs_t* req) {
    auto* self = static_cast<FileFeeder*>(req->data);
    const ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    if (n <= 0) {
      self->Finish();
      return;
    }
    const bool more = self->upload_->Write(std::string_view(self->buf_, static_cast<size_t>(n)));
    self->peak_buffered = std::max(self->peak_buffered, self->upload_->buffered_bytes());
    if (more) {
      self->ReadNext();
    } else if (self->upload_->state() == MultipartUpload::State::kOpen) {
      self->paused_ = true;
    }
  }
  void Finish() {
    if (finished_) return;
    finished_ = true;
    upload_->Finish([this](sluice::core::Result<sluice::s3::UploadResult> r) { result.emplace(std::move(r)); });
  }

  uv_loop_t* loop_;
  uv_file fd_;
  uv_fs_t req_{};
  char buf_[256 << 10];
  bool paused_ = false;
  bool finished_ = false;
  MultipartUpload* upload_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
  std::string endpoint, bucket, access_key, secret_key, file, key = "bench/s3_upload.bin";
  uint64_t part_size = 8ull << 20;
  int in_flight = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--endpoint") endpoint = value;
    else if (flag == "--bucket") bucket = value;
    else if (flag == "--access-key") access_key = value;
    else if (flag == "--secret-key") secret_key = value;
    else if (flag == "--file") file = value;
    else if (flag == "--key") key = value;
    else if (flag == "--part-size") part_size = std::strtoull(value, nullptr, 10);
    else if (flag == "--in-flight") in_flight = std::atoi(value);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (endpoint.empty() || file.empty()) {
    std::fprintf(stderr, "usage: %s --endpoint URL --bucket B --access-key K --secret-key S --file PATH "
                         "[--key K] [--part-size BYTES] [--in-flight N]\n", argv[0]);
    return 2;
  }
  sluice::log::Init(sluice::log::Level::kWarn, sluice::log::Format::kText);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  uv_loop_t loop;
  uv_loop_init(&loop);
  int rc = 1;
  {
    auto http = sluice::glue::CurlMulti::Create(&loop);
    if (!http) return 1;
    sluice::config::S3Config config;
    config.endpoint = endpoint;
    config.bucket = bucket;
    config.access_key = access_key;
    config.secret_key = secret_key;
    config.path_style = true;
    config.part_size = part_size;
    config.max_parts_in_flight = in_flight;
    auto client = sluice::s3::S3Client::Create(**http, config);
    if (!client) {
      std::fprintf(stderr, "%s\n", client.error().message().c_str());
      return 1;
    }
    uv_fs_t open_req;
    const uv_file fd = uv_fs_open(nullptr, &open_req, file.c_str(), O_RDONLY, 0, nullptr);  // before the clock
    uv_fs_req_cleanup(&open_req);
    if (fd < 0) {
      std::fprintf(stderr, "cannot open %s: %s\n", file.c_str(), uv_strerror(fd));
      return 1;
    }
    FileFeeder feeder(&loop, fd);
    auto upload =
        MultipartUpload::Create(**client, key, sluice::s3::MultipartOptions::FromConfig(config), feeder.Events());
    if (!upload) {
      std::fprintf(stderr, "%s\n", upload.error().message().c_str());
      return 1;
    }
    const long base_rss = RssKib();
    const auto start = std::chrono::steady_clock::now();
    feeder.Start(upload->get());
    while (!feeder.result && uv_run(&loop, UV_RUN_ONCE) != 0) {
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (feeder.result && feeder.result->has_value()) {
      const auto& r = **feeder.result;
      std::printf("bytes=%llu\nseconds=%.3f\nmib_per_s=%.1f\nparts=%d\netag=%s\n",
                  static_cast<unsigned long long>(r.size), seconds, r.size / 1048576.0 / seconds, r.parts,
                  r.etag.c_str());
      std::printf("peak_rss_kib=%ld\nbase_rss_kib=%ld\npeak_buffered_bytes=%llu\nbound_bytes=%llu\n", PeakRssKib(),
                  base_rss, static_cast<unsigned long long>(feeder.peak_buffered),
                  static_cast<unsigned long long>(part_size * static_cast<uint64_t>(in_flight + 2)));
      rc = 0;
    } else {
      std::fprintf(stderr, "upload failed: %s\n",
                   feeder.result ? feeder.result->error().message().c_str() : "loop ended early");
    }
    upload->reset();
    uv_fs_t close_req;
    uv_fs_close(nullptr, &close_req, fd, nullptr);
    uv_fs_req_cleanup(&close_req);
    (*client).reset();
    (*http)->Shutdown();
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  if (uv_loop_close(&loop) != 0) {
    std::fprintf(stderr, "a uv handle was left open\n");
    rc = 1;
  }
  curl_global_cleanup();
  return rc;
}
