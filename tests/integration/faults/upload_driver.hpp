// UploadDriver: one raw-body CSV upload over a plain socket whose body is
// generated on the fly (fixed-width rows, so the size is known up front and
// the content can be checked), sent piece by piece so a test can stop at an
// exact byte — to kill a process there, or to drop the connection. The
// socket is non-blocking: a server that stops reading (backpressure, a dead
// S3) never hangs the test past the given timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace sluice::testing {

/// The generated file: "id,name,value" and `rows` rows of kRowBytes each.
struct GeneratedCsv {
  static constexpr uint64_t kRowBytes = 41;
  static constexpr const char* kHeader = "id,name,value\n";
  uint64_t rows = 0;
  uint64_t size() const;
  /// Rows for about `bytes` of file.
  static GeneratedCsv OfSize(uint64_t bytes);
  /// Bytes [offset, offset + n) of the file.
  void Read(uint64_t offset, char* out, uint64_t n) const;
};

struct DriverResponse {
  int status = 0;     ///< 0: no (complete) answer
  std::string body;   ///< as sent (a chunked body is not de-chunked)
};

class UploadDriver {
 public:
  /// Connects and sends the request head: POST `target` with Content-Length.
  UploadDriver(int port, const std::string& target, GeneratedCsv file);
  ~UploadDriver();
  UploadDriver(const UploadDriver&) = delete;
  UploadDriver& operator=(const UploadDriver&) = delete;

  bool connected() const { return fd_ >= 0; }
  uint64_t sent() const { return sent_; }
  uint64_t total() const { return file_.size(); }
  /// Sends until `bytes` of the body are out; false when the server answered,
  /// closed, or did not take the bytes within `timeout`.
  bool SendUntil(uint64_t bytes, std::chrono::milliseconds timeout);
  /// Sends the rest (as far as the server reads it) and reads the answer.
  DriverResponse Finish(std::chrono::milliseconds timeout);
  /// Drops the connection (a client that goes away).
  void Close();

 private:
  bool Pump(uint64_t until, std::chrono::steady_clock::time_point deadline, bool read_answer);
  bool AnswerComplete() const;

  int fd_ = -1;
  GeneratedCsv file_;
  uint64_t sent_ = 0;
  std::string received_;
  bool eof_ = false;
};

}  // namespace sluice::testing
