// Result<T>: a value or a Status, shaped like C++23 std::expected (which GCC 12
// lacks) so it can be swapped for it later: has_value(), value(), error(),
// operator*, operator->.
#pragma once

#include <cstdlib>
#include <utility>
#include <variant>

#include "core/status.hpp"

namespace sluice::core {

template <class T>
class Result {
 public:
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status error) : data_(std::in_place_index<1>, std::move(error)) {  // NOLINT
    if (std::get<1>(data_).ok()) std::abort();  // a Result error must be an error
  }

  bool has_value() const noexcept { return data_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Status& error() const& { return std::get<1>(data_); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace sluice::core
