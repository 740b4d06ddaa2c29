// MultipartUpload against real S3 servers on loopback, on a real uv loop.
//
// Ceph RGW (SLUICE_TEST_RGW_*) runs the full suite: objects of 0 B, 1 B,
// exactly one part, one part + 1 B and 50 MiB read back byte for byte with
// awscli; 3 × 5 MiB + a tail with the "…-4" multipart ETag; backpressure
// (the producer pauses with N parts in flight and resumes); Abort leaving
// nothing (ListMultipartUploads empty, no object); EntityTooSmall surfaced and
// cleaned up; a wrong secret; an upload destroyed mid-way; a producer that
// destroys the upload in Finish's callback; listings (ListObjectsV2 pages and
// prefixes, ListParts); presigned URLs with the curl CLI. s3rver
// (SLUICE_TEST_S3RVER_*) runs the compatibility subset (no abort, no
// EntityTooSmall, no ListMultipartUploads there). Without any server: a part
// size under 5 MiB is refused and a closed port fails fast. Every test ends
// with uv_loop_close() == 0 (LoopTest::TearDown).
#include "s3/multipart_upload.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "multipart_support.hpp"

namespace sluice::s3 {
namespace {

using namespace std::chrono_literals;
using sluice::testing::S3Target;
using sluice::testing::s3::AwsCliGet;
using sluice::testing::s3::Binary;
using sluice::testing::s3::Shell;
using State = MultipartUpload::State;

constexpr uint64_t kPart = 5ull << 20;

class MultipartServerTest : public sluice::testing::s3::MultipartFixture {
 protected:
  // ---- bodies shared by the RGW and s3rver suites ----

  // 0 B, 1 B, exactly one part, one part + 1 B, 50 MiB: each read back with
  // awscli and compared byte for byte.
  void CheckSizesReadBackWithAwsCli(bool multipart_etags) {
    struct Case {
      const char* key;
      size_t size;
      int parts;
    };
    const Case cases[] = {{"zero", 0, 0},
                          {"one-byte", 1, 0},
                          {"one-part", kPart, 0},
                          {"one-part-plus-one", kPart + 1, 2},
                          {"fifty-mib.bin", 50u << 20, 10}};
    uint32_t seed = 1;
    for (const Case& c : cases) {
      SCOPED_TRACE(c.key);
      const std::string data = Binary(c.size, seed++);
      auto done = Stream(c.key, data, Options(), 65521);  // odd chunks straddle part boundaries
      ASSERT_TRUE(done.has_value()) << done.error().message();
      EXPECT_EQ(done->size, c.size);
      EXPECT_EQ(done->parts, c.parts);
      EXPECT_EQ(done->upload_id.empty(), c.parts == 0);
      EXPECT_EQ(upload_->state(), State::kCompleted);
      EXPECT_EQ(upload_->buffered_bytes(), 0u);
      EXPECT_EQ(feeder_->released, c.size) << "every byte buffered is released once";
      if (multipart_etags && c.parts > 0) {
        EXPECT_NE(done->etag.find("-" + std::to_string(c.parts) + "\""), std::string::npos) << done->etag;
        auto head = Head(c.key);
        ASSERT_TRUE(head.has_value()) << head.error().message();
        EXPECT_EQ(head->etag, done->etag);
        EXPECT_EQ(head->size, c.size);
      }
      auto back = AwsCliGet(target_, direct_->FullKey(c.key));
      ASSERT_TRUE(back.has_value()) << "awscli could not read " << c.key;
      EXPECT_EQ(back->size(), data.size());
      EXPECT_TRUE(*back == data) << "bytes read back differ for " << c.key;
      upload_.reset();
      feeder_.reset();
    }
  }

  // With N = 2 in flight the producer is paused while 2 parts are in flight
  // and a third waits, and resumed once one finishes; memory stays bounded.
  void CheckBackpressure() {
    constexpr int kInFlight = 2;
    const std::string data = Binary(32u << 20, 7);
    auto done = Stream("backpressure.bin", data, Options(kInFlight));
    ASSERT_TRUE(done.has_value()) << done.error().message();
    EXPECT_EQ(done->parts, 7);
    EXPECT_GT(feeder_->pauses, 0) << "the producer was never told to pause";
    EXPECT_EQ(feeder_->resumes, feeder_->pauses) << "every pause ends with on_writable";
    for (int n : feeder_->in_flight_at_pause) EXPECT_EQ(n, kInFlight);
    EXPECT_LE(feeder_->max_in_flight, kInFlight);
    EXPECT_EQ(feeder_->max_in_flight, kInFlight);
    EXPECT_LE(feeder_->max_buffered, kPart * (kInFlight + 2)) << "memory past part_size x (N + 2)";
    auto got = Get("backpressure.bin");
    ASSERT_TRUE(got.has_value()) << got.error().message();
    EXPECT_TRUE(got->body == data);
  }

