// Owning pointers for libcurl's handles, which free synchronously: a
// unique_ptr with the library's own cleanup function as the deleter
// (STYLE.md 3.3). An easy handle must be removed from its multi handle
// before it is freed; CurlMulti does that.
#pragma once

#include <curl/curl.h>

#include <memory>

namespace sluice::glue {

/// Calls `Fn(p)` for a non-null `p`.
template <auto Fn>
struct CDeleter {
  template <class T>
  void operator()(T* p) const noexcept {
    if (p != nullptr) Fn(p);
  }
};

/// curl_easy_init() → curl_easy_cleanup().
using CurlEasyPtr = std::unique_ptr<CURL, CDeleter<curl_easy_cleanup>>;
/// curl_multi_init() → curl_multi_cleanup().
using CurlMultiPtr = std::unique_ptr<CURLM, CDeleter<curl_multi_cleanup>>;
/// curl_slist_append() chains → curl_slist_free_all().
using CurlSlistPtr = std::unique_ptr<curl_slist, CDeleter<curl_slist_free_all>>;

}  // namespace sluice::glue
