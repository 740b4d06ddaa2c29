// The XML tag extractor on the documents S3 servers really send (AWS, Ceph
// RGW, s3rver), plus the odd corners: entities, CDATA, comments, prefixes,
// attributes, truncation. And S3ErrorStatus, which turns them into Status.
#include "s3/s3_xml.hpp"

#include <gtest/gtest.h>

#include "s3/s3_client.hpp"

namespace sluice::s3 {
namespace {

constexpr char kAwsNoSuchKey[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Error>\n  <Code>NoSuchKey</Code>\n  <Message>The resource you requested does not exist</Message>\n"
    "  <Resource>/mybucket/myfoto.jpg</Resource>\n  <RequestId>4442587FB7D0A2F9</RequestId>\n</Error>";

constexpr char kRgwSignature[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SignatureDoesNotMatch</Code><Message/>"
    "<BucketName>sluice</BucketName><RequestId>tx00000a-0066-1</RequestId><HostId>1-default</HostId></Error>";

TEST(S3Xml, ParsesAwsError) {
  auto err = ParseS3Error(kAwsNoSuchKey);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->code, "NoSuchKey");
  EXPECT_EQ(err->message, "The resource you requested does not exist");
  EXPECT_EQ(err->request_id, "4442587FB7D0A2F9");
}

TEST(S3Xml, ParsesRgwErrorWithEmptyMessage) {
  auto err = ParseS3Error(kRgwSignature);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->code, "SignatureDoesNotMatch");
  EXPECT_EQ(err->message, "");
  EXPECT_EQ(err->request_id, "tx00000a-0066-1");
}

TEST(S3Xml, NotAnError) {
  EXPECT_FALSE(ParseS3Error("").has_value());
  EXPECT_FALSE(ParseS3Error("<html><body>502 Bad Gateway</body></html>").has_value());
  EXPECT_FALSE(ParseS3Error("<Error><Message>no code</Message></Error>").has_value());
  EXPECT_FALSE(ParseS3Error("<Error><Code>Trunc").has_value());
  EXPECT_FALSE(ParseS3Error("<Error><Code></Code></Error>").has_value());
}

TEST(S3Xml, DecodesEntitiesAndCdata) {
  EXPECT_EQ(XmlText("<M>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#65;&#x42; &#x20AC; &bogus; &</M>", "M"),
            "a & b <c> \"d\" 'e' AB \xE2\x82\xAC &bogus; &");
  EXPECT_EQ(XmlText("<Code><![CDATA[X<Y&amp;]]></Code>", "Code"), "X<Y&amp;");
  EXPECT_EQ(XmlText("<Code>a<b>inner</b>c</Code>", "Code"), "ainnerc");
}

TEST(S3Xml, FindsElementsRobustly) {
  // Exact names only; a prefix of the name is a different element.
  EXPECT_EQ(XmlText("<CodeX>1</CodeX><Code>2</Code>", "Code"), "2");
  // Namespace prefixes and attributes (with '>' inside quotes).
  EXPECT_EQ(XmlText("<s3:Error xmlns:s3=\"urn:x\"><s3:Code a=\"x>y\">C</s3:Code></s3:Error>", "Code"), "C");
  // Comments and CDATA are not markup to match.
  EXPECT_EQ(XmlText("<!-- <Code>fake</Code> --><![CDATA[<Code>fake</Code>]]><Code>real</Code>", "Code"), "real");
  // Self-closing, with and without a space.
  EXPECT_EQ(XmlText("<A><Code/></A>", "Code"), "");
  EXPECT_EQ(XmlText("<A><Code /></A>", "Code"), "");
  // Nested same-named elements match their own end tag.
  EXPECT_EQ(XmlFirstElement("<a><a>x</a>y</a>", "a"), "<a>x</a>y");
  EXPECT_FALSE(XmlText("<Other>x</Other>", "Code").has_value());
  EXPECT_FALSE(XmlText("<Code>x</Cod>", "Code").has_value());
}

TEST(S3Xml, ReadsMultipartDocuments) {
  constexpr char kInitiate[] =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
      "  <Bucket>example-bucket</Bucket>\n  <Key>example-object</Key>\n"
      "  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>\n"
      "</InitiateMultipartUploadResult>";
  EXPECT_EQ(XmlText(kInitiate, "UploadId"), "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");

  constexpr char kComplete[] =
      "<CompleteMultipartUploadResult><Location>http://b.s3.amazonaws.com/k</Location><Bucket>b</Bucket>"
      "<Key>k</Key><ETag>&quot;3858f62230ac3c915f300c664312c11f-9&quot;</ETag></CompleteMultipartUploadResult>";
  EXPECT_EQ(XmlText(kComplete, "ETag"), "\"3858f62230ac3c915f300c664312c11f-9\"");
  EXPECT_FALSE(ParseS3Error(kComplete).has_value());

  constexpr char kParts[] =
      "<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>\"a\"</ETag></Part>"
      "<Part><PartNumber>2</PartNumber><ETag>\"b\"</ETag></Part>"
      "<Part><PartNumber>3</PartNumber><ETag>\"c\"</ETag></Part></ListPartsResult>";
  const auto parts = XmlAllElements(kParts, "Part");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(XmlText(parts[1], "PartNumber"), "2");
  EXPECT_EQ(XmlText(parts[2], "ETag"), "\"c\"");
}

TEST(S3Xml, EscapeRoundTrips) {
  EXPECT_EQ(XmlEscape("a&b<c>\"d\"'e'"), "a&amp;b&lt;c&gt;&quot;d&quot;&apos;e&apos;");
  const std::string nasty = "\"etag\" & <tag> 'q' \xE2\x82\xAC";
  EXPECT_EQ(XmlDecode(XmlEscape(nasty)), nasty);
}

// ---- S3ErrorStatus: what callers see ----

glue::HttpResponse Response(long status, std::string body) {
  glue::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

TEST(S3ErrorStatus, CodeAndMessageFromTheBody) {
  const core::Status s = S3ErrorStatus(Response(404, kAwsNoSuchKey), "GET /b/k");
  EXPECT_EQ(s.domain(), core::ErrorDomain::kS3);
  EXPECT_EQ(s.code(), 404);
  EXPECT_EQ(s.message(), "NoSuchKey: The resource you requested does not exist");
}

TEST(S3ErrorStatus, EmptyMessageNamesTheRequest) {
  const core::Status s = S3ErrorStatus(Response(403, kRgwSignature), "GET /b/k");
  EXPECT_EQ(s.code(), 403);
  EXPECT_EQ(s.message(), "SignatureDoesNotMatch: HTTP 403 for GET /b/k");
}

TEST(S3ErrorStatus, NoBodyFallsBackToTheStatus) {
  EXPECT_EQ(S3ErrorStatus(Response(404, ""), "HEAD /b").message(), "NotFound: HTTP 404 for HEAD /b");
  EXPECT_EQ(S3ErrorStatus(Response(403, ""), "HEAD /b").message(), "Forbidden: HTTP 403 for HEAD /b");
  EXPECT_EQ(S3ErrorStatus(Response(502, "<html>bad gateway</html>"), "PUT /b/k").message(),
            "HttpError: HTTP 502 for PUT /b/k");
}

TEST(S3ErrorCode, ReadsTheCodeBack) {
  EXPECT_EQ(S3ErrorCode(S3ErrorStatus(Response(404, kAwsNoSuchKey), "GET /b/k")), "NoSuchKey");
  EXPECT_EQ(S3ErrorCode(core::Status{core::ErrorDomain::kS3, 503, "SlowDown: Please reduce (part 2 of k)"}),
            "SlowDown");
  // A transport error starts with the request, not a code.
  EXPECT_EQ(S3ErrorCode(core::Status{core::ErrorDomain::kS3, 28, "PUT http://h/b/k: Timeout was reached"}), "");
  EXPECT_EQ(S3ErrorCode(core::Status{core::ErrorDomain::kUv, -104, "ECONNRESET: connection reset"}), "");
  EXPECT_EQ(S3ErrorCode(core::Status::Ok()), "");
}

}  // namespace
}  // namespace sluice::s3
