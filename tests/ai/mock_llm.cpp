#include "mock_llm.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <thread>

namespace mock {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

std::string wire_of(const std::string& target) {
  if (target.find("/v1/chat/completions") != std::string::npos) return "openai";
  if (target.find("/v1/messages") != std::string::npos) return "anthropic";
  if (target.find(":generateContent") != std::string::npos) return "gemini";
  return "";
}

std::string user_text(const std::string& wire, const json& body) {
  try {
    if (wire == "openai") return body["messages"].back()["content"].get<std::string>();
    if (wire == "anthropic") return body["messages"].back()["content"].get<std::string>();
    if (wire == "gemini") return body["contents"].back()["parts"][0]["text"].get<std::string>();
  } catch (...) {
  }
  return "";
}

std::string answer(const std::string& wire, const std::string& text, bool usage) {
  const std::int64_t in = static_cast<std::int64_t>(text.size() / 4 + 1), out = 5;
  json j;
  if (wire == "openai") {
    j = {{"id", "chatcmpl-1"}, {"object", "chat.completion"}, {"choices", json::array({{{"index", 0}, {"message", {{"role", "assistant"}, {"content", "echo: " + text}}}, {"finish_reason", "stop"}}})}};
    if (usage) j["usage"] = {{"prompt_tokens", in}, {"completion_tokens", out}, {"total_tokens", in + out}};
  } else if (wire == "anthropic") {
    j = {{"id", "msg_1"}, {"type", "message"}, {"role", "assistant"}, {"content", json::array({{{"type", "text"}, {"text", "echo: " + text}}})}, {"stop_reason", "end_turn"}};
    if (usage) j["usage"] = {{"input_tokens", in}, {"output_tokens", out}};
  } else {
    j = {{"candidates", json::array({{{"content", {{"role", "model"}, {"parts", json::array({{{"text", "echo: " + text}}})}}}, {"finishReason", "STOP"}}})}};
    if (usage) j["usageMetadata"] = {{"promptTokenCount", in}, {"candidatesTokenCount", out}, {"totalTokenCount", in + out}};
  }
  return j.dump();
}

}  // namespace

std::vector<Rule> rules_from_json(const json& j) {
  std::vector<Rule> rules;
  for (const auto& r : j) {
    Rule x;
    x.wire = r.value("wire", "*");
    x.status = r.value("status", 200);
    x.body = r.contains("body") ? (r["body"].is_string() ? r["body"].get<std::string>() : r["body"].dump()) : "";
    x.times = r.value("times", 1);
    x.delay_ms = r.value("delay_ms", 0);
    x.cut = r.value("cut", false);
    x.no_usage = r.value("no_usage", false);
    x.garbage = r.value("garbage", false);
    if (r.contains("headers"))
      for (const auto& [k, v] : r["headers"].items()) x.headers.emplace_back(k, v.get<std::string>());
    rules.push_back(x);
  }
  return rules;
}

