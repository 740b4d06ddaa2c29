// A tiny, non-validating XML tag extractor for S3's small response bodies:
// `<Error><Code>…</Code><Message>…</Message></Error>`, the `<UploadId>` of
// CreateMultipartUpload, the `<ETag>` of CompleteMultipartUpload, `<Part>`
// lists. S3 documents are flat and machine-written, so finding an element by
// name and decoding the five predefined entities plus numeric references is
// enough; no DTDs, no namespaces beyond ignoring a `prefix:`, no validation.
// Also the reverse: escaping text for the request bodies sluice writes.
// Pure (no I/O).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::s3 {

/// The raw (undecoded) content of the first element named `tag` at any
/// depth, or nullopt when there is none. `<Tag/>` gives "". Attributes and a
/// namespace prefix (`<s3:Tag>`) are accepted; CDATA and comments are skipped
/// while searching.
std::optional<std::string_view> XmlFirstElement(std::string_view xml, std::string_view tag);

/// The raw content of every element named `tag`, in document order (not
/// nested inside one another: the search resumes after each end tag).
std::vector<std::string_view> XmlAllElements(std::string_view xml, std::string_view tag);

/// The decoded text of the first `tag` element (entities and CDATA resolved,
/// child elements' markup removed), or nullopt.
std::optional<std::string> XmlText(std::string_view xml, std::string_view tag);

/// Decodes &amp; &lt; &gt; &quot; &apos; &#N; &#xN; and CDATA sections;
/// drops any other markup. Unknown entities are kept as written.
std::string XmlDecode(std::string_view raw);

/// Escapes & < > " ' for element text or attribute values.
std::string XmlEscape(std::string_view text);

/// The fields of an S3 `<Error>` document.
struct S3ErrorBody {
  std::string code;        ///< "NoSuchKey", "SignatureDoesNotMatch", ...
  std::string message;     ///< may be empty (RGW sends `<Message/>`)
  std::string request_id;  ///< for support tickets; may be empty
};

/// Parses an `<Error>` document; nullopt when `body` has no `<Error>` root
/// with a `<Code>` (an HTML proxy page, an empty HEAD response, ...).
std::optional<S3ErrorBody> ParseS3Error(std::string_view body);

}  // namespace sluice::s3