  void CheckWrongSecret() {
    config::S3Config bad = ConfigFor(target_.endpoint);
    bad.secret_key = "not-the-secret-key";
    client_ = MakeClient(bad);
    ASSERT_NE(client_, nullptr);
    const auto start = std::chrono::steady_clock::now();
    // Multipart (Create is refused); big enough that the producer is paused
    // when the 403 arrives, so on_failed is what stops it.
    const std::string big = Binary(8 * kPart, 3);
    auto multi = Stream("forbidden-multi", big, Options());
    ASSERT_FALSE(multi.has_value());
    EXPECT_EQ(multi.error().domain(), core::ErrorDomain::kS3);
    EXPECT_EQ(multi.error().code(), 403);
    EXPECT_EQ(S3ErrorCode(multi.error()), "SignatureDoesNotMatch") << multi.error().message();
    ASSERT_TRUE(feeder_->failed.has_value()) << "on_failed told the producer";
    EXPECT_EQ(S3ErrorCode(*feeder_->failed), "SignatureDoesNotMatch");
    EXPECT_EQ(upload_->state(), State::kFailed);
    upload_.reset();
    auto single = Stream("forbidden-single", "tiny", Options());  // one PUT
    ASSERT_FALSE(single.has_value());
    EXPECT_EQ(single.error().code(), 403);
    EXPECT_EQ(S3ErrorCode(single.error()), "SignatureDoesNotMatch") << single.error().message();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << "a 403 is not retried";
  }

  // `paginate`: s3rver 4.0.4 cannot make a continuation token under Node 20
  // (OpenSSL 3 refuses its cipher: 500 on any truncated page).
  void CheckListObjects(bool paginate) {
    for (const char* key : {"list/a.csv", "list/b.csv", "list/sub/c.csv", "other.csv"}) {
      auto put = Await<PutObjectResult>([&](auto cb) {
        direct_->PutObject(key, std::make_shared<const std::string>(key), {}, std::move(cb));
      });
      ASSERT_TRUE(put.has_value()) << put.error().message();
    }
    auto all = Await<ListObjectsResult>([&](auto cb) { direct_->ListObjectsV2("list/", {}, std::move(cb)); });
    ASSERT_TRUE(all.has_value()) << all.error().message();
    ASSERT_EQ(all->objects.size(), 3u);
    EXPECT_EQ(all->objects[0].key, "list/a.csv");  // relative to the client's prefix
    EXPECT_EQ(all->objects[0].size, 10u);
    EXPECT_FALSE(all->objects[0].etag.empty());
    EXPECT_EQ(all->objects[2].key, "list/sub/c.csv");
    EXPECT_FALSE(all->is_truncated);

    ListObjectsOptions folders;
    folders.delimiter = "/";
    auto top = Await<ListObjectsResult>([&](auto cb) { direct_->ListObjectsV2("", folders, std::move(cb)); });
    ASSERT_TRUE(top.has_value()) << top.error().message();
    ASSERT_EQ(top->objects.size(), 1u);
    EXPECT_EQ(top->objects[0].key, "other.csv");
    EXPECT_EQ(top->common_prefixes, std::vector<std::string>{"list/"});
    if (!paginate) return;

    ListObjectsOptions first;
    first.max_keys = 2;
    auto page1 = Await<ListObjectsResult>([&](auto cb) { direct_->ListObjectsV2("list/", first, std::move(cb)); });
    ASSERT_TRUE(page1.has_value()) << page1.error().message();
    ASSERT_EQ(page1->objects.size(), 2u);
    EXPECT_EQ(page1->objects[1].key, "list/b.csv");
    ASSERT_TRUE(page1->is_truncated);
    ListObjectsOptions next;
    next.continuation_token = page1->next_continuation_token;
    auto page2 = Await<ListObjectsResult>([&](auto cb) { direct_->ListObjectsV2("list/", next, std::move(cb)); });
    ASSERT_TRUE(page2.has_value()) << page2.error().message();
    ASSERT_EQ(page2->objects.size(), 1u);
    EXPECT_EQ(page2->objects[0].key, "list/sub/c.csv");
    EXPECT_FALSE(page2->is_truncated);
  }

