// Unit tests of the S3 multipart and listing documents (s3_documents): the
// exact bytes of the CompleteMultipartUpload body, the multipart ETag rule,
// and the parsing of ListObjectsV2 / ListMultipartUploads / ListParts answers
// as AWS documents them and as Ceph RGW 16 and s3rver really send them
// (captured from the servers the integration tests run against).
#include "s3/s3_documents.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::s3 {
namespace {

TEST(CompleteMultipartUploadXml, PartsSortedAndEtagsEscaped) {
  const std::vector<CompletedPart> parts = {
      {3, "\"c3\""}, {1, "\"a1\""}, {2, "\"b&2\""}};
  EXPECT_EQ(CompleteMultipartUploadXml(parts),
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Part><PartNumber>1</PartNumber><ETag>&quot;a1&quot;</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>&quot;b&amp;2&quot;</ETag></Part>"
            "<Part><PartNumber>3</PartNumber><ETag>&quot;c3&quot;</ETag></Part>"
            "</CompleteMultipartUpload>");
}

TEST(CompleteMultipartUploadXml, OnePartAndTheLargestNumber) {
  const std::vector<CompletedPart> parts = {{10000, "\"e\""}};
  EXPECT_EQ(CompleteMultipartUploadXml(parts),
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Part><PartNumber>10000</PartNumber><ETag>&quot;e&quot;</ETag></Part>"
            "</CompleteMultipartUpload>");
}

TEST(MultipartEtag, Md5OfThePartMd5s) {
  // md5("a"*10) and md5("b"); python: md5(bytes.fromhex(a) + bytes.fromhex(b)).
  const std::vector<std::string> etags = {"\"e09c80c42fda55f9d992e59ca6b3307d\"",
                                          "92EB5FFEE6AE2FEC3AD71C777531578F"};  // unquoted, upper case
  EXPECT_EQ(MultipartEtag(etags), "\"3192ca8a7eba2efb8c52f8e48729e5f1-2\"");
}

TEST(MultipartEtag, NotAnMd5MeansUnknown) {
  EXPECT_EQ(MultipartEtag(std::vector<std::string>{}), std::nullopt);
  EXPECT_EQ(MultipartEtag(std::vector<std::string>{"\"abc\""}), std::nullopt);
  EXPECT_EQ(MultipartEtag(std::vector<std::string>{"\"e09c80c42fda55f9d992e59ca6b3307z\""}), std::nullopt);
}

// The ListObjectsV2 example of the S3 API reference, with a second page token.
constexpr std::string_view kAwsListObjects = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
    <Name>bucket</Name>
    <Prefix/>
    <KeyCount>2</KeyCount>
    <MaxKeys>2</MaxKeys>
    <IsTruncated>true</IsTruncated>
    <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
    <Contents>
        <Key>my-image.jpg</Key>
        <LastModified>2009-10-12T17:50:30.000Z</LastModified>
        <ETag>"fba9dede5f27731c9771645a39863328"</ETag>
        <Size>434234</Size>
        <StorageClass>STANDARD</StorageClass>
    </Contents>
    <Contents>
        <Key>a &amp; b/&lt;c&gt;.csv</Key>
        <LastModified>2009-10-12T17:50:31.000Z</LastModified>
        <ETag>&quot;599bab3ed2c697f1d26842727561fd94-3&quot;</ETag>
        <Size>17179869184</Size>
        <StorageClass>STANDARD</StorageClass>
    </Contents>
    <CommonPrefixes><Prefix>photos/</Prefix></CommonPrefixes>
    <CommonPrefixes><Prefix>videos/</Prefix></CommonPrefixes>
</ListBucketResult>)";

