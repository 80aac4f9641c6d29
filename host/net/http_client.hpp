#pragma once
// One HTTP/1.1 request to a local onepath session ("Connection: close"), for commands such
// as `onepath reload` that talk to a running paper session.
#include <stdexcept>
#include <string>

namespace onepath {

struct HttpReply {
  int status = 0;
  std::string body;
};

// Nothing listens at the address (connect() refused): no session is there.
class HttpRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct HttpClientOptions {
  int timeout_ms = 10000;     // for connecting, sending and each read
  bool allow_remote = false;  // only loopback addresses unless the user said otherwise
};

// `url` is "http://HOST:PORT" (IPv4, "localhost" or "[IPv6]"); std::runtime_error when it
// cannot connect, does not answer in time, or answers more than 1 MB.
HttpReply http_request(const std::string& url, const std::string& method, const std::string& target, const std::string& token = "",
                       const HttpClientOptions& options = {});

}  // namespace onepath