  void CheckPresignedWithCurlCli() {
    ASSERT_TRUE(Stream("presigned/file.txt", "downloaded with plain curl", Options()).has_value());
    const std::string url = direct_->PresignGetUrl("presigned/file.txt", 300s);
    auto [body, rc] = Shell("curl -sS --fail '" + url + "'");
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(body, "downloaded with plain curl");
    // Signed an hour ago for one second: expired.
    auto past = S3Client::Create(*http_, ConfigFor(target_.endpoint), [] { return SystemNow() - 3600s; });
    ASSERT_TRUE(past.has_value());
    const std::string expired = (*past)->PresignGetUrl("presigned/file.txt", 1s);
    auto [denied, code] = Shell("curl -s -o /dev/null -w '%{http_code}' '" + expired + "'");
    EXPECT_EQ(denied, "403") << "an expired URL must be refused";
  }
};

// ---- Ceph RGW: the full suite ----

class MultipartRgwTest : public MultipartServerTest {
 protected:
  void SetUp() override {
    MultipartServerTest::SetUp();
    if (HasFatalFailure()) return;
    SLUICE_REQUIRE_S3(s3, "SLUICE_TEST_RGW");
    Use(s3);
  }
};

TEST_F(MultipartRgwTest, SizesReadBackByteForByteWithAwsCli) { CheckSizesReadBackWithAwsCli(true); }
TEST_F(MultipartRgwTest, ProducerPausesWithNPartsInFlightAndResumes) { CheckBackpressure(); }
TEST_F(MultipartRgwTest, WrongSecretIsSignatureDoesNotMatchWithoutRetries) { CheckWrongSecret(); }
TEST_F(MultipartRgwTest, ListObjectsV2PagesAndPrefixes) { CheckListObjects(/*paginate=*/true); }
TEST_F(MultipartRgwTest, PresignedUrlWorksWithCurlAndExpires) { CheckPresignedWithCurlCli(); }

TEST_F(MultipartRgwTest, ThreePartsAndATailInOrderWithMultipartEtag) {
  const std::string data = Binary(3 * kPart + 12345, 11);
  auto done = Stream("three-and-a-tail.csv", data, Options(3));
  ASSERT_TRUE(done.has_value()) << done.error().message();
  EXPECT_EQ(done->parts, 4);
  ASSERT_GE(done->etag.size(), 4u);
  EXPECT_EQ(done->etag.substr(done->etag.size() - 3), "-4\"") << done->etag;
  auto got = Get("three-and-a-tail.csv");
  ASSERT_TRUE(got.has_value()) << got.error().message();
  EXPECT_EQ(got->etag, done->etag);
  EXPECT_EQ(got->content_type, "application/octet-stream");
  EXPECT_EQ(got->body.size(), data.size());
  EXPECT_TRUE(got->body == data) << "parts joined out of order or damaged";
  auto left = InProgress();
  ASSERT_TRUE(left.has_value()) << left.error().message();
  EXPECT_TRUE(left->empty());
}

TEST_F(MultipartRgwTest, AbortLeavesNothing) {
  const std::string data = Binary(4 * kPart, 5);
  MultipartOptions o = Options(2);
  StartStream("aborted.bin", data, o);
  feeder_->finish_at_end = false;
  // Wait until parts are on the server, and look at them with ListParts.
  ASSERT_TRUE(RunUntil([&] { return upload_->parts_uploaded() >= 2; }));
  auto parts = Await<ListPartsResult>(
      [&](auto cb) { direct_->ListParts("aborted.bin", upload_->upload_id(), {}, std::move(cb)); });
  ASSERT_TRUE(parts.has_value()) << parts.error().message();
  ASSERT_GE(parts->parts.size(), 2u);
  EXPECT_EQ(parts->parts[0].part_number, 1);
  EXPECT_EQ(parts->parts[0].size, kPart);
  auto before = InProgress();
  ASSERT_TRUE(before.has_value()) << before.error().message();
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ((*before)[0].key, "aborted.bin");
  EXPECT_EQ((*before)[0].upload_id, upload_->upload_id());

  const core::Status aborted = AwaitStatus([&](StatusCallback cb) { upload_->Abort(std::move(cb)); });
  EXPECT_TRUE(aborted.ok()) << aborted.message();
  EXPECT_EQ(upload_->state(), State::kAborted);
  EXPECT_EQ(upload_->buffered_bytes(), 0u);
  EXPECT_FALSE(upload_->Write("late")) << "no writes after Abort";
  auto finish = Await<UploadResult>([&](auto cb) { upload_->Finish(std::move(cb)); });
  ASSERT_FALSE(finish.has_value());
  EXPECT_EQ(S3ErrorCode(finish.error()), "Aborted") << finish.error().message();

  auto after = InProgress();
  ASSERT_TRUE(after.has_value()) << after.error().message();
  EXPECT_TRUE(after->empty()) << "ListMultipartUploads still shows the upload";
  auto head = Head("aborted.bin");
  ASSERT_FALSE(head.has_value());
  EXPECT_EQ(head.error().code(), 404);
  // Aborting again is harmless; so is aborting before anything was sent.
  EXPECT_TRUE(AwaitStatus([&](StatusCallback cb) { upload_->Abort(std::move(cb)); }).ok());
}

TEST_F(MultipartRgwTest, AbortBeforeAnyPartSendsNothing) {
  auto upload = MultipartUpload::Create(*client_, "never-sent", Options());
  ASSERT_TRUE(upload.has_value());
  EXPECT_TRUE((*upload)->Write("a few bytes"));
  const core::Status s = AwaitStatus([&](StatusCallback cb) { (*upload)->Abort(std::move(cb)); });
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_EQ((*upload)->state(), State::kAborted);
  EXPECT_EQ(http_->in_flight(), 0u);
}

TEST_F(MultipartRgwTest, EntityTooSmallIsSurfacedAndCleanedUp) {
  MultipartOptions o = Options(4, 1u << 20);  // 1 MiB parts: below S3's minimum
  o.allow_small_parts = true;
  const std::string data = Binary((3u << 20) + 100, 9);
  auto done = Stream("too-small.bin", data, o);
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().domain(), core::ErrorDomain::kS3);
  EXPECT_EQ(done.error().code(), 400);
  EXPECT_EQ(S3ErrorCode(done.error()), "EntityTooSmall") << done.error().message();
  EXPECT_NE(done.error().message().find("CompleteMultipartUpload"), std::string::npos) << done.error().message();
  EXPECT_NE(done.error().message().find("upload aborted"), std::string::npos) << done.error().message();
  EXPECT_EQ(upload_->state(), State::kFailed);
  auto left = InProgress();
  ASSERT_TRUE(left.has_value()) << left.error().message();
  EXPECT_TRUE(left->empty());
}

TEST_F(MultipartRgwTest, DestroyedMidwaySendsABestEffortAbort) {
  const std::string data = Binary(3 * kPart, 13);
  StartStream("dropped.bin", data, Options(1));
  feeder_->finish_at_end = false;
  ASSERT_TRUE(RunUntil([&] { return upload_->parts_uploaded() >= 1; }));
  feeder_.reset();
  upload_.reset();  // parts may be in flight: their completions find no one
  ASSERT_TRUE(RunUntil([&] { return http_->in_flight() == 0; }));
  auto left = InProgress();
  ASSERT_TRUE(left.has_value()) << left.error().message();
  EXPECT_TRUE(left->empty()) << "the destructor's abort did not clean up";
}

TEST_F(MultipartRgwTest, FinishCallbackMayDestroyTheUpload) {
  const std::string data = Binary(kPart + 5, 17);
  bool called = false;
  auto upload = MultipartUpload::Create(*client_, "self-destroyed", Options());
  ASSERT_TRUE(upload.has_value());
  upload_ = std::move(*upload);
  upload_->Write(data);
  upload_->Finish([&](core::Result<UploadResult> r) {
    EXPECT_TRUE(r.has_value()) << r.error().message();
    upload_.reset();  // inside its own callback (ASan would catch a use after free)
    called = true;
  });
  ASSERT_TRUE(RunUntil([&] { return called; }));
  EXPECT_EQ(upload_, nullptr);
}

// ---- s3rver: the compatibility subset ----

class MultipartS3rverTest : public MultipartServerTest {
 protected:
  void SetUp() override {
    MultipartServerTest::SetUp();
    if (HasFatalFailure()) return;
    SLUICE_REQUIRE_S3(s3, "SLUICE_TEST_S3RVER");
    Use(s3);
  }
};

TEST_F(MultipartS3rverTest, SizesReadBackByteForByteWithAwsCli) { CheckSizesReadBackWithAwsCli(false); }
TEST_F(MultipartS3rverTest, ProducerPausesWithNPartsInFlightAndResumes) { CheckBackpressure(); }
TEST_F(MultipartS3rverTest, WrongSecretIsSignatureDoesNotMatchWithoutRetries) { CheckWrongSecret(); }
TEST_F(MultipartS3rverTest, ListObjectsV2Prefixes) { CheckListObjects(/*paginate=*/false); }
TEST_F(MultipartS3rverTest, PresignedUrlWorksWithCurlAndExpires) { CheckPresignedWithCurlCli(); }

TEST_F(MultipartS3rverTest, AbortIsToleratedThoughS3rverCannotAbort) {
  const std::string data = Binary(2 * kPart + 1, 21);
  StartStream("aborted-on-s3rver.bin", data, Options(2));
  feeder_->finish_at_end = false;
  ASSERT_TRUE(RunUntil([&] { return upload_->parts_uploaded() >= 1; }));
  const core::Status aborted = AwaitStatus([&](StatusCallback cb) { upload_->Abort(std::move(cb)); });
  EXPECT_TRUE(aborted.ok()) << aborted.message();  // its 405 counts as done
  EXPECT_EQ(upload_->state(), State::kAborted);
}

// ---- no server needed ----

class MultipartNoServerTest : public sluice::testing::s3::MultipartFixture {};

TEST_F(MultipartNoServerTest, PartSizeUnderFiveMiBIsRefused) {
  config::S3Config c;
  c.endpoint = "http://127.0.0.1:9";
  c.bucket = "sluice";
  c.access_key = "AK";
  c.secret_key = "SK";
  c.path_style = true;
  client_ = MakeClient(c);
  ASSERT_NE(client_, nullptr);
  auto small = MultipartUpload::Create(*client_, "k", Options(4, (5u << 20) - 1));
  ASSERT_FALSE(small.has_value());
  EXPECT_EQ(small.error().domain(), core::ErrorDomain::kInvalid);
  EXPECT_NE(small.error().message().find("part_size"), std::string::npos);
  EXPECT_FALSE(MultipartUpload::Create(*client_, "k", Options(0)).has_value());
  EXPECT_FALSE(MultipartUpload::Create(*client_, "k", Options(65)).has_value());
  EXPECT_FALSE(MultipartUpload::Create(*client_, "", Options()).has_value());
  c.part_size = 6u << 20;
  c.max_parts_in_flight = 3;
  const MultipartOptions from_conf = MultipartOptions::FromConfig(c);
  EXPECT_EQ(from_conf.part_size, 6u << 20);
  EXPECT_EQ(from_conf.max_parts_in_flight, 3);
}

TEST_F(MultipartNoServerTest, EndpointDownAtStartFailsWithinTheRetryBudget) {
  const int port = sluice::testing::s3::ClosedLoopbackPort(&loop_);
  ASSERT_NE(port, 0);
  config::S3Config c;
  c.endpoint = "http://127.0.0.1:" + std::to_string(port);
  c.bucket = "sluice";
  c.access_key = "AK";
  c.secret_key = "SK";
  c.path_style = true;
  c.retries = 3;
  ClientOptions options;
  options.retry_base_delay = 50ms;
  client_ = MakeClient(c, options);
  ASSERT_NE(client_, nullptr);
  const std::string data = Binary(8 * kPart, 1);  // the producer pauses before the end
  const auto start = std::chrono::steady_clock::now();
  auto done = Stream("k", data, Options(), 65536, 30s);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().domain(), core::ErrorDomain::kS3);
  EXPECT_EQ(done.error().code(), CURLE_COULDNT_CONNECT) << done.error().message();
  EXPECT_NE(done.error().message().find("CreateMultipartUpload"), std::string::npos) << done.error().message();
  ASSERT_TRUE(feeder_->failed.has_value());
  EXPECT_LT(feeder_->offset(), data.size()) << "the producer was stopped before the end";
  EXPECT_EQ(upload_->buffered_bytes(), 0u);
}

}  // namespace
}  // namespace sluice::s3
