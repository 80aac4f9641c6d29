#pragma once
// One HTTP/1.1 request to a local onepath session ("Connection: close"), for commands such
// as `onepath reload` that talk to a running paper session.
#include <string>

namespace onepath {

struct HttpReply {
  int status = 0;
  std::string body;
};

// `url` is "http://HOST:PORT" (an IPv4 address); std::runtime_error when it cannot connect.
HttpReply http_request(const std::string& url, const std::string& method, const std::string& target, const std::string& token = "");

}  // namespace onepath
