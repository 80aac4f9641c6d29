#include "net/webhook.hpp"

#include <openssl/ssl.h>

#include <utility>  // before Asio: Boost's headers use std::exchange

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <exception>
#include <stdexcept>

namespace onepath {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct Url {
  bool tls = false;
  std::string host, port, target;
};

Url parse(const std::string& url) {
  Url u;
  std::string rest;
  if (url.starts_with("https://")) u.tls = true, rest = url.substr(8);
  else if (url.starts_with("http://")) rest = url.substr(7);
  else throw std::runtime_error("webhook '" + url + "': an http:// or https:// URL");
  const auto slash = rest.find('/');
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string authority = rest.substr(0, slash);
  if (authority.starts_with("[")) {  // [IPv6]:port
    const auto close = authority.find(']');
    if (close == std::string::npos) throw std::runtime_error("webhook '" + url + "': an unclosed [IPv6] address");
    u.host = authority.substr(1, close - 1);
    u.port = close + 2 <= authority.size() && authority[close + 1] == ':' ? authority.substr(close + 2) : "";
  } else if (const auto colon = authority.rfind(':'); colon != std::string::npos) {
    u.host = authority.substr(0, colon), u.port = authority.substr(colon + 1);
  } else {
    u.host = authority;
  }
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  if (u.host.empty()) throw std::runtime_error("webhook '" + url + "': no host");
  return u;
}

using asio::use_awaitable;

template <class Stream>
asio::awaitable<WebhookReply> exchange(Stream& stream, const Url& u, const std::string& body) {
  http::request<http::string_body> req{http::verb::post, u.target, 11};
  req.set(http::field::host, u.host);
  req.set(http::field::user_agent, "onepath-alerts");
  req.set(http::field::content_type, "application/json");
  req.set(http::field::connection, "close");
  req.body() = body;
  req.prepare_payload();
  co_await http::async_write(stream, req, use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  co_await http::async_read(stream, buffer, parser, use_awaitable);
  WebhookReply r;
  r.status = static_cast<int>(parser.get().result_int());
  r.body = parser.get().body().substr(0, 64 * 1024);
  co_return r;
}

// Every step under one deadline (the stream's expiry); async because Beast's timeouts
// apply to asynchronous operations only.
asio::awaitable<WebhookReply> post(Url u, std::string body, std::chrono::milliseconds timeout) {
  auto ex = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(ex);
  const auto endpoints = co_await resolver.async_resolve(u.host, u.port, use_awaitable);
  if (!u.tls) {
    beast::tcp_stream stream(ex);
    stream.expires_after(timeout);
    co_await stream.async_connect(endpoints, use_awaitable);
    co_return co_await exchange(stream, u, body);
  }
  asio::ssl::context ctx{asio::ssl::context::tls_client};
  ctx.set_default_verify_paths();
  ctx.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(ex, ctx);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str())) throw std::runtime_error("TLS: cannot set the server name");
  stream.set_verify_callback(asio::ssl::host_name_verification(u.host));
  beast::get_lowest_layer(stream).expires_after(timeout);
  co_await beast::get_lowest_layer(stream).async_connect(endpoints, use_awaitable);
  co_await stream.async_handshake(asio::ssl::stream_base::client, use_awaitable);
  co_return co_await exchange(stream, u, body);
}

}  // namespace

WebhookReply post_json(const std::string& url, const std::string& json_body, int timeout_ms) {
  const Url u = parse(url);
  asio::io_context io;
  WebhookReply reply;
  std::exception_ptr failure;
  asio::co_spawn(io, post(u, json_body, std::chrono::milliseconds(timeout_ms)), [&](std::exception_ptr e, WebhookReply r) {
    failure = e;
    reply = std::move(r);
  });
  io.run();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error("webhook " + u.host + ":" + u.port + ": " + e.code().message());
    }
  }
  return reply;
}

}  // namespace onepath
