// S3 multipart and listing documents (see s3_documents.hpp). Building is
// string concatenation with s3_xml's escaping; parsing takes each repeated
// element (`<Contents>`, `<Upload>`, `<Part>`) with XmlAllElements and reads
// its fields with XmlText, so one pass over the document plus one over each
// entry. Numbers go through std::from_chars: a listing with a bad number is a
// malformed response, not a zero.
#include "s3/s3_documents.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>

#include "s3/s3_xml.hpp"

namespace sluice::s3 {
namespace {

core::Status Malformed(std::string_view what) {
  return {core::ErrorDomain::kS3, 0, fmt::format("MalformedResponse: {}", what)};
}

template <class T>
bool ParseNumber(std::string_view text, T& out) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\t')) text.remove_suffix(1);
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool IsTrue(std::string_view xml) {
  auto v = XmlText(xml, "IsTruncated");
  return v && (*v == "true" || *v == "True" || *v == "TRUE");
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string CompleteMultipartUploadXml(std::span<const CompletedPart> parts) {
  std::vector<CompletedPart> sorted(parts.begin(), parts.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const CompletedPart& a, const CompletedPart& b) { return a.part_number < b.part_number; });
  std::string xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const auto& p : sorted) {
    xml += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", p.part_number, XmlEscape(p.etag));
  }
  xml += "</CompleteMultipartUpload>";
  return xml;
}

std::optional<std::string> MultipartEtag(std::span<const std::string> part_etags) {
  if (part_etags.empty()) return std::nullopt;
  std::string digests;
  digests.reserve(part_etags.size() * 16);
  for (std::string_view etag : part_etags) {
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
    if (etag.size() != 32) return std::nullopt;
    for (size_t i = 0; i < 32; i += 2) {
      const int hi = HexValue(etag[i]);
      const int lo = HexValue(etag[i + 1]);
      if (hi < 0 || lo < 0) return std::nullopt;
      digests.push_back(static_cast<char>(hi * 16 + lo));
    }
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(digests.data(), digests.size(), md, &md_len, EVP_md5(), nullptr) != 1) return std::nullopt;
  std::string out = "\"";
  for (unsigned int i = 0; i < md_len; ++i) out += fmt::format("{:02x}", md[i]);
  out += fmt::format("-{}\"", part_etags.size());
  return out;
}

core::Result<ListObjectsResult> ParseListObjectsV2(std::string_view xml) {
  auto root = XmlFirstElement(xml, "ListBucketResult");
  if (!root) return Malformed("no <ListBucketResult> in a ListObjectsV2 answer");
  ListObjectsResult out;
  out.is_truncated = IsTrue(*root);
  out.next_continuation_token = XmlText(*root, "NextContinuationToken").value_or("");
  for (std::string_view entry : XmlAllElements(*root, "Contents")) {
    ListedObject o;
    auto key = XmlText(entry, "Key");
    if (!key) return Malformed("a <Contents> without <Key>");
    o.key = std::move(*key);
    if (auto size = XmlFirstElement(entry, "Size"); !size || !ParseNumber(*size, o.size)) {
      return Malformed(fmt::format("no valid <Size> for {}", o.key));
    }
    o.etag = XmlText(entry, "ETag").value_or("");
    o.last_modified = XmlText(entry, "LastModified").value_or("");
    o.storage_class = XmlText(entry, "StorageClass").value_or("");
    out.objects.push_back(std::move(o));
  }
  for (std::string_view entry : XmlAllElements(*root, "CommonPrefixes")) {
    if (auto prefix = XmlText(entry, "Prefix")) out.common_prefixes.push_back(std::move(*prefix));
  }
  if (out.is_truncated && out.next_continuation_token.empty()) {
    return Malformed("a truncated ListObjectsV2 page without <NextContinuationToken>");
  }
  return out;
}

core::Result<ListUploadsResult> ParseListMultipartUploads(std::string_view xml) {
  auto root = XmlFirstElement(xml, "ListMultipartUploadsResult");
  if (!root) return Malformed("no <ListMultipartUploadsResult> in a ListMultipartUploads answer");
  ListUploadsResult out;
  out.is_truncated = IsTrue(*root);
  out.next_key_marker = XmlText(*root, "NextKeyMarker").value_or("");
  out.next_upload_id_marker = XmlText(*root, "NextUploadIdMarker").value_or("");
  for (std::string_view entry : XmlAllElements(*root, "Upload")) {
    ListedUpload u;
    auto key = XmlText(entry, "Key");
    auto id = XmlText(entry, "UploadId");
    if (!key || !id || id->empty()) return Malformed("an <Upload> without <Key> or <UploadId>");
    u.key = std::move(*key);
    u.upload_id = std::move(*id);
    u.initiated = XmlText(entry, "Initiated").value_or("");
    out.uploads.push_back(std::move(u));
  }
  return out;
}

core::Result<ListPartsResult> ParseListParts(std::string_view xml) {
  auto root = XmlFirstElement(xml, "ListPartsResult");
  if (!root) return Malformed("no <ListPartsResult> in a ListParts answer");
  ListPartsResult out;
  out.is_truncated = IsTrue(*root);
  if (auto next = XmlFirstElement(*root, "NextPartNumberMarker"); next && !next->empty()) {
    if (!ParseNumber(*next, out.next_part_number_marker)) return Malformed("a bad <NextPartNumberMarker>");
  }
  for (std::string_view entry : XmlAllElements(*root, "Part")) {
    ListedPart p;
    if (auto n = XmlFirstElement(entry, "PartNumber"); !n || !ParseNumber(*n, p.part_number)) {
      return Malformed("a <Part> without a valid <PartNumber>");
    }
    if (auto size = XmlFirstElement(entry, "Size"); !size || !ParseNumber(*size, p.size)) {
      return Malformed(fmt::format("no valid <Size> for part {}", p.part_number));
    }
    p.etag = XmlText(entry, "ETag").value_or("");
    p.last_modified = XmlText(entry, "LastModified").value_or("");
    out.parts.push_back(std::move(p));
  }
  return out;
}

}  // namespace sluice::s3
