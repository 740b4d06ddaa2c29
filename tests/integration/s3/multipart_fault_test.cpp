// MultipartUpload through FaultProxy in front of Ceph RGW: AWS's transient
// errors on demand. A part answered 500 (or 429) or reset mid-body is retried
// alone and the object is intact; 503 SlowDown waits with exponential backoff
// and jitter; a part that keeps failing ends the upload after `retries` with
// the S3 code and message, and AbortMultipartUpload leaves nothing in
// ListMultipartUploads; a wrong secret is one request, not a retry storm;
// a stalled response becomes a timeout error, not a
// hang; a lost answer to Complete is recognised by the object's ETag; the
// endpoint killed in the middle of a 50 MiB upload fails it within the retry
// budget while the loop keeps serving other requests, and the leftover is
// found with ListMultipartUploads and removed. Needs SLUICE_TEST_RGW_*.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "multipart_support.hpp"
#include "s3/multipart_upload.hpp"

namespace sluice::s3 {
namespace {

using namespace std::chrono_literals;
using sluice::testing::s3::Binary;
using sluice::testing::s3::FaultProxy;
using State = MultipartUpload::State;

constexpr uint64_t kPart = 5ull << 20;

std::string PartLine(int n) { return "?partNumber=" + std::to_string(n) + "&"; }

class MultipartFaultTest : public sluice::testing::s3::MultipartFixture {
 protected:
  void SetUp() override {
    MultipartFixture::SetUp();
    if (HasFatalFailure()) return;
    SLUICE_REQUIRE_S3(s3, "SLUICE_TEST_RGW");
    Use(s3);
    if (HasFatalFailure()) return;
    const int port = std::atoi(s3.endpoint.substr(s3.endpoint.rfind(':') + 1).c_str());
    proxy_ = std::make_unique<FaultProxy>("127.0.0.1", port);
    ASSERT_TRUE(proxy_->ok());
  }

  // `client_` now goes through the proxy.
  void ThroughProxy(int retries, ClientOptions options = {}) {
    config::S3Config c = ConfigFor(proxy_->Endpoint());
    c.retries = retries;
    if (options.retry_base_delay == ClientOptions{}.retry_base_delay) options.retry_base_delay = 20ms;
    client_ = MakeClient(c, options);
    ASSERT_NE(client_, nullptr);
  }

  void ExpectBytes(const std::string& key, const std::string& data) {
    auto got = Get(key);
    ASSERT_TRUE(got.has_value()) << got.error().message();
    EXPECT_EQ(got->body.size(), data.size());
    EXPECT_TRUE(got->body == data) << "the object differs from what was written";
  }

