// SigV4 against published vectors, with an injected clock (curl test1955
// style): the AWS SigV4 test suite (aws-sig-v4-test-suite: service "service",
// 2015-08-30T12:36:00Z) and the worked examples of the S3 API reference
// (sig-v4-header-based-auth: GET with Range, PUT, GET ?lifecycle, GET
// ?max-keys&prefix; sigv4-query-string-auth: the presigned GET URL), each
// checked step by step: canonical request, string to sign, signature, and the
// Authorization header. Suite cases that normalise paths ("/./", "//", "..")
// are left out on purpose: S3 signs the path as sent, without normalising.
#include "s3/sigv4.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <string>

#include "s3/s3_url.hpp"

namespace sluice::s3 {
namespace {

using std::chrono::sys_days;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// The generic SigV4 test suite.

constexpr char kSuiteSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const std::chrono::sys_seconds kSuiteTime = sys_days{std::chrono::year{2015} / 8 / 30} + 12h + 36min;
constexpr char kSuiteStsPrefix[] = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n";
constexpr char kSuiteToken[] =
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx"
    "7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAk"
    "iY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

struct SuiteCase {
  const char* name;
  const char* method;
  const char* path;  // decoded
  KeyValues query;   // decoded
  KeyValues headers; // without X-Amz-Date (the signer adds it)
  const char* body;
  const char* creq;      // expected canonical request; nullptr = not checked
  const char* sts_hash;  // last line of the expected string to sign
  const char* authz;     // expected Authorization header
  bool session_token = false;
};

class SigV4Suite : public ::testing::TestWithParam<SuiteCase> {};

TEST_P(SigV4Suite, MatchesPublishedVector) {
  const SuiteCase& c = GetParam();
  Credentials creds{"AKIDEXAMPLE", kSuiteSecret, c.session_token ? kSuiteToken : ""};
  Signer signer(creds, "us-east-1", "service");
  RequestToSign req;
  req.method = c.method;
  req.path = c.path;
  req.query = c.query;
  req.headers = c.headers;
  req.payload_hash = Sha256Hex(c.body);
  const HeaderSignature sig = signer.Sign(req, kSuiteTime, /*add_content_sha256=*/false);
  if (c.creq != nullptr) {
    EXPECT_EQ(sig.canonical_request, c.creq);
  }
  EXPECT_EQ(sig.string_to_sign, std::string(kSuiteStsPrefix) + c.sts_hash);
  EXPECT_EQ(sig.authorization, c.authz);
  // The Authorization header is among the headers to send, after x-amz-date.
  ASSERT_GE(sig.headers.size(), 2u);
  EXPECT_EQ(sig.headers.back(), (KeyValue{"authorization", c.authz}));
}

const KeyValues kHost{{"Host", "example.amazonaws.com"}};
constexpr char kAuthPrefix[] = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";

std::string Authz(const char* signed_headers, const char* signature) {
  return std::string(kAuthPrefix) + "SignedHeaders=" + signed_headers + ", Signature=" + signature;
}

KeyValues With(KeyValues base, KeyValues more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

// Built once: std::string members make aggregate init with runtime strings easiest.
std::vector<SuiteCase> MakeSuite() {
  std::vector<SuiteCase> v;
  auto add = [&v](SuiteCase c) { v.push_back(std::move(c)); };
  static std::deque<std::string> keep;  // owns composed strings; deque keeps c_str() stable
  auto own = [](std::string s) {
    keep.push_back(std::move(s));
    return keep.back().c_str();
  };

  add({"get_vanilla", "GET", "/", {}, kHost, "",
       "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
       own(Authz("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"))});
  add({"get_vanilla_empty_query_key", "GET", "/", {{"Param1", "value1"}}, kHost, "",
       "GET\n/\nParam1=value1\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "1e24db194ed7d0eec2de28d7369675a243488e08526e8c1c73571282f7c517ab",
       own(Authz("host;x-amz-date", "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"))});
  add({"get_vanilla_query_order_key", "GET", "/", {{"Param1", "value2"}, {"Param1", "Value1"}}, kHost, "",
       "GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
       "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89",
       own(Authz("host;x-amz-date", "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"))});
  add({"get_vanilla_query_order_key_case", "GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}}, kHost, "",
       "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
       "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
       own(Authz("host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"))});
  add({"get_vanilla_query_order_value", "GET", "/", {{"Param1", "value2"}, {"Param1", "value1"}}, kHost, "",
       nullptr, "c968629d70850097a2d8781c9bf7edcb988b04cac14cca9be4acc3595f884606",
       own(Authz("host;x-amz-date", "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"))});
  const std::string unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  add({"get_vanilla_query_unreserved", "GET", "/", {{unreserved, unreserved}}, kHost, "",
       own("GET\n/\n" + unreserved + "=" + unreserved +
           "\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
           "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
       "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
       own(Authz("host;x-amz-date", "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"))});
  add({"get_vanilla_utf8_query", "GET", "/", {{"\xE1\x88\xB4", "bar"}}, kHost, "",
       "GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
       own(Authz("host;x-amz-date", "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"))});
  add({"get_unreserved", "GET", own("/" + unreserved), {}, kHost, "", nullptr,
       "6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9",
       own(Authz("host;x-amz-date", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"))});
  add({"get_space", "GET", "/example space/", {}, kHost, "",
       "GET\n/example%20space/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86",
       own(Authz("host;x-amz-date", "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"))});
  add({"get_header_key_duplicate", "GET", "/", {},
       With(kHost, {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}}), "",
       "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\nx-amz-date:20150830T123600Z\n\n"
       "host;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
       own(Authz("host;my-header1;x-amz-date", "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"))});
  add({"get_header_value_order", "GET", "/", {},
       With(kHost, {{"My-Header1", "value4"}, {"My-Header1", "value1"}, {"My-Header1", "value3"},
                    {"My-Header1", "value2"}}),
       "", nullptr, "31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86",
       own(Authz("host;my-header1;x-amz-date", "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"))});
  add({"get_header_value_trim", "GET", "/", {}, With(kHost, {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}}),
       "",
       "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\n"
       "host;my-header1;my-header2;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
       own(Authz("host;my-header1;my-header2;x-amz-date",
                 "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"))});
  add({"post_vanilla", "POST", "/", {}, kHost, "",
       "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
       own(Authz("host;x-amz-date", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"))});
  add({"post_header_key_case", "POST", "/", {}, {{"HOST", "example.amazonaws.com"}}, "", nullptr,
       "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
       own(Authz("host;x-amz-date", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"))});
  add({"post_header_key_sort", "POST", "/", {}, With(kHost, {{"My-Header1", "value1"}}), "", nullptr,
       "9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
       own(Authz("host;my-header1;x-amz-date", "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"))});
  add({"post_header_value_case", "POST", "/", {}, With(kHost, {{"My-Header1", "VALUE1"}}), "", nullptr,
       "d51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93",
       own(Authz("host;my-header1;x-amz-date", "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"))});
  add({"post_vanilla_query", "POST", "/", {{"Param1", "value1"}}, kHost, "", nullptr,
       "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
       own(Authz("host;x-amz-date", "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"))});
  // The suite's .creq file for this case lists content-length, but its .sts and
  // .authz (and AWS's servers) sign content-type;host;x-amz-date only; the
  // string to sign below is the published one.
  add({"post_x_www_form_urlencoded", "POST", "/", {},
       With({{"Content-Type", "application/x-www-form-urlencoded"}}, kHost), "Param1=value1",
       "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
       "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
       "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
       "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
       own(Authz("content-type;host;x-amz-date", "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"))});
  // The original suite spells the charset "utf8" (a transcription has "utf-8").
  add({"post_x_www_form_urlencoded_parameters", "POST", "/", {},
       With({{"Content-Type", "application/x-www-form-urlencoded; charset=utf8"}}, kHost), "Param1=value1",
       nullptr, "2e1cf7ed91881a30569e46552437e4156c823447bf1781b921b5d486c568dd1c",
       own(Authz("content-type;host;x-amz-date", "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"))});
  SuiteCase sts{"post_sts_header_before", "POST", "/", {}, kHost, "",
                own(std::string("POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
                                 "x-amz-security-token:") +
                    kSuiteToken +
                    "\n\nhost;x-amz-date;x-amz-security-token\n"
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
                own(Authz("host;x-amz-date;x-amz-security-token",
                          "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"))};
  sts.session_token = true;
  add(std::move(sts));
  return v;
}

INSTANTIATE_TEST_SUITE_P(AwsSuite, SigV4Suite, ::testing::ValuesIn(MakeSuite()),
                         [](const ::testing::TestParamInfo<SuiteCase>& p) { return std::string(p.param.name); });

// ---------------------------------------------------------------------------
// The S3 API reference's worked examples (examplebucket, 2013-05-24).

constexpr char kS3Secret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const std::chrono::sys_seconds kS3Time = sys_days{std::chrono::year{2013} / 5 / 24};
constexpr char kS3StsPrefix[] = "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n";
constexpr char kS3Cred[] = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ";

Signer S3ExampleSigner(std::string token = "") {
  return Signer(Credentials{"AKIAIOSFODNN7EXAMPLE", kS3Secret, std::move(token)}, "us-east-1");
}

// The examples use virtual-hosted addressing on the global endpoint.
UrlBuilder ExampleBucket() {
  auto ep = ParseEndpoint("https://s3.amazonaws.com", "us-east-1");
  EXPECT_TRUE(ep.has_value());
  return UrlBuilder(*ep, "examplebucket", /*path_style=*/false);
}

HeaderSignature SignS3(const std::string& method, const S3Location& where, KeyValues extra, std::string payload_hash) {
  RequestToSign req;
  req.method = method;
  req.path = where.path;
  req.query = where.query;
  req.headers = {{"Host", where.host}};
  req.headers.insert(req.headers.end(), extra.begin(), extra.end());
  req.payload_hash = std::move(payload_hash);
  return S3ExampleSigner().Sign(req, kS3Time);
}

TEST(SigV4S3Examples, GetObjectWithRange) {
  const S3Location where = ExampleBucket().Object("test.txt");
  EXPECT_EQ(where.url, "https://examplebucket.s3.amazonaws.com/test.txt");
  const HeaderSignature sig = SignS3("GET", where, {{"Range", "bytes=0-9"}}, std::string(kEmptyPayloadSha256));
  EXPECT_EQ(sig.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sig.string_to_sign,
            std::string(kS3StsPrefix) + "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(sig.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(sig.authorization, std::string(kS3Cred) +
                                   "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                                   "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4S3Examples, PutObjectEncodesTheKeyOnce) {
  const std::string body = "Welcome to Amazon S3.";
  const std::string hash = Sha256Hex(body);
  EXPECT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  const S3Location where = ExampleBucket().Object("test$file.text");
  EXPECT_EQ(where.url, "https://examplebucket.s3.amazonaws.com/test%24file.text");
  const HeaderSignature sig = SignS3(
      "PUT", where, {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}}, hash);
  EXPECT_EQ(sig.canonical_request,
            "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\nhost:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
            "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(sig.string_to_sign,
            std::string(kS3StsPrefix) + "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(sig.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4S3Examples, GetBucketLifecycleSignsEmptyValueAsNameEquals) {
  const S3Location where = ExampleBucket().Bucket({{"lifecycle", ""}});
  EXPECT_EQ(where.url, "https://examplebucket.s3.amazonaws.com/?lifecycle=");
  const HeaderSignature sig = SignS3("GET", where, {}, std::string(kEmptyPayloadSha256));
  EXPECT_EQ(sig.canonical_request,
            "GET\n/\nlifecycle=\nhost:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sig.string_to_sign,
            std::string(kS3StsPrefix) + "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  EXPECT_EQ(sig.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4S3Examples, ListObjectsWithMaxKeysAndPrefix) {
  const S3Location where = ExampleBucket().Bucket({{"prefix", "J"}, {"max-keys", "2"}});
  const HeaderSignature sig = SignS3("GET", where, {}, std::string(kEmptyPayloadSha256));
  EXPECT_EQ(sig.canonical_request,
            "GET\n/\nmax-keys=2&prefix=J\nhost:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sig.string_to_sign,
            std::string(kS3StsPrefix) + "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  EXPECT_EQ(sig.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4S3Examples, PresignedGetUrl) {
  const S3Location where = ExampleBucket().Object("test.txt");
  const QuerySignature q = S3ExampleSigner().Presign("GET", where.host, where.path, {}, 86400s, kS3Time);
  EXPECT_EQ(q.canonical_request,
            "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
            "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n"
            "host:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD");
  EXPECT_EQ(q.string_to_sign,
            std::string(kS3StsPrefix) + "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04");
  EXPECT_EQ(q.signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  EXPECT_EQ(where.url + "?" + q.query_string,
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
            "AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&"
            "X-Amz-Expires=86400&X-Amz-SignedHeaders=host&"
            "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4S3Examples, PresignedGetUrlWithSessionToken) {
  // Not in the AWS page; agrees with the aws_signature (Erlang) library's test.
  const S3Location where = ExampleBucket().Object("test.txt");
  const QuerySignature q =
      S3ExampleSigner("my-session-token").Presign("GET", where.host, where.path, {}, 86400s, kS3Time);
  EXPECT_NE(q.query_string.find("&X-Amz-Security-Token=my-session-token&"), std::string::npos);
  EXPECT_EQ(q.signature, "127498ec2e996f60915eba27520e69b1554fe016da1d36a3dde70f2408551d67");
}

// ---------------------------------------------------------------------------
// Building blocks.

TEST(SigV4, UriEncodeFollowsS3Rules) {
  EXPECT_EQ(UriEncode("a b", false), "a%20b");
  EXPECT_EQ(UriEncode("a+b", false), "a%2Bb");
  EXPECT_EQ(UriEncode("100%", false), "100%25");
  EXPECT_EQ(UriEncode("a/b", false), "a/b");
  EXPECT_EQ(UriEncode("a/b", true), "a%2Fb");
  EXPECT_EQ(UriEncode("A-z_0.9~", true), "A-z_0.9~");
  EXPECT_EQ(UriEncode("=&?#*!'()$,;:@", true), "%3D%26%3F%23%2A%21%27%28%29%24%2C%3B%3A%40");
  EXPECT_EQ(UriEncode("\xD0\xBA\xD0\xBB\xD1\x8E\xD1\x87", false), "%D0%BA%D0%BB%D1%8E%D1%87");  // ключ
  EXPECT_EQ(UriEncode(std::string("a\0b", 3), true), "a%00b");
  EXPECT_EQ(UriEncode("", true), "");
}

TEST(SigV4, CanonicalQueryStringSortsAndWritesEmptyValues) {
  EXPECT_EQ(CanonicalQueryString({}), "");
  EXPECT_EQ(CanonicalQueryString({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(CanonicalQueryString({{"uploadId", "a/b+c=="}, {"partNumber", "7"}}),
            "partNumber=7&uploadId=a%2Fb%2Bc%3D%3D");
  // Sorted by encoded name, then value; byte order puts upper case first.
  EXPECT_EQ(CanonicalQueryString({{"b", "2"}, {"a", "x y"}, {"a", "+"}, {"B", "1"}}), "B=1&a=%2B&a=x%20y&b=2");
}

TEST(SigV4, CanonicalizeHeaders) {
  const CanonicalHeaderSet h =
      CanonicalizeHeaders({{"X-Amz-Meta-B", "  two   words  "}, {"Host", "h"}, {"x-amz-meta-a", "1"}, {"X-AMZ-META-A", "2"}});
  EXPECT_EQ(h.canonical, "host:h\nx-amz-meta-a:1,2\nx-amz-meta-b:two words\n");
  EXPECT_EQ(h.signed_headers, "host;x-amz-meta-a;x-amz-meta-b");
}

TEST(SigV4, FormatAmzDate) {
  AmzDate d = FormatAmzDate(kS3Time);
  EXPECT_EQ(d.date_time, "20130524T000000Z");
  EXPECT_EQ(d.date, "20130524");
  d = FormatAmzDate(sys_days{std::chrono::year{2024} / 2 / 29} + 23h + 59min + 59s);
  EXPECT_EQ(d.date_time, "20240229T235959Z");
  EXPECT_EQ(d.date, "20240229");
}

TEST(SigV4, Sha256OneShotAndIncremental) {
  EXPECT_EQ(Sha256Hex(""), kEmptyPayloadSha256);
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string data;
  for (int i = 0; i < 10000; ++i) data.push_back(static_cast<char>(i * 31 + 7));
  const std::string whole = Sha256Hex(data);
  for (size_t split : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{4097}, data.size()}) {
    Sha256 h;
    h.Update(std::string_view(data).substr(0, split));
    h.Update(std::string_view(data).substr(split));
    EXPECT_EQ(h.FinalHex(), whole) << "split at " << split;
  }
  Sha256 empty;
  EXPECT_EQ(empty.FinalHex(), kEmptyPayloadSha256);
  Sha256 moved_from;
  moved_from.Update("ab");
  Sha256 moved = std::move(moved_from);
  moved.Update("c");
  EXPECT_EQ(moved.FinalHex(), Sha256Hex("abc"));
}

TEST(SigV4, HmacSha256Rfc4231Case2) {
  const std::string key = "Jefe";
  const Digest d = HmacSha256({reinterpret_cast<const unsigned char*>(key.data()), key.size()},
                              "what do ya want for nothing?");
  EXPECT_EQ(HexEncode(d), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(SigV4, SigningKeyOfTheSuite) {
  // The suite's derived key for 20150830/us-east-1/iam (AWS "Examples of how to derive a signing key").
  EXPECT_EQ(HexEncode(SigningKey(kSuiteSecret, "20150830", "us-east-1", "iam")),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
}

TEST(SigV4, SignAddsAmzHeadersAndReplacesCallerCopies) {
  Signer signer(Credentials{"AK", "SK", "TOKEN"}, "eu-west-1");
  RequestToSign req;
  req.method = "GET";
  req.path = "/b/k";
  req.headers = {{"host", "h"}, {"X-Amz-Date", "19700101T000000Z"}, {"x-amz-security-token", "stale"}};
  req.payload_hash = std::string(kEmptyPayloadSha256);
  const HeaderSignature sig = signer.Sign(req, kS3Time);
  EXPECT_EQ(sig.signed_headers, "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
  const KeyValues want{{"host", "h"},
                       {"x-amz-date", "20130524T000000Z"},
                       {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)},
                       {"x-amz-security-token", "TOKEN"},
                       {"authorization", sig.authorization}};
  EXPECT_EQ(sig.headers, want);
  EXPECT_NE(sig.authorization.find("Credential=AK/20130524/eu-west-1/s3/aws4_request, "), std::string::npos);
  // Same inputs, same instant: same signature (nothing reads a clock).
  EXPECT_EQ(signer.Sign(req, kS3Time).signature, sig.signature);
  EXPECT_NE(signer.Sign(req, kS3Time + 1s).signature, sig.signature);
}

TEST(SigV4, PathIsNotNormalised) {
  // Object keys may contain "//", "./" and "../": S3 signs them verbatim.
  const std::string creq = CanonicalRequest("GET", "/b/a//./../c", {}, {{"host", "h"}}, kEmptyPayloadSha256);
  EXPECT_EQ(creq.substr(0, creq.find('\n', 4)), "GET\n/b/a//./../c");
}

}  // namespace
}  // namespace sluice::s3
