// TLS for the HTTP server on the loop, with OpenSSL memory BIOs: the socket
// stays a plain uv_tcp_t; ciphertext read from it is fed in, plaintext comes
// out for llhttp; plaintext responses go in, ciphertext comes out for
// uv_write. No OpenSSL call ever touches a socket, so nothing blocks.
//
// Rules:
//  - TlsContext is built once at start (it reads the PEM files — a blocking
//    read, done before the loop runs) and outlives every TlsSession.
//  - A TlsSession belongs to one connection, loop thread only. After each
//    FeedCiphertext/WritePlaintext the caller sends TakeCiphertext().
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sluice::glue {

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const noexcept { SSL_CTX_free(ctx); }
};
struct SslDeleter {
  void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
};

/// The server side: certificate chain + key, TLS 1.2 or newer.
class TlsContext {
 public:
  /// Loads `cert_file` (PEM chain) and `key_file` (PEM) and checks they match.
  static core::Result<std::unique_ptr<TlsContext>> Load(const std::string& cert_file, const std::string& key_file);
  SSL_CTX* get() const { return ctx_.get(); }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  std::unique_ptr<SSL_CTX, SslCtxDeleter> ctx_;
};

/// One server-side TLS connection over memory BIOs.
class TlsSession {
 public:
  explicit TlsSession(const TlsContext& context);

  enum class ReadStatus {
    kOk,      ///< `plaintext` got whatever was available (maybe nothing yet)
    kClosed,  ///< the peer sent close_notify
    kError,   ///< handshake or record error: close the connection
  };
  /// Feeds ciphertext from the socket and appends the plaintext it yields.
  ReadStatus FeedCiphertext(const char* data, size_t length, std::string& plaintext);
  /// Encrypts `plaintext` (queued into the write BIO). False on error.
  bool WritePlaintext(std::string_view plaintext);
  /// Starts a clean close (close_notify).
  void Shutdown();
  /// Moves the ciphertext waiting to be sent into `out` (appends).
  void TakeCiphertext(std::string& out);
  /// The last error's text, for the log.
  const std::string& error() const { return error_; }

 private:
  std::unique_ptr<SSL, SslDeleter> ssl_;
  BIO* read_bio_ = nullptr;   ///< owned by ssl_
  BIO* write_bio_ = nullptr;  ///< owned by ssl_
  std::string error_;
};

}  // namespace sluice::glue
