#include "http.hpp"

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace ai {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::use_awaitable;

template <class Stream>
asio::awaitable<HttpResponse> exchange(Stream& stream, const Url& url, const std::string& target, const Headers& headers,
                                       const std::string& body) {
  http::request<http::string_body> req{http::verb::post, url.prefix + target, 11};
  const bool default_port = (url.tls && url.port == "443") || (!url.tls && url.port == "80");
  req.set(http::field::host, default_port ? url.host : url.host + ":" + url.port);
  req.set(http::field::user_agent, "onepath-ai-router");
  req.set(http::field::connection, "close");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  co_await http::async_write(stream, req, use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64u << 20);
  co_await http::async_read(stream, buffer, parser, use_awaitable);
  HttpResponse r;
  r.status = static_cast<int>(parser.get().result_int());
  for (const auto& f : parser.get()) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  r.body = std::move(parser.get().body());
  co_return r;
}

std::string describe(const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  if (ec == http::error::end_of_stream || ec == http::error::partial_message || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == asio::error::broken_pipe)
    return "connection cut mid-response (" + ec.message() + ")";
  if (ec == asio::error::connection_refused) return "connection refused";
  if (ec.category() == asio::error::get_ssl_category() || ec.category() == asio::ssl::error::get_stream_category())
    return "TLS: " + ec.message();
  return ec.message();
}

}  // namespace

Url parse_url(const std::string& s) {
  Url u;
  std::string rest;
  if (s.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = s.substr(8);
  } else if (s.rfind("http://", 0) == 0) {
    rest = s.substr(7);
  } else {
    throw std::invalid_argument("'" + s + "' is not an http:// or https:// URL");
  }
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.prefix = slash == std::string::npos ? "" : rest.substr(slash);
  while (!u.prefix.empty() && u.prefix.back() == '/') u.prefix.pop_back();
  const auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    u.host = authority.substr(0, colon);
    u.port = authority.substr(colon + 1);
  } else {
    u.host = authority;
    u.port = u.tls ? "443" : "80";
  }
  if (u.host.empty() || u.port.empty() || u.port.find_first_not_of("0123456789") != std::string::npos)
    throw std::invalid_argument("'" + s + "': no host, or a port that is not a number");
  return u;
}

struct TlsContext::Impl {
  asio::ssl::context ctx{asio::ssl::context::tls_client};
};

TlsContext::TlsContext(const std::string& ca_file) : impl_(std::make_unique<Impl>()) {
  impl_->ctx.set_default_verify_paths();
  impl_->ctx.set_verify_mode(asio::ssl::verify_peer);
  if (!ca_file.empty()) {
    boost::system::error_code ec;
    impl_->ctx.load_verify_file(ca_file, ec);
    if (ec) throw std::invalid_argument("ca_file '" + ca_file + "': " + ec.message());
  }
}
TlsContext::~TlsContext() = default;
void* TlsContext::native() const { return &impl_->ctx; }

asio::awaitable<HttpResponse> http_post(const TlsContext& tls, const Url& url, const std::string& target, const Headers& headers,
                                        const std::string& body, std::chrono::milliseconds timeout) {
  auto ex = co_await asio::this_coro::executor;
  boost::system::error_code failure;
  try {
    asio::ip::tcp::resolver resolver(ex);
    const auto endpoints = co_await resolver.async_resolve(url.host, url.port, use_awaitable);
    if (!url.tls) {
      beast::tcp_stream stream(ex);
      stream.expires_after(timeout);  // one deadline for everything below
      co_await stream.async_connect(endpoints, use_awaitable);
      co_return co_await exchange(stream, url, target, headers, body);
    }
    beast::ssl_stream<beast::tcp_stream> stream(ex, *static_cast<asio::ssl::context*>(tls.native()));
    if (!SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str())) throw TransportError("TLS: cannot set the server name");
    stream.set_verify_callback(asio::ssl::host_name_verification(url.host));
    beast::get_lowest_layer(stream).expires_after(timeout);
    co_await beast::get_lowest_layer(stream).async_connect(endpoints, use_awaitable);
    co_await stream.async_handshake(asio::ssl::stream_base::client, use_awaitable);
    co_return co_await exchange(stream, url, target, headers, body);
  } catch (const boost::system::system_error& e) {
    failure = e.code();
  }
  throw TransportError(url.host + ":" + url.port + ": " + describe(failure));
}

}  // namespace ai
