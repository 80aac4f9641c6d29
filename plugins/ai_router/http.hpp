#pragma once
// One HTTP(S) POST on the caller's Asio executor, as a coroutine, under one deadline for
// the whole exchange (connect, TLS handshake, write, read). Beast stays inside http.cpp.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "wire.hpp"

namespace ai {

struct Url {
  bool tls = false;
  std::string host, port, prefix;  // prefix: the base URL's path, put before every target
};
Url parse_url(const std::string& url);  // std::invalid_argument

struct HttpResponse {
  int status = 0;
  Headers headers;  // names in lower case
  std::string body;
};

// A call that did not produce a response: every one of these is worth a retry.
struct TransportError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The TLS settings shared by every HTTPS call: the system's CA certificates, plus `ca_file`.
class TlsContext {
 public:
  explicit TlsContext(const std::string& ca_file);
  ~TlsContext();
  void* native() const;  // boost::asio::ssl::context*

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

boost::asio::awaitable<HttpResponse> http_post(const TlsContext& tls, const Url& url, const std::string& target, const Headers& headers,
                                               const std::string& body, std::chrono::milliseconds timeout);

}  // namespace ai