struct Server::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::unique_ptr<asio::ssl::context> tls;
  int answer_delay_ms = 0;
  mutable std::mutex mu;
  std::vector<Rule> rules;
  std::vector<Request> log;
  std::map<std::string, int> counts;
  int total = 0, current = 0, peak = 0, hold = 0, stall = -1, admitted = 0;
  std::condition_variable changed;
  std::atomic<bool> stopping{false};
  std::thread accept_thread;
  std::vector<std::thread> workers;

  // Which rule answers this call (a copy), or none: the normal answer.
  std::optional<Rule> take(const std::string& wire) {
    std::lock_guard lock(mu);
    for (auto& r : rules)
      if (r.times > 0 && (r.wire == "*" || r.wire == wire)) {
        --r.times;
        return r;
      }
    return std::nullopt;
  }

  template <class Stream>
  void serve(Stream& stream) {
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    beast::error_code ec;
    http::read(stream, buffer, req, ec);
    if (ec) return;
    const std::string target(req.target());
    const std::string wire = wire_of(target);
    http::response<http::string_body> res{http::status::ok, 11};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::connection, "close");
    if (wire.empty()) {
      res.result(http::status::not_found);
      res.body() = R"({"error":{"message":"no such endpoint"}})";
      res.prepare_payload();
      http::write(stream, res, ec);
      return;
    }
    {
      std::lock_guard lock(mu);
      Request r{wire, target, {}, req.body()};
      for (const auto& f : req) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      log.push_back(std::move(r));
      ++counts[wire];
      ++total;
      peak = std::max(peak, ++current);
    }
    changed.notify_all();
    {
      std::unique_lock lock(mu);
      changed.wait_for(lock, std::chrono::seconds(5), [&] { return current >= hold || stopping; });
      if (stall >= 0 && admitted >= stall) {  // past the stall point: no answer, ever
        changed.wait_for(lock, std::chrono::seconds(120), [&] { return stopping.load(); });
        --current;
        return;
      }
      ++admitted;
    }
    const std::optional<Rule> rule = take(wire);
    const int delay = rule ? rule->delay_ms : answer_delay_ms;
    if (delay > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    json body = json::parse(req.body(), nullptr, false);
    if (!rule || (rule->status == 200 && !rule->cut && !rule->garbage)) {
      res.body() = answer(wire, user_text(wire, body), !(rule && rule->no_usage));
    } else if (rule->garbage) {
      res.body() = "<html>502 Bad Gateway</html>";
    } else {
      res.result(static_cast<unsigned>(rule->status));
      res.body() = rule->body.empty() ? R"({"error":{"message":"scripted failure","type":"server_error"}})" : rule->body;
    }
    if (rule)
      for (const auto& [k, v] : rule->headers) res.set(k, v);
    res.prepare_payload();
    if (rule && rule->cut) {  // the head and part of the body, then the connection goes
      http::response_serializer<http::string_body> sr{res};
      res.body() = std::string(200, 'x');
      res.prepare_payload();
      http::write_header(stream, sr, ec);
      asio::write(stream, asio::buffer(res.body().data(), 20), ec);
    } else {
      http::write(stream, res, ec);
    }
    std::lock_guard lock(mu);
    --current;
    hold = 0;  // once reached, the hold is over: the calls drain
  }

  void handle(tcp::socket socket) {
    if (tls) {
      asio::ssl::stream<tcp::socket> s(std::move(socket), *tls);
      beast::error_code ec;
      s.handshake(asio::ssl::stream_base::server, ec);
      if (!ec) serve(s);
      s.lowest_layer().close(ec);
    } else {
      serve(socket);
      beast::error_code ec;
      socket.shutdown(tcp::socket::shutdown_both, ec);
    }
  }
};

Server::Server(std::vector<Rule> rules, std::string cert, std::string key, int answer_delay_ms) : impl_(std::make_unique<Impl>()) {
  impl_->rules = std::move(rules);
  impl_->answer_delay_ms = answer_delay_ms;
  if (!cert.empty()) {
    impl_->tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    impl_->tls->use_certificate_chain_file(cert);
    impl_->tls->use_private_key_file(key, asio::ssl::context::pem);
  }
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen(512);
  impl_->accept_thread = std::thread([m = impl_.get()] {
    for (;;) {
      beast::error_code ec;
      tcp::socket s(m->io);
      m->acceptor.accept(s, ec);
      if (m->stopping) return;
      if (ec) continue;
      std::lock_guard lock(m->mu);
      m->workers.emplace_back([m, sock = std::move(s)]() mutable { m->handle(std::move(sock)); });
    }
  });
}

Server::~Server() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->changed.notify_all();  // held and stalled calls end now
  beast::error_code ec;
  {  // wake the blocking accept with a connection of our own
    tcp::socket s(impl_->io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port())), ec);
  }
  impl_->accept_thread.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(impl_->mu);
    workers.swap(impl_->workers);
  }
  for (auto& t : workers) t.join();
}

int Server::port() const { return impl_->acceptor.local_endpoint().port(); }
std::string Server::url() const { return std::string(impl_->tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port()); }
int Server::calls() const {
  std::lock_guard lock(impl_->mu);
  return impl_->total;
}
int Server::calls(const std::string& wire) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->counts.find(wire);
  return it == impl_->counts.end() ? 0 : it->second;
}
int Server::max_concurrent() const {
  std::lock_guard lock(impl_->mu);
  return impl_->peak;
}
std::vector<Request> Server::requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->log;
}
void Server::stall_after(int answers) {
  std::lock_guard lock(impl_->mu);
  impl_->stall = answers;
}

void Server::hold_until(int calls) {
  std::lock_guard lock(impl_->mu);
  impl_->hold = calls;
}

void Server::set_rules(std::vector<Rule> rules) {
  std::lock_guard lock(impl_->mu);
  impl_->rules = std::move(rules);
}

}  // namespace mock
