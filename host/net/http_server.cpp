#include "net/http_server.hpp"

#include <utility>  // before Asio: Boost's headers use std::exchange

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/error.hpp"
#include "core/log.hpp"

#include <optional>
#include <vector>

namespace onepath {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kIdleTimeout = std::chrono::seconds(10);
constexpr int kMaxConnections = 32;          // descriptors beyond these stay free for snapshots and the journal
constexpr std::uint64_t kMaxBody = 64u << 10;  // no endpoint takes more
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

// What every connection of one server shares; it lives as long as the longest of them.
struct Shared {
  HttpHandler handler;
  std::string token;
  bool open_reads = true;            // on loopback: GET without a token; control always needs it
  std::vector<std::string> hosts;    // what a request's Host may name (with or without the port)
  std::string port;
  int connections = 0;               // the io_context's thread only
};

bool allowed_host(const Shared& s, std::string_view host) {
  if (s.hosts.empty()) return true;  // all interfaces: every request needs the token anyway
  for (const auto& h : s.hosts)
    if (host == h || host == h + ":" + s.port) return true;
  return false;
}

// One connection: read a request, answer it, again while the client keeps it alive.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<Shared> shared) : stream_(std::move(socket)), shared_(std::move(shared)) {
    ++shared_->connections;
  }
  ~Connection() { --shared_->connections; }
  void start() { read(); }

 private:
  // The header first: a request that will be refused is refused before its body is read.
  void read() {
    parser_.emplace();
    parser_->header_limit(8 * 1024);
    parser_->body_limit(kMaxBody);
    stream_.expires_after(kIdleTimeout);
    http::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      if (HttpResponse refusal; self->refused(refusal)) return self->send(std::move(refusal), false);
      http::async_read(self->stream_, self->buffer_, *self->parser_, [self](beast::error_code ec2, std::size_t) {
        if (ec2) return self->close();
        self->respond();
      });
    });
  }

  bool refused(HttpResponse& answer) {
    const auto& h = parser_->get();
    // DNS rebinding: a page of another site reaching this port names its own host.
    if (auto it = h.find(http::field::host); it == h.end() || !allowed_host(*shared_, it->value())) {
      answer = {421, "text/plain; charset=utf-8", "this server answers only requests addressed to it (Host header)\n"};
      return true;
    }
    const bool control = h.target().starts_with("/control/");
    const bool needs_token = control || !shared_->open_reads;
    std::string authorization;
    if (auto it = h.find(http::field::authorization); it != h.end()) authorization = std::string(it->value());
    if (needs_token && authorization != "Bearer " + shared_->token) {
      answer = {401, "text/plain; charset=utf-8",
                "a bearer token is required (Authorization: Bearer ...); a paper session writes its token to control.token in "
                "its [paper] dir, readable by its owner only\n"};
      return true;
    }
    return false;
  }

  void respond() {
    const auto& r = parser_->get();
    HttpRequest req;
    req.method = std::string(r.method_string());
    req.target = std::string(r.target());
    req.body = r.body();
    if (auto it = r.find(http::field::authorization); it != r.end()) req.authorization = std::string(it->value());
    HttpResponse answer;
    try {
      answer = shared_->handler(req);
    } catch (const std::exception& e) {
      answer = {500, "text/plain; charset=utf-8", std::string(e.what()) + "\n"};
    }
    send(std::move(answer), r.keep_alive());
  }

  void send(HttpResponse answer, bool keep_alive) {
    response_ = {static_cast<http::status>(answer.status), parser_->get().version()};
    response_.set(http::field::server, "onepath");
    response_.set(http::field::content_type, answer.content_type);
    response_.keep_alive(keep_alive);
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
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

struct HttpServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, std::shared_ptr<Shared> s) : acceptor(io), backoff(io), shared(std::move(s)) {}
  void accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (!self->acceptor.is_open()) return;
      if (ec) {  // out of descriptors, most often: wait, do not spin
        log::warn("http_accept_failed", {{"error", ec.message()}});
        self->backoff.expires_after(kAcceptBackoff);
        self->backoff.async_wait([self](beast::error_code) {
          if (self->acceptor.is_open()) self->accept();
        });
        return;
      }
      if (self->shared->connections >= kMaxConnections) {
        beast::error_code ignored;
        socket.close(ignored);  // full: this one is turned away at once
      } else {
        std::make_shared<Connection>(std::move(socket), self->shared)->start();
      }
      self->accept();
    });
  }
  tcp::acceptor acceptor;
  asio::steady_timer backoff;
  std::shared_ptr<Shared> shared;
};

HttpServer::HttpServer(asio::io_context& io, const std::string& host, int port, std::string token, HttpHandler handler) {
  if (token.empty()) throw std::logic_error("an HTTP server needs a token for its control endpoints");
  auto shared = std::make_shared<Shared>();
  shared->handler = std::move(handler);
  shared->token = std::move(token);
  shared->open_reads = is_loopback_host(host);
  impl_ = std::make_shared<Impl>(io, shared);
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
  shared->port = std::to_string(a.local_endpoint().port());
  if (!address.is_unspecified()) shared->hosts = {address.is_v6() ? "[" + address.to_string() + "]" : address.to_string()};
  if (address.is_loopback()) shared->hosts.insert(shared->hosts.end(), {"localhost", "127.0.0.1", "[::1]"});
  impl_->accept();
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::stop() {
  beast::error_code ignored;
  if (impl_->acceptor.is_open()) impl_->acceptor.close(ignored);
}

}  // namespace onepath
