// llhttp → C++ member functions. llhttp calls plain C functions with the
// parser; the parser's `data` points at the owning object. These templates
// make one noexcept trampoline per member (Node's node_http_parser.cc Proxy).
//
// Rules:
//  - Set `parser.data = this` before llhttp_execute.
//  - A member returns 0 (HPE_OK) to go on, HPE_PAUSED to stop the parser right
//    after this event (llhttp_get_error_pos tells where to resume), or
//    HPE_USER after recording why (the caller then answers with an error).
#pragma once

#include <llhttp.h>

#include <string_view>

namespace sluice::glue {

template <class>
struct MemberOf;
template <class C, class R, class... A>
struct MemberOf<R (C::*)(A...)> {
  using type = C;
};

/// Trampoline for a data callback: int (C::*)(std::string_view).
template <auto Member>
int LlhttpData(llhttp_t* parser, const char* at, size_t length) noexcept {
  using C = typename MemberOf<decltype(Member)>::type;
  return (static_cast<C*>(parser->data)->*Member)(std::string_view(at, length));
}

/// Trampoline for an event callback: int (C::*)().
template <auto Member>
int LlhttpEvent(llhttp_t* parser) noexcept {
  using C = typename MemberOf<decltype(Member)>::type;
  return (static_cast<C*>(parser->data)->*Member)();
}

}  // namespace sluice::glue
