// The S3 request and response documents of multipart uploads and listings:
// the CompleteMultipartUpload body sluice writes, and the ListObjectsV2,
// ListMultipartUploads and ListParts results it reads. Also the multipart
// ETag S3 computes (MD5 of the parts' MD5s, "-N"), for servers that leave it
// out of Complete's answer (Ceph RGW 16).
//
// Why a module of its own: these are pure functions over strings (no loop, no
// curl), so the unit tests pin down the exact bytes of the Complete body and
// the parsing of real servers' listings (AWS, Ceph RGW, s3rver samples)
// without a server. The element extraction itself is s3_xml's. A listing of
// 1000 entries is a few hundred KiB: S3Client parses large ones on the worker
// pool and these functions never block or allocate per byte beyond the result.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace sluice::s3 {

/// S3's limits on multipart uploads.
inline constexpr int kMaxPartNumber = 10000;
/// Every part but the last must be at least this big (EntityTooSmall otherwise).
inline constexpr uint64_t kMinPartSize = 5ull << 20;
/// No part may be bigger than this.
inline constexpr uint64_t kMaxPartSize = 5ull << 30;

/// One part of a multipart upload, as listed in CompleteMultipartUpload.
struct CompletedPart {
  int part_number = 0;  ///< 1..10000
  std::string etag;     ///< UploadPart's ETag, quotes included
  bool operator==(const CompletedPart&) const = default;
};

/// The CompleteMultipartUpload request body: the parts sorted by ascending
/// part number, ETags escaped, in S3's 2006-03-01 namespace.
std::string CompleteMultipartUploadXml(std::span<const CompletedPart> parts);

/// The ETag S3 gives an object assembled from `part_etags` (in part order):
/// "\"<hex md5(md5(part1) ‖ md5(part2) ‖ …)>-<N>\"". nullopt when an ETag is
/// not a (quoted) 32-digit hex MD5, as with SSE-KMS, or the list is empty.
std::optional<std::string> MultipartEtag(std::span<const std::string> part_etags);

/// One object of a ListObjectsV2 page.
struct ListedObject {
  std::string key;            ///< the full key as the server lists it
  uint64_t size = 0;
  std::string etag;           ///< quotes included
  std::string last_modified;  ///< ISO 8601, as sent
  std::string storage_class;  ///< may be empty
};

/// One page of ListObjectsV2.
struct ListObjectsResult {
  std::vector<ListedObject> objects;
  std::vector<std::string> common_prefixes;  ///< with a delimiter only
  bool is_truncated = false;
  std::string next_continuation_token;       ///< pass it back for the next page
};

/// One in-progress multipart upload of a ListMultipartUploads page.
struct ListedUpload {
  std::string key;        ///< the full key as the server lists it
  std::string upload_id;
  std::string initiated;  ///< ISO 8601, as sent
};

/// One page of ListMultipartUploads.
struct ListUploadsResult {
  std::vector<ListedUpload> uploads;
  bool is_truncated = false;
  std::string next_key_marker;        ///< pass both back for the next page
  std::string next_upload_id_marker;
};

/// One uploaded part of a ListParts page.
struct ListedPart {
  int part_number = 0;
  uint64_t size = 0;
  std::string etag;           ///< quotes included
  std::string last_modified;  ///< ISO 8601, as sent
};

/// One page of ListParts.
struct ListPartsResult {
  std::vector<ListedPart> parts;
  bool is_truncated = false;
  int next_part_number_marker = 0;  ///< pass it back for the next page
};

/// Parses a `<ListBucketResult>` (ListObjectsV2). Errors (kS3, code 0) name
/// what is missing or malformed ("MalformedResponse: ...").
core::Result<ListObjectsResult> ParseListObjectsV2(std::string_view xml);
/// Parses a `<ListMultipartUploadsResult>`.
core::Result<ListUploadsResult> ParseListMultipartUploads(std::string_view xml);
/// Parses a `<ListPartsResult>`.
core::Result<ListPartsResult> ParseListParts(std::string_view xml);

}  // namespace sluice::s3
