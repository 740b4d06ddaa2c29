// HTTPS: a self-signed certificate made here with the openssl command, a TLS
// listener next to the plain one, and libcurl verifying against that
// certificate — keep-alive, a 3 MiB streamed echo, a client that does not
// trust the certificate, and plain HTTP sent to the TLS port.
#include <gtest/gtest.h>

#include <cstdlib>

#include "support/http_client.hpp"
#include "support/sluice_process.hpp"

namespace sluice::testing {
namespace {

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = server_.dir() + "/cert.pem";
    key_ = server_.dir() + "/key.pem";
    std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                          "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
                          key_ + " -out " + cert_ + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << "openssl could not make a test certificate";
    server_.WriteConf("tls_listen = 127.0.0.1:0\ntls_cert = " + cert_ + "\ntls_key = " + key_ + "\n");
    std::string error;
    ASSERT_TRUE(server_.Start(&error)) << error;
    for (const auto& message : server_.NotifyMessages()) {
      auto at = message.find("https://127.0.0.1:");
      if (at != std::string::npos) tls_port_ = std::atoi(message.c_str() + at + 18);
    }
    ASSERT_GT(tls_port_, 0) << "no https listener in the STATUS line";
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << server_.Log();
  }
  std::string Https(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(tls_port_) + path;
  }
  SluiceProcess server_;
  std::string cert_, key_;
  int tls_port_ = 0;
};

TEST_F(TlsTest, ServesHttpsVerifiedAgainstTheCertificate) {
  auto result = Fetch(Https("/healthz"), {.ca_file = cert_});
  ASSERT_EQ(result.status, 200) << result.error;
  EXPECT_EQ(result.body, R"({"status":"ok"})");
  EXPECT_EQ(Fetch(server_.Url("/healthz")).status, 200);  // the plain listener still works
}

TEST_F(TlsTest, StreamsALargeBodyBothWays) {
  std::string body(3 << 20, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>((i * 2654435761u) >> 13);
  auto result = Fetch(Https("/v1/_test/echo"), {.method = "POST", .body = body, .chunked = true, .ca_file = cert_});
  ASSERT_EQ(result.status, 200) << result.error;
  EXPECT_TRUE(result.body == body);
}

TEST_F(TlsTest, ClientThatDoesNotTrustTheCertificateFails) {
  auto result = Fetch(Https("/healthz"));  // system CAs only
  EXPECT_EQ(result.status, 0);
  EXPECT_FALSE(result.error.empty());
  EXPECT_EQ(Fetch(Https("/healthz"), {.ca_file = cert_}).status, 200);  // and the server is fine
}

TEST_F(TlsTest, PlainHttpOnTheTlsPortIsClosedNotCrashed) {
  RawConnection c(tls_port_);
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(c.WaitClosed(std::chrono::seconds(5)));
  EXPECT_EQ(Fetch(Https("/healthz"), {.ca_file = cert_}).status, 200);
}

TEST(TlsConfig, BadCertificateStopsTheStart) {
  SluiceProcess server;
  server.WriteConf("tls_listen = 127.0.0.1:0\ntls_cert = /nonexistent/cert.pem\ntls_key = /nonexistent/key.pem\n");
  std::string error;
  EXPECT_FALSE(server.Start(&error));
  EXPECT_NE(error.find("tls_cert /nonexistent/cert.pem"), std::string::npos) << error;
}

}  // namespace
}  // namespace sluice::testing
