// Exchange and Handler: the contract between the HTTP connection and the code
// that answers a request.
//
// A route's factory makes one Handler per request. The connection calls, in
// order: OnRequest (headers in), OnBody (each decoded body chunk, chunked
// encoding already removed), OnBodyEnd, and OnDrain whenever a streamed
// response that was told to wait can take more. OnAbort means the client is
// gone before the response was finished.
//
// Rules:
//  - Everything runs on the loop thread.
//  - A handler answers exactly once: Respond*/RespondError, or
//    BeginStream + Write* + EndStream. It may answer from any callback, or
//    later from an async completion — which must then hold
//    `exchange.weak_from_this()` and check it, because the connection (and
//    the Exchange) can go away first.
//  - PauseBody() stops reading the client's socket (backpressure);
//    ResumeBody() starts it again.
//  - Write() returns false once the socket's queue is past its high-water
//    mark: stop writing until OnDrain.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http/request.hpp"

namespace sluice::http {

class Connection;
class Exchange;

class Handler {
 public:
  virtual ~Handler() = default;
  virtual void OnRequest(Exchange& exchange) { (void)exchange; }
  virtual void OnBody(Exchange& exchange, std::string_view chunk) { (void)exchange; (void)chunk; }
  virtual void OnBodyEnd(Exchange& exchange) = 0;
  virtual void OnDrain(Exchange& exchange) { (void)exchange; }
  virtual void OnAbort(Exchange& exchange) { (void)exchange; }
};

inline constexpr std::string_view kJsonType = "application/json; charset=utf-8";

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(Connection* connection, Request request) : connection_(connection), request_(std::move(request)) {}

  const Request& request() const { return request_; }

  /// Stops reading the request body until ResumeBody().
  void PauseBody();
  void ResumeBody();
  /// Expect: 100-continue is normally answered right after OnRequest. A
  /// handler that must first check something asynchronously (may this upload
  /// start at all?) calls HoldContinue() in OnRequest and Continue() once it
  /// wants the body — or answers with an error, and the body is never sent.
  void HoldContinue() { hold_continue_ = true; }
  void Continue();

  /// A whole response with a body of known length.
  void Respond(int status, std::string body, std::string_view content_type = kJsonType, HeaderList headers = {});
  /// The API's error shape (http/status.hpp ErrorBody).
  void RespondError(int status, std::string_view code, std::string_view message, std::string_view param = {},
                    HeaderList headers = {});

  /// Starts a chunked response; then Write() pieces and EndStream().
  void BeginStream(int status, std::string_view content_type, HeaderList headers = {});
  /// Queues one piece; false means "wait for OnDrain before writing more".
  bool Write(std::string_view data);
  void EndStream();
  /// Gives up on a started stream that cannot be completed (an error after
  /// the first bytes went out): the connection is closed without the final
  /// chunk, so the client sees a truncated answer, never a complete-looking
  /// one. OnAbort is not called.
  void AbortStream();

  bool responded() const { return response_started_; }
  bool finished() const { return response_finished_; }
  /// False once the client connection is gone.
  bool alive() const { return connection_ != nullptr; }
  int status() const { return status_; }

 private:
  friend class Connection;
  Connection* connection_;              ///< null once the connection is gone
  Request request_;
  std::unique_ptr<Handler> handler_;
  std::string route_name_;
  int status_ = 0;
  bool response_started_ = false;
  bool response_finished_ = false;
  bool streaming_ = false;
  bool hold_continue_ = false;
  bool continue_pending_ = false;  ///< the client sent Expect: 100-continue and has no answer yet
};

}  // namespace sluice::http
