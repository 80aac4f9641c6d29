#include "net/http_server.hpp"

#include <utility>  // before Asio: Boost's headers use std::exchange

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/error.hpp"
#include "core/log.hpp"

namespace onepath {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kIdleTimeout = std::chrono::seconds(30);

// What every connection of one server shares; it lives as long as the longest of them.
struct Shared {
  HttpHandler handler;
  std::string token;  // empty: none required
};

// One connection: read a request, answer it, again while the client keeps it alive.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<const Shared> shared) : stream_(std::move(socket)), shared_(std::move(shared)) {}
  void start() { read(); }

 private:
  void read() {
    request_ = {};
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, request_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->respond();
    });
  }

  void respond() {
    HttpRequest req;
    req.method = std::string(request_.method_string());
    req.target = std::string(request_.target());
    req.body = request_.body();
    if (auto it = request_.find(http::field::authorization); it != request_.end()) req.authorization = std::string(it->value());
    HttpResponse answer;
    if (!shared_->token.empty() && req.authorization != "Bearer " + shared_->token) {
      answer = {401, "text/plain; charset=utf-8", "a bearer token is required (Authorization: Bearer ...)\n"};
    } else {
      try {
        answer = shared_->handler(req);
      } catch (const std::exception& e) {
        answer = {500, "text/plain; charset=utf-8", std::string(e.what()) + "\n"};
      }
    }
    response_ = {static_cast<http::status>(answer.status), request_.version()};
    response_.set(http::field::server, "onepath");
    response_.set(http::field::content_type, answer.content_type);
    response_.keep_alive(request_.keep_alive());
    response_.body() = std::move(answer.body);
    response_.prepare_payload();
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || !self->response_.keep_alive()) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  std::shared_ptr<const Shared> shared_;
};

bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, HttpHandler h, std::string t) : acceptor(io), shared(std::make_shared<Shared>(Shared{std::move(h), std::move(t)})) {}
  void accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (!self->acceptor.is_open()) return;
      if (!ec) std::make_shared<Connection>(std::move(socket), self->shared)->start();
      self->accept();
    });
  }
  tcp::acceptor acceptor;
  std::shared_ptr<const Shared> shared;
};


HttpServer::HttpServer(asio::io_context& io, const std::string& host, int port, std::string token, HttpHandler handler) {
  if (!is_loopback(host) && token.empty())
    throw InputError("HTTP on " + host + " (off loopback) needs a token: set the environment variable named by [paper] token_env");
  if (is_loopback(host)) token.clear();
  impl_ = std::make_shared<Impl>(io, std::move(handler), std::move(token));
  beast::error_code ec;
  auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) throw InputError("[paper] host '" + host + "' is not an IP address");
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw InputError("cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  impl_->accept();
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::stop() {
  beast::error_code ignored;
  if (impl_->acceptor.is_open()) impl_->acceptor.close(ignored);
}

}  // namespace onepath