TEST(ParseListObjectsV2, AwsReferenceExample) {
  auto r = ParseListObjectsV2(kAwsListObjects);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_EQ(r->objects.size(), 2u);
  EXPECT_EQ(r->objects[0].key, "my-image.jpg");
  EXPECT_EQ(r->objects[0].size, 434234u);
  EXPECT_EQ(r->objects[0].etag, "\"fba9dede5f27731c9771645a39863328\"");
  EXPECT_EQ(r->objects[0].last_modified, "2009-10-12T17:50:30.000Z");
  EXPECT_EQ(r->objects[0].storage_class, "STANDARD");
  EXPECT_EQ(r->objects[1].key, "a & b/<c>.csv");
  EXPECT_EQ(r->objects[1].size, 17179869184u);  // past 32 bits
  EXPECT_EQ(r->objects[1].etag, "\"599bab3ed2c697f1d26842727561fd94-3\"");
  EXPECT_EQ(r->common_prefixes, (std::vector<std::string>{"photos/", "videos/"}));
  EXPECT_TRUE(r->is_truncated);
  EXPECT_EQ(r->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

// As Ceph RGW 16 sends it (captured; awscli had asked for url encoding).
constexpr std::string_view kRgwListObjects =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult "
    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><EncodingType>url</EncodingType><Name>sluice-test</Name>"
    "<Prefix>cap/</Prefix><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><Contents><Key>cap/a</Key>"
    "<LastModified>2026-11-25T17:59:04.465Z</LastModified><ETag>&quot;60b725f10c9c85c70d97880dfe8191b3&quot;"
    "</ETag><Size>2</Size><StorageClass>STANDARD</StorageClass><Type>Normal</Type></Contents>"
    "<KeyCount>1</KeyCount></ListBucketResult>";

TEST(ParseListObjectsV2, RgwAnswer) {
  auto r = ParseListObjectsV2(kRgwListObjects);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_EQ(r->objects.size(), 1u);
  EXPECT_EQ(r->objects[0].key, "cap/a");
  EXPECT_EQ(r->objects[0].size, 2u);
  EXPECT_EQ(r->objects[0].etag, "\"60b725f10c9c85c70d97880dfe8191b3\"");
  EXPECT_EQ(r->objects[0].last_modified, "2026-11-25T17:59:04.465Z");
  EXPECT_FALSE(r->is_truncated);
  EXPECT_TRUE(r->common_prefixes.empty());
}

TEST(ParseListObjectsV2, EmptyAndMalformed) {
  auto empty = ParseListObjectsV2(
      "<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->objects.empty());

  auto not_a_listing = ParseListObjectsV2("<Error><Code>AccessDenied</Code></Error>");
  ASSERT_FALSE(not_a_listing.has_value());
  EXPECT_EQ(not_a_listing.error().domain(), core::ErrorDomain::kS3);
  EXPECT_EQ(not_a_listing.error().message().rfind("MalformedResponse: ", 0), 0u);

  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key><Size>12x</Size></Contents>"
                                  "</ListBucketResult>")
                   .has_value());
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>")
                   .has_value());
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>")
                   .has_value());  // truncated without a token: we could never get the next page
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key><Size>1</Size></Contents>")
                   .has_value());  // cut off
}

// The ListMultipartUploads example of the S3 API reference (shortened).
constexpr std::string_view kAwsListUploads = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>bucket</Bucket>
  <KeyMarker></KeyMarker>
  <UploadIdMarker></UploadIdMarker>
  <NextKeyMarker>my-movie.m2ts</NextKeyMarker>
  <NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</NextUploadIdMarker>
  <MaxUploads>3</MaxUploads>
  <IsTruncated>true</IsTruncated>
  <Upload>
    <Key>my-divisor</Key>
    <UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</UploadId>
    <Initiator>
      <ID>arn:aws:iam::111122223333:user/user1-11111a31-17b5-4fb7-9df5-b111111f13de</ID>
      <DisplayName>user1-11111a31-17b5-4fb7-9df5-b111111f13de</DisplayName>
    </Initiator>
    <Owner>
      <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
      <DisplayName>OwnerDisplayName</DisplayName>
    </Owner>
    <StorageClass>REDUCED_REDUNDANCY</StorageClass>
    <Initiated>2010-11-10T20:48:33.000Z</Initiated>
  </Upload>
  <Upload>
    <Key>my-movie.m2ts</Key>
    <UploadId>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</UploadId>
    <StorageClass>STANDARD</StorageClass>
    <Initiated>2010-11-10T20:48:33.000Z</Initiated>
  </Upload>
</ListMultipartUploadsResult>)";

TEST(ParseListMultipartUploads, AwsReferenceExample) {
  auto r = ParseListMultipartUploads(kAwsListUploads);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_EQ(r->uploads.size(), 2u);
  EXPECT_EQ(r->uploads[0].key, "my-divisor");
  EXPECT_EQ(r->uploads[0].upload_id, "XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw");
  EXPECT_EQ(r->uploads[0].initiated, "2010-11-10T20:48:33.000Z");
  EXPECT_EQ(r->uploads[1].key, "my-movie.m2ts");
  EXPECT_TRUE(r->is_truncated);
  EXPECT_EQ(r->next_key_marker, "my-movie.m2ts");
  EXPECT_EQ(r->next_upload_id_marker, "YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ");
}

TEST(ParseListMultipartUploads, RgwAnswers) {
  // Captured from Ceph RGW 16: one upload in progress, then none.
  auto one = ParseListMultipartUploads(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListMultipartUploadsResult "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>sluice-test</Bucket><Prefix>cap/</Prefix>"
      "<NextKeyMarker>cap/m</NextKeyMarker><NextUploadIdMarker>2~FEP6nxF7V7_V_rhnTfZq1S2fgpa0sjL"
      "</NextUploadIdMarker><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated><Upload><Key>cap/m</Key>"
      "<UploadId>2~FEP6nxF7V7_V_rhnTfZq1S2fgpa0sjL</UploadId><Initiator><ID>sluice-test</ID><DisplayName>sluice "
      "tests</DisplayName></Initiator><Owner><ID>sluice-test</ID><DisplayName>sluice tests</DisplayName></Owner>"
      "<StorageClass>STANDARD</StorageClass><Initiated>2026-11-25T17:59:05.773Z</Initiated></Upload>"
      "</ListMultipartUploadsResult>");
  ASSERT_TRUE(one.has_value()) << one.error().message();
  ASSERT_EQ(one->uploads.size(), 1u);
  EXPECT_EQ(one->uploads[0].key, "cap/m");
  EXPECT_EQ(one->uploads[0].upload_id, "2~FEP6nxF7V7_V_rhnTfZq1S2fgpa0sjL");
  EXPECT_EQ(one->uploads[0].initiated, "2026-11-25T17:59:05.773Z");
  EXPECT_FALSE(one->is_truncated);

  auto empty = ParseListMultipartUploads(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListMultipartUploadsResult "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>sluice-test</Bucket><Prefix>cap/</Prefix>"
      "<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>");
  ASSERT_TRUE(empty.has_value()) << empty.error().message();
  EXPECT_TRUE(empty->uploads.empty());
  EXPECT_FALSE(empty->is_truncated);
}