  void ExpectNothingLeft(const std::string& key) {
    auto left = InProgress();
    ASSERT_TRUE(left.has_value()) << left.error().message();
    EXPECT_TRUE(left->empty()) << left->size() << " upload(s) left in ListMultipartUploads";
    auto head = Head(key);
    ASSERT_FALSE(head.has_value());
    EXPECT_EQ(head.error().code(), 404);
  }
};

TEST_F(MultipartFaultTest, PartRetriedAloneAfter500And429) {
  ThroughProxy(3);
  proxy_->RespondTo(PartLine(2), 500, "InternalError");
  proxy_->RespondTo(PartLine(3), 429, "TooManyRequests");
  const std::string data = Binary(3 * kPart + 777, 31);
  auto done = Stream("retried-500.bin", data, Options(4));
  ASSERT_TRUE(done.has_value()) << done.error().message();
  EXPECT_EQ(done->parts, 4);
  EXPECT_EQ(proxy_->Count(PartLine(1)), 1);
  EXPECT_EQ(proxy_->Count(PartLine(2)), 2);
  EXPECT_EQ(proxy_->Count(PartLine(3)), 2);
  EXPECT_EQ(proxy_->Count(PartLine(4)), 1);
  EXPECT_EQ(proxy_->Count("?uploads"), 1);
  EXPECT_EQ(proxy_->Count("POST"), 2);  // Create + Complete
  EXPECT_EQ(proxy_->Count("DELETE"), 0);
  ExpectBytes("retried-500.bin", data);
}

TEST_F(MultipartFaultTest, PartRetriedAloneAfterAConnectionReset) {
  ThroughProxy(3);
  proxy_->ResetOn(PartLine(2), 1, 1 << 20);  // RST a megabyte into the part's body
  const std::string data = Binary(3 * kPart + 1, 37);
  auto done = Stream("retried-reset.bin", data, Options(4));
  ASSERT_TRUE(done.has_value()) << done.error().message();
  EXPECT_EQ(done->parts, 4);
  EXPECT_GE(proxy_->Count(PartLine(2)), 2);
  EXPECT_EQ(proxy_->CountPassed(PartLine(2)), 1);
  for (int n : {1, 3, 4}) EXPECT_EQ(proxy_->Count(PartLine(n)), 1) << "part " << n << " was resent";
  ExpectBytes("retried-reset.bin", data);
}

TEST_F(MultipartFaultTest, SlowDownBacksOffExponentiallyWithJitter) {
  ClientOptions options;
  options.retry_base_delay = 200ms;
  options.retry_max_delay = 2s;
  ThroughProxy(4, options);
  proxy_->RespondTo(PartLine(1), 503, "SlowDown", 2);
  const std::string data = Binary(kPart + 10, 41);
  auto done = Stream("slowdown.bin", data, Options(1));
  ASSERT_TRUE(done.has_value()) << done.error().message();
  std::vector<std::chrono::steady_clock::time_point> at;
  for (const auto& s : proxy_->seen()) {
    if (s.line.find(PartLine(1)) != std::string::npos) at.push_back(s.at);
  }
  ASSERT_EQ(at.size(), 3u);
  const auto first = std::chrono::duration_cast<std::chrono::milliseconds>(at[1] - at[0]);
  const auto second = std::chrono::duration_cast<std::chrono::milliseconds>(at[2] - at[1]);
  // Equal jitter: attempt k waits in [base·2^k / 2, base·2^k].
  EXPECT_GE(first, 100ms);
  EXPECT_LT(first, 1000ms);
  EXPECT_GE(second, 200ms);
  EXPECT_LT(second, 1500ms);
  ExpectBytes("slowdown.bin", data);
}

TEST_F(MultipartFaultTest, FinalFailureAfterRetriesAbortsAndLeavesNothing) {
  ThroughProxy(2);
  proxy_->RespondTo(PartLine(2), 500, "InternalError", -1);
  const std::string data = Binary(8 * kPart, 43);
  auto done = Stream("gives-up.bin", data, Options(2));
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().domain(), core::ErrorDomain::kS3);
  EXPECT_EQ(done.error().code(), 500);
  EXPECT_EQ(S3ErrorCode(done.error()), "InternalError") << done.error().message();
  EXPECT_EQ(done.error().message().rfind("InternalError: injected by FaultProxy (part 2 of upload ", 0), 0u)
      << done.error().message();
  EXPECT_NE(done.error().message().find("; upload aborted"), std::string::npos) << done.error().message();
  EXPECT_EQ(proxy_->Count(PartLine(2)), 3) << "1 attempt + 2 retries";
  EXPECT_EQ(proxy_->Count(PartLine(1)), 1);
  EXPECT_EQ(proxy_->CountPassed("DELETE"), 1) << "AbortMultipartUpload ran once";
  EXPECT_EQ(upload_->state(), State::kFailed);
  EXPECT_EQ(upload_->buffered_bytes(), 0u);
  ASSERT_TRUE(feeder_->failed.has_value()) << "the paused producer was told";
  EXPECT_EQ(S3ErrorCode(*feeder_->failed), "InternalError");
  ExpectNothingLeft("gives-up.bin");
}

TEST_F(MultipartFaultTest, WrongSecretIsOneRequestNoRetryStorm) {
  config::S3Config c = ConfigFor(proxy_->Endpoint());
  c.secret_key = "not-the-secret-key";
  c.retries = 4;
  client_ = MakeClient(c);
  ASSERT_NE(client_, nullptr);
  auto done = Stream("forbidden.bin", Binary(2 * kPart, 71), Options(2));
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().code(), 403);
  EXPECT_EQ(S3ErrorCode(done.error()), "SignatureDoesNotMatch") << done.error().message();
  EXPECT_EQ(proxy_->Count(""), 1) << "a 403 is final: one CreateMultipartUpload, nothing else";
}

TEST_F(MultipartFaultTest, StalledResponseIsATimeoutNotAHang) {
  ClientOptions options;
  options.timeout = 1500ms;
  ThroughProxy(1, options);
  proxy_->StallOn(PartLine(1), -1);
  const std::string data = Binary(kPart + 99, 47);
  const auto start = std::chrono::steady_clock::now();
  auto done = Stream("stalled.bin", data, Options(2), 65536, 30s);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().domain(), core::ErrorDomain::kS3);
  EXPECT_EQ(done.error().code(), CURLE_OPERATION_TIMEDOUT) << done.error().message();
  EXPECT_NE(done.error().message().find("part 1 of upload"), std::string::npos) << done.error().message();
  EXPECT_EQ(proxy_->Count(PartLine(1)), 2);
  ExpectNothingLeft("stalled.bin");
}

TEST_F(MultipartFaultTest, LostAnswerToCompleteIsRetriedSafely) {
  ThroughProxy(3);
  // The server completes the upload but its answer never arrives; the retried
  // Complete is answered 200 again by RGW.
  proxy_->LoseAnswerTo("?uploadId=");  // Complete's line (parts have "&uploadId=")
  const std::string data = Binary(2 * kPart + 3, 53);
  auto done = Stream("lost-answer.bin", data, Options(2));
  ASSERT_TRUE(done.has_value()) << done.error().message();
  EXPECT_EQ(done->parts, 3);
  EXPECT_EQ(proxy_->Count("?uploadId="), 2) << "Complete was sent twice";
  auto head = Head("lost-answer.bin");
  ASSERT_TRUE(head.has_value()) << head.error().message();
  EXPECT_EQ(head->etag, done->etag);
  ExpectBytes("lost-answer.bin", data);
}

