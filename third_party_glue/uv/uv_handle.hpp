// UvHandle<T>: owns one libuv handle whose memory must outlive uv_close().
//
// Rules:
//  - Init() wraps the uv_*_init call; a failed init leaves nothing to close.
//  - Close() (and the destructor) hand the memory to uv_close; it is freed in
//    the close callback, never before (libuv design.rst: a handle's memory must
//    stay valid until its close callback runs).
//  - handle->data belongs to the owner of the UvHandle (trampolines use it).
#pragma once

#include <uv.h>

#include <memory>

namespace sluice::glue {

template <class T>
class UvHandle {
 public:
  UvHandle() : handle_(std::make_unique<T>()) {}
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;
  ~UvHandle() { Close(); }

  /// Runs `init(loop, handle, args...)` (e.g. uv_timer_init); returns its code.
  template <class InitFn, class... Args>
  int Init(InitFn init, uv_loop_t* loop, Args... args) noexcept {
    if (!handle_) handle_ = std::make_unique<T>();
    int rc = init(loop, handle_.get(), args...);
    initialized_ = (rc == 0);
    return rc;
  }

  T* get() const noexcept { return handle_.get(); }
  T* operator->() const noexcept { return handle_.get(); }
  uv_handle_t* base() const noexcept { return reinterpret_cast<uv_handle_t*>(handle_.get()); }
  bool initialized() const noexcept { return initialized_; }

  /// Starts closing; the memory is released in the close callback.
  void Close() noexcept {
    if (!initialized_) {
      handle_.reset();
      return;
    }
    initialized_ = false;
    T* raw = handle_.release();
    raw->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(raw),
             [](uv_handle_t* h) { std::unique_ptr<T> owned(reinterpret_cast<T*>(h)); });
  }

 private:
  std::unique_ptr<T> handle_;
  bool initialized_ = false;
};

}  // namespace sluice::glue