TEST(ParseListMultipartUploads, Malformed) {
  EXPECT_FALSE(ParseListMultipartUploads("<ListMultipartUploadsResult><Upload><Key>k</Key></Upload>"
                                         "</ListMultipartUploadsResult>")
                   .has_value());  // no UploadId
  EXPECT_FALSE(ParseListMultipartUploads("<NotImplemented/>").has_value());
}

// The ListParts example of the S3 API reference (shortened).
constexpr std::string_view kAwsListParts = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket>
  <Key>example-object</Key>
  <UploadId>XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA</UploadId>
  <Initiator><ID>arn:aws:iam::111122223333:user/some-user</ID><DisplayName>umat</DisplayName></Initiator>
  <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID></Owner>
  <StorageClass>STANDARD</StorageClass>
  <PartNumberMarker>1</PartNumberMarker>
  <NextPartNumberMarker>3</NextPartNumberMarker>
  <MaxParts>2</MaxParts>
  <IsTruncated>true</IsTruncated>
  <Part>
    <PartNumber>2</PartNumber>
    <LastModified>2010-11-10T20:48:34.000Z</LastModified>
    <ETag>"7778aef83f66abc1fa1e8477f296d394"</ETag>
    <Size>10485760</Size>
  </Part>
  <Part>
    <PartNumber>3</PartNumber>
    <LastModified>2010-11-10T20:48:33.000Z</LastModified>
    <ETag>"aaaa18db4cc2f85cedef654fccc4a4x8"</ETag>
    <Size>10485760</Size>
  </Part>
</ListPartsResult>)";

TEST(ParseListParts, AwsReferenceExample) {
  auto r = ParseListParts(kAwsListParts);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_EQ(r->parts.size(), 2u);
  EXPECT_EQ(r->parts[0].part_number, 2);
  EXPECT_EQ(r->parts[0].size, 10485760u);
  EXPECT_EQ(r->parts[0].etag, "\"7778aef83f66abc1fa1e8477f296d394\"");
  EXPECT_EQ(r->parts[0].last_modified, "2010-11-10T20:48:34.000Z");
  EXPECT_EQ(r->parts[1].part_number, 3);
  EXPECT_TRUE(r->is_truncated);
  EXPECT_EQ(r->next_part_number_marker, 3);
}

TEST(ParseListParts, RgwAnswer) {
  // Captured from Ceph RGW 16 (PartNumber after LastModified, an empty Owner).
  auto r = ParseListParts(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListPartsResult "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>sluice-test</Bucket><Key>cap/m</Key>"
      "<UploadId>2~FEP6nxF7V7_V_rhnTfZq1S2fgpa0sjL</UploadId><StorageClass>STANDARD</StorageClass>"
      "<PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>1</NextPartNumberMarker><MaxParts>1000"
      "</MaxParts><IsTruncated>false</IsTruncated><Owner><ID></ID><DisplayName></DisplayName></Owner><Part>"
      "<LastModified>2026-11-25T17:59:13.369Z</LastModified><PartNumber>1</PartNumber><ETag>"
      "&quot;60b725f10c9c85c70d97880dfe8191b3&quot;</ETag><Size>2</Size></Part></ListPartsResult>");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_EQ(r->parts.size(), 1u);
  EXPECT_EQ(r->parts[0].part_number, 1);
  EXPECT_EQ(r->parts[0].size, 2u);
  EXPECT_EQ(r->parts[0].etag, "\"60b725f10c9c85c70d97880dfe8191b3\"");
  EXPECT_FALSE(r->is_truncated);
  EXPECT_EQ(r->next_part_number_marker, 1);
}

TEST(ParseListParts, EmptyAndMalformed) {
  auto empty = ParseListParts("<ListPartsResult><NextPartNumberMarker/><IsTruncated>false</IsTruncated>"
                              "</ListPartsResult>");
  ASSERT_TRUE(empty.has_value()) << empty.error().message();
  EXPECT_TRUE(empty->parts.empty());
  EXPECT_EQ(empty->next_part_number_marker, 0);
  EXPECT_FALSE(ParseListParts("<ListPartsResult><Part><PartNumber>x</PartNumber><Size>1</Size></Part>"
                              "</ListPartsResult>")
                   .has_value());
  EXPECT_FALSE(ParseListParts("<ListPartsResult><Part><PartNumber>1</PartNumber></Part></ListPartsResult>")
                   .has_value());
  EXPECT_FALSE(ParseListParts("").has_value());
}

}  // namespace
}  // namespace sluice::s3
