// Test clients. RawConnection speaks HTTP/1.1 over a plain socket so a test can
// send exactly the bytes it wants (pipelining, half requests, bad syntax,
// Expect: 100-continue) and read responses one by one. Fetch() is libcurl, the
// client users actually run.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sluice::testing {

struct RawResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  ///< de-chunked
  std::string Header(const std::string& name) const;  ///< "" when absent (case-insensitive)
};

class RawConnection {
 public:
  explicit RawConnection(int port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool Send(const std::string& bytes);
  /// Reads one response (an interim 100 counts as one). nullopt on timeout,
  /// close or garbage.
  std::optional<RawResponse> ReadResponse(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// True if the server closes the connection (EOF or reset) within `timeout`;
  /// bytes that arrive first are discarded into `leftover`.
  bool WaitClosed(std::chrono::milliseconds timeout, std::string* leftover = nullptr);

 private:
  bool Fill(std::chrono::steady_clock::time_point deadline);  ///< reads more into buffer_
  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
};

struct FetchResult {
  long status = 0;           ///< 0 when the transfer failed
  std::string body;
  std::string headers;       ///< raw header block(s)
  std::string error;         ///< curl's message when status == 0
  long connects = 0;         ///< new connections curl opened
};

/// One multipart/form-data part (curl -F): a field, or a file from disk.
struct FormPart {
  std::string name;
  std::string value;      ///< a field's value
  std::string file_path;  ///< a file part's path (curl reads and streams it)
  std::string filename;   ///< the file name sent (default: the path's base name)
};

struct FetchOptions {
  std::string method = "GET";
  std::string body;
  std::vector<std::string> headers;  ///< "Name: value"
  bool chunked = false;              ///< send the body with Transfer-Encoding: chunked
  long timeout_ms = 30000;
  std::string ca_file;               ///< https: trust this PEM (verification stays on)
  std::vector<FormPart> form;        ///< non-empty: a multipart/form-data POST
  std::string body_file;             ///< send this file as the body (streamed)
};

/// Runs a command through the shell and returns its stdout (and its exit code).
std::string RunCommand(const std::string& command, int* exit_code = nullptr);

FetchResult Fetch(const std::string& url, const FetchOptions& options = {});

}  // namespace sluice::testing