TEST_F(MultipartFaultTest, LostAnswerThenNoSuchUploadIsRecognisedByTheEtag) {
  ThroughProxy(3);
  // As AWS may do: the retried Complete finds the upload gone (404
  // NoSuchUpload). The object is there with the ETag of our parts: success.
  proxy_->LoseAnswerTo("?uploadId=");
  proxy_->RespondTo("?uploadId=", 404, "NoSuchUpload");
  const std::string data = Binary(2 * kPart + 5, 61);
  auto done = Stream("lost-then-404.bin", data, Options(2));
  ASSERT_TRUE(done.has_value()) << done.error().message();
  EXPECT_EQ(proxy_->Count("?uploadId="), 2);
  EXPECT_EQ(proxy_->Count("HEAD"), 1) << "the object was checked";
  auto head = Head("lost-then-404.bin");
  ASSERT_TRUE(head.has_value()) << head.error().message();
  EXPECT_EQ(head->etag, done->etag);
  ExpectBytes("lost-then-404.bin", data);

  // The same 404 when the object is not ours: a clear NoSuchUpload error.
  proxy_->ClearRules();
  proxy_->RespondTo("?uploadId=", 404, "NoSuchUpload");
  upload_.reset();
  auto failed = Stream("never-completed.bin", Binary(kPart + 1, 62), Options(2));
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), 404);
  EXPECT_EQ(S3ErrorCode(failed.error()), "NoSuchUpload") << failed.error().message();
  ExpectNothingLeft("never-completed.bin");
}

TEST_F(MultipartFaultTest, EndpointKilledMidUploadFailsInBudgetAndTheLoopKeepsServing) {
  ClientOptions options;
  options.timeout = 5s;
  options.retry_base_delay = 50ms;
  ThroughProxy(2, options);
  sluice::testing::s3::LoopbackHttpServer other(&loop_, sluice::testing::s3::LoopbackHttpServer::Mode::kRespond);
  const std::string data = Binary(50u << 20, 59);
  StartStream("killed.bin", data, Options(4));
  std::chrono::steady_clock::time_point downed_at;
  bool downed = false;
  std::optional<core::Result<glue::HttpResponse>> other_answer;
  bool upload_done_first = false;
  feeder_->on_tick = [&](size_t) {
    if (downed || upload_->parts_uploaded() < 2) return;
    downed = true;
    downed_at = std::chrono::steady_clock::now();
    proxy_->Down();
    // Another request on the same loop while the upload is failing.
    glue::HttpRequest req;
    req.url = other.Url("/ping");
    http_->Perform(std::move(req), [&](core::Result<glue::HttpResponse> r) {
      upload_done_first = feeder_->result.has_value();
      other_answer.emplace(std::move(r));
    });
  };
  ASSERT_TRUE(RunUntil([&] { return feeder_->result.has_value(); }, 60s));
  ASSERT_TRUE(downed) << "the upload finished before two parts were in";
  const auto failed_after = std::chrono::steady_clock::now() - downed_at;
  EXPECT_LT(failed_after, 20s) << "not within the retry budget";
  const auto& done = *feeder_->result;
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().domain(), core::ErrorDomain::kS3);
  EXPECT_LT(done.error().code(), 100) << "a transport error (CURLcode): " << done.error().message();
  EXPECT_NE(done.error().message().find("AbortMultipartUpload failed too"), std::string::npos)
      << done.error().message();
  ASSERT_TRUE(other_answer.has_value()) << "the loop stopped serving";
  ASSERT_TRUE(other_answer->has_value()) << other_answer->error().message();
  EXPECT_EQ((*other_answer)->status, 200);
  EXPECT_FALSE(upload_done_first) << "the other request waited for the failing upload";
  EXPECT_LT(feeder_->offset(), data.size());
  EXPECT_EQ(upload_->buffered_bytes(), 0u);

  // The abort could not reach the server: the leftover is found and removed.
  const std::string id = upload_->upload_id();
  auto left = InProgress();
  ASSERT_TRUE(left.has_value()) << left.error().message();
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].key, "killed.bin");
  EXPECT_EQ((*left)[0].upload_id, id);
  EXPECT_TRUE(AwaitStatus([&](StatusCallback cb) {
                direct_->AbortMultipartUpload((*left)[0].key, (*left)[0].upload_id, std::move(cb));
              }).ok());
  upload_.reset();  // its destructor must not abort again (it may; RGW says NoSuchUpload)
  ASSERT_TRUE(RunUntil([&] { return http_->in_flight() == 0; }));
  ExpectNothingLeft("killed.bin");
}

}  // namespace
}  // namespace sluice::s3
