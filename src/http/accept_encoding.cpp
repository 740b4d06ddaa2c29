// See accept_encoding.hpp.
#include "http/accept_encoding.hpp"

#include "http/request.hpp"

namespace sluice::http {

bool AcceptsGzip(std::optional<std::string_view> header) {
  if (!header) return false;
  std::string_view rest = *header;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    auto semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) coding.remove_prefix(1);
    while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) coding.remove_suffix(1);
    if (!EqualsIgnoreCase(coding, "gzip") && !EqualsIgnoreCase(coding, "x-gzip")) continue;
    if (semi == std::string_view::npos) return true;
    std::string_view params = item.substr(semi + 1);
    auto q = params.find("q=");
    if (q == std::string_view::npos) return true;
    std::string_view value = params.substr(q + 2);
    // q=0, q=0.0, q=0.000 refuse; anything else accepts.
    bool zero = !value.empty() && value[0] == '0';
    for (std::size_t i = 1; zero && i < value.size() && value[i] != ' ' && value[i] != ';'; ++i) {
      zero = value[i] == '.' || value[i] == '0';
    }
    return !zero;
  }
  return false;
}

}  // namespace sluice::http
