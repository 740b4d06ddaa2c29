// The XML tag extractor (see s3_xml.hpp). One scanner walks markup tokens —
// start, end and empty-element tags, skipping comments, CDATA, processing
// instructions and declarations — and the lookups count depth of same-named
// elements to find the matching end tag.
#include "s3/s3_xml.hpp"

#include <cstdint>

namespace sluice::s3 {
namespace {

enum class TagKind { kStart, kEnd, kEmpty, kOther, kNone };

struct Tag {
  TagKind kind = TagKind::kNone;
  std::string_view name;  ///< local name (prefix stripped)
  size_t begin = 0;       ///< index of '<'
  size_t end = 0;         ///< index just past '>'
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Returns the index just past `terminator` at or after `from`, or npos.
size_t SkipPast(std::string_view xml, size_t from, std::string_view terminator) {
  const size_t at = xml.find(terminator, from);
  return at == std::string_view::npos ? at : at + terminator.size();
}

// The next markup token at or after `pos`; kNone at the end or on truncation.
Tag NextTag(std::string_view xml, size_t pos) {
  Tag t;
  const size_t lt = xml.find('<', pos);
  if (lt == std::string_view::npos) return t;
  t.begin = lt;
  std::string_view rest = xml.substr(lt);
  size_t end = std::string_view::npos;
  if (rest.starts_with("<!--")) {
    end = SkipPast(xml, lt + 4, "-->");
    t.kind = TagKind::kOther;
  } else if (rest.starts_with("<![CDATA[")) {
    end = SkipPast(xml, lt + 9, "]]>");
    t.kind = TagKind::kOther;
  } else if (rest.starts_with("<?")) {
    end = SkipPast(xml, lt + 2, "?>");
    t.kind = TagKind::kOther;
  } else if (rest.starts_with("<!")) {
    end = SkipPast(xml, lt + 2, ">");
    t.kind = TagKind::kOther;
  } else {
    const bool closing = rest.starts_with("</");
    size_t i = lt + (closing ? 2 : 1);
    const size_t name_begin = i;
    while (i < xml.size() && !IsSpace(xml[i]) && xml[i] != '>' && xml[i] != '/') ++i;
    std::string_view name = xml.substr(name_begin, i - name_begin);
    if (const size_t colon = name.rfind(':'); colon != std::string_view::npos) name.remove_prefix(colon + 1);
    // Find the closing '>' outside attribute quotes.
    char quote = 0;
    for (; i < xml.size(); ++i) {
      const char c = xml[i];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>') {
        end = i + 1;
        break;
      }
    }
    t.name = name;
    if (closing) {
      t.kind = TagKind::kEnd;
    } else if (end != std::string_view::npos && xml[end - 2] == '/') {
      t.kind = TagKind::kEmpty;
    } else {
      t.kind = TagKind::kStart;
    }
  }
  if (end == std::string_view::npos) return Tag{};  // truncated document
  t.end = end;
  return t;
}

struct Element {
  size_t content_begin = 0;
  size_t content_end = 0;
  size_t after = 0;  ///< just past the end tag
};

// Finds the first `tag` element at or after `pos`.
std::optional<Element> FindElement(std::string_view xml, std::string_view tag, size_t pos) {
  for (Tag t = NextTag(xml, pos); t.kind != TagKind::kNone; t = NextTag(xml, t.end)) {
    if (t.name != tag || t.kind == TagKind::kEnd || t.kind == TagKind::kOther) continue;
    if (t.kind == TagKind::kEmpty) return Element{t.end, t.end, t.end};
    int depth = 1;
    for (Tag u = NextTag(xml, t.end); u.kind != TagKind::kNone; u = NextTag(xml, u.end)) {
      if (u.name != tag) continue;
      if (u.kind == TagKind::kStart) {
        ++depth;
      } else if (u.kind == TagKind::kEnd && --depth == 0) {
        return Element{t.end, u.begin, u.end};
      }
    }
    return std::nullopt;  // no end tag: truncated
  }
  return std::nullopt;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes one entity body ("amp", "#x41"); false when unknown.
bool DecodeEntity(std::string_view name, std::string& out) {
  if (name == "amp") out.push_back('&');
  else if (name == "lt") out.push_back('<');
  else if (name == "gt") out.push_back('>');
  else if (name == "quot") out.push_back('"');
  else if (name == "apos") out.push_back('\'');
  else if (name.size() >= 2 && name[0] == '#') {
    const bool hex = name[1] == 'x' || name[1] == 'X';
    std::string_view digits = name.substr(hex ? 2 : 1);
    if (digits.empty() || digits.size() > 8) return false;
    uint32_t cp = 0;
    for (char c : digits) {
      uint32_t d;
      if (c >= '0' && c <= '9') d = static_cast<uint32_t>(c - '0');
      else if (hex && c >= 'a' && c <= 'f') d = static_cast<uint32_t>(c - 'a' + 10);
      else if (hex && c >= 'A' && c <= 'F') d = static_cast<uint32_t>(c - 'A' + 10);
      else return false;
      cp = cp * (hex ? 16 : 10) + d;
    }
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    AppendUtf8(out, cp);
  } else {
    return false;
  }
  return true;
}

}  // namespace

std::optional<std::string_view> XmlFirstElement(std::string_view xml, std::string_view tag) {
  auto e = FindElement(xml, tag, 0);
  if (!e) return std::nullopt;
  return xml.substr(e->content_begin, e->content_end - e->content_begin);
}

std::vector<std::string_view> XmlAllElements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (auto e = FindElement(xml, tag, pos)) {
    out.push_back(xml.substr(e->content_begin, e->content_end - e->content_begin));
    pos = e->after;
  }
  return out;
}

std::optional<std::string> XmlText(std::string_view xml, std::string_view tag) {
  auto raw = XmlFirstElement(xml, tag);
  if (!raw) return std::nullopt;
  return XmlDecode(*raw);
}

std::string XmlDecode(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  size_t i = 0;
  while (i < raw.size()) {
    const char c = raw[i];
    if (c == '<') {
      if (raw.substr(i).starts_with("<![CDATA[")) {
        const size_t end = raw.find("]]>", i + 9);
        if (end == std::string_view::npos) {
          out.append(raw.substr(i + 9));
          break;
        }
        out.append(raw.substr(i + 9, end - i - 9));
        i = end + 3;
        continue;
      }
      const Tag t = NextTag(raw, i);  // any other markup is dropped
      if (t.kind == TagKind::kNone) break;
      i = t.end;
      continue;
    }
    if (c == '&') {
      const size_t semi = raw.find(';', i + 1);
      if (semi != std::string_view::npos && semi - i <= 12 && DecodeEntity(raw.substr(i + 1, semi - i - 1), out)) {
        i = semi + 1;
        continue;
      }
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::optional<S3ErrorBody> ParseS3Error(std::string_view body) {
  auto error = XmlFirstElement(body, "Error");
  if (!error) return std::nullopt;
  auto code = XmlText(*error, "Code");
  if (!code || code->empty()) return std::nullopt;
  S3ErrorBody out;
  out.code = std::move(*code);
  out.message = XmlText(*error, "Message").value_or("");
  out.request_id = XmlText(*error, "RequestId").value_or("");
  return out;
}

}  // namespace sluice::s3
