#pragma once
// A small HTTP/1.1 server on the caller's io_context: every request goes to one handler,
// on the io_context's thread, so a handler may read the session's state without locks.
#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace onepath {

struct HttpRequest {
  std::string method, target, body;  // target: the path, query included
  std::string authorization;         // the Authorization header, if any
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// "localhost", 127.0.0.0/8 or ::1.
bool is_loopback_host(const std::string& host);

class HttpServer {
 public:
  // Listens on host:port (0: a free port, see port()). `token` (never empty) is required as
  // "Authorization: Bearer <token>" by /control/* always, and by everything off loopback
  // (else 401, before the body is read). A request whose Host names another server is
  // refused (421: DNS rebinding). At most 32 connections; accept errors back off.
  // Throws InputError when it cannot listen.
  HttpServer(boost::asio::io_context& io, const std::string& host, int port, std::string token, HttpHandler handler);
  ~HttpServer();
  int port() const;
  void stop();  // no new connections; open ones end after their response

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace onepath
