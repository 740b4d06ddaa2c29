// See tls_session.hpp.
#include "tls/tls_session.hpp"

#include <fmt/format.h>
#include <openssl/err.h>

namespace sluice::glue {
namespace {

std::string OpenSslErrors() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!text.empty()) text += "; ";
    text += buffer;
  }
  return text.empty() ? "unknown TLS error" : text;
}

}  // namespace

core::Result<std::unique_ptr<TlsContext>> TlsContext::Load(const std::string& cert_file,
                                                           const std::string& key_file) {
  SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
  if (raw == nullptr) return core::Status::Internal("SSL_CTX_new: " + OpenSslErrors());
  std::unique_ptr<TlsContext> context(new TlsContext(raw));
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(raw, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file(raw, cert_file.c_str()) != 1) {
    return core::Status::Invalid(fmt::format("[server] tls_cert {}: {}", cert_file, OpenSslErrors()));
  }
  if (SSL_CTX_use_PrivateKey_file(raw, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return core::Status::Invalid(fmt::format("[server] tls_key {}: {}", key_file, OpenSslErrors()));
  }
  if (SSL_CTX_check_private_key(raw) != 1) {
    return core::Status::Invalid(fmt::format("[server] tls_key {} does not match tls_cert {}", key_file, cert_file));
  }
  return context;
}

TlsSession::TlsSession(const TlsContext& context) : ssl_(SSL_new(context.get())) {
  read_bio_ = BIO_new(BIO_s_mem());
  write_bio_ = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(read_bio_, -1);  // an empty read BIO means "more to come", not EOF
  SSL_set_bio(ssl_.get(), read_bio_, write_bio_);
  SSL_set_accept_state(ssl_.get());
}

TlsSession::ReadStatus TlsSession::FeedCiphertext(const char* data, size_t length, std::string& plaintext) {
  while (length > 0) {
    int written = BIO_write(read_bio_, data, static_cast<int>(length));
    if (written <= 0) {
      error_ = "BIO_write failed";
      return ReadStatus::kError;
    }
    data += written;
    length -= static_cast<size_t>(written);
  }
  char buffer[16384];
  while (true) {
    ERR_clear_error();
    int n = SSL_read(ssl_.get(), buffer, sizeof buffer);
    if (n > 0) {
      plaintext.append(buffer, static_cast<size_t>(n));
      continue;
    }
    int reason = SSL_get_error(ssl_.get(), n);
    if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) return ReadStatus::kOk;
    if (reason == SSL_ERROR_ZERO_RETURN) return ReadStatus::kClosed;
    error_ = OpenSslErrors();
    return ReadStatus::kError;
  }
}

bool TlsSession::WritePlaintext(std::string_view plaintext) {
  while (!plaintext.empty()) {
    ERR_clear_error();
    int n = SSL_write(ssl_.get(), plaintext.data(), static_cast<int>(plaintext.size()));
    if (n <= 0) {
      int reason = SSL_get_error(ssl_.get(), n);
      // Before the handshake completes, SSL_write wants the peer's next
      // flight; responses are only written after a request was read, so the
      // handshake is always done here.
      error_ = reason == SSL_ERROR_WANT_READ ? "write before the TLS handshake finished" : OpenSslErrors();
      return false;
    }
    plaintext.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void TlsSession::Shutdown() {
  ERR_clear_error();
  SSL_shutdown(ssl_.get());
}

void TlsSession::TakeCiphertext(std::string& out) {
  char* data = nullptr;
  long pending = BIO_get_mem_data(write_bio_, &data);
  if (pending <= 0) return;
  out.append(data, static_cast<size_t>(pending));
  (void)BIO_reset(write_bio_);
}

}  // namespace sluice::glue
