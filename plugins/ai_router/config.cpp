#include "config.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <toml++/toml.h>

namespace ai {
namespace {

[[noreturn]] void fail(const std::string& file, const std::string& key, const std::string& what) {
  throw std::invalid_argument(file + ": " + key + ": " + what);
}

class Table {
 public:
  Table(const toml::table& t, std::string file, std::string at) : t_(t), file_(std::move(file)), at_(std::move(at)) {}
  void only(std::initializer_list<std::string_view> keys) const {
    for (const auto& [k, v] : t_) {
      if (std::find(keys.begin(), keys.end(), k.str()) != keys.end()) continue;
      std::string list;
      for (auto x : keys) list += (list.empty() ? "" : ", ") + std::string(x);
      fail(file_, path(std::string(k.str())), "unknown key (known: " + list + ")");
    }
  }
  std::string path(const std::string& k) const { return at_.empty() ? k : at_ + "." + k; }
  std::string text(const char* k, std::string fallback) const {
    const toml::node* n = t_.get(k);
    if (!n) return fallback;
    if (!n->is_string()) fail(file_, path(k), "must be a string");
    return n->value_or(std::string());
  }
  double number(const char* k, double fallback, double lo, double hi) const {
    const toml::node* n = t_.get(k);
    if (!n) return fallback;
    std::optional<double> v = n->is_integer() ? std::optional<double>(static_cast<double>(*n->value<std::int64_t>()))
                                              : n->value<double>();
    if (!v || !n->is_number()) fail(file_, path(k), "must be a number");
    if (!std::isfinite(*v) || *v < lo || *v > hi)
      fail(file_, path(k), "= " + std::to_string(*v) + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return *v;
  }
  std::int64_t whole(const char* k, std::int64_t fallback, std::int64_t lo, std::int64_t hi) const {
    const toml::node* n = t_.get(k);
    if (!n) return fallback;
    if (!n->is_integer()) fail(file_, path(k), "must be a whole number");
    const std::int64_t v = *n->value<std::int64_t>();
    if (v < lo || v > hi) fail(file_, path(k), "= " + std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return v;
  }
  const toml::node* get(const char* k) const { return t_.get(k); }
  const std::string& file() const { return file_; }

 private:
  const toml::table& t_;
  std::string file_, at_;
};

Wire parse_wire(const Table& t, const std::string& s) {
  if (s == "openai") return Wire::openai;
  if (s == "openai-compatible") return Wire::openai_compatible;
  if (s == "anthropic") return Wire::anthropic;
  if (s == "gemini") return Wire::gemini;
  fail(t.file(), t.path("wire"), "'" + s + "' is not one of openai, openai-compatible, anthropic, gemini");
}

int parse_tier(const Table& t) {
  const toml::node* n = t.get("tier");
  if (!n) return 3;
  if (n->is_string()) {
    const std::string s = n->value_or(std::string());
    if (s == "free") return 1;
    if (s == "subscription") return 2;
    if (s == "paid") return 3;
    fail(t.file(), t.path("tier"), "'" + s + "' is not one of free, subscription, paid (or 1, 2, 3)");
  }
  return static_cast<int>(t.whole("tier", 3, 1, 3));
}

// http://127.0.0.1:8080/v1, http://localhost, http://[::1]:8080
bool loopback_url(const std::string& url) {
  std::string host = url.substr(url.find("://") + 3);
  host = host.substr(0, host.find('/'));
  if (host.starts_with("[")) return host.starts_with("[::1]");
  host = host.substr(0, host.find(':'));
  return host == "localhost" || host.starts_with("127.");
}

Provider parse_provider(const toml::table& pt, const std::string& file, const std::string& at) {
  Table t(pt, file, at);
  t.only({"name", "wire", "base_url", "key_env", "models", "tier", "requests_per_day", "tokens_per_day", "requests_per_minute",
          "tokens_per_minute", "price_in", "price_out", "timeout_ms", "anthropic_version"});
  Provider p;
  p.name = t.text("name", "");
  if (p.name.empty()) fail(file, t.path("name"), "every provider needs a name");
  p.wire = parse_wire(t, t.text("wire", ""));
  p.base_url = t.text("base_url", "");
  while (!p.base_url.empty() && p.base_url.back() == '/') p.base_url.pop_back();
  if (p.base_url.rfind("http://", 0) != 0 && p.base_url.rfind("https://", 0) != 0)
    fail(file, t.path("base_url"), "'" + p.base_url + "' must start with http:// or https://");
  p.key_env = t.text("key_env", "");
  if (p.key_env.empty() && p.wire != Wire::openai_compatible)
    fail(file, t.path("key_env"), "the environment variable that holds this provider's API key is required");
  if (!p.key_env.empty())
    if (const char* v = std::getenv(p.key_env.c_str())) p.key = v;
  // A key over plain HTTP crosses the network readable: only to a server on this machine.
  if (!p.key.empty() && p.base_url.rfind("http://", 0) == 0 && !loopback_url(p.base_url))
    fail(file, t.path("base_url"), "'" + p.base_url + "' is plain HTTP off this machine: the key in " + p.key_env +
                                       " would be sent readable; use https://");
  if (const toml::node* m = t.get("models")) {
    if (const toml::table* mt = m->as_table()) {
      for (const auto& [k, v] : *mt) {
        if (!v.is_string()) fail(file, t.path("models." + std::string(k.str())), "must be a model name");
        p.models[std::string(k.str())] = v.value_or(std::string());
      }
    } else if (m->is_string()) {
      p.models["default"] = m->value_or(std::string());
    } else {
      fail(file, t.path("models"), "a model name, or a table of model class = model name");
    }
  }
  if (!p.models.count("default")) fail(file, t.path("models"), "needs a \"default\" model");
  p.tier = parse_tier(t);
  const std::int64_t big = std::int64_t(1) << 50;
  p.quota.requests_day = t.whole("requests_per_day", 0, 0, big);
  p.quota.tokens_day = t.whole("tokens_per_day", 0, 0, big);
  p.quota.requests_minute = t.whole("requests_per_minute", 0, 0, big);
  p.quota.tokens_minute = t.whole("tokens_per_minute", 0, 0, big);
  p.price_in = t.number("price_in", 0, 0, 1e6);
  p.price_out = t.number("price_out", 0, 0, 1e6);
  p.timeout_ms = t.whole("timeout_ms", 60000, 1, 3600000);
  p.anthropic_version = t.text("anthropic_version", p.anthropic_version);
  return p;
}

}  // namespace

const char* wire_name(Wire w) {
  switch (w) {
    case Wire::openai: return "openai";
    case Wire::openai_compatible: return "openai-compatible";
    case Wire::anthropic: return "anthropic";
    case Wire::gemini: return "gemini";
  }
  return "?";
}

std::string model_for(const Provider& p, const std::string& model_class) {
  auto it = p.models.find(model_class);
  return it != p.models.end() ? it->second : p.models.at("default");
}

Config load_config(const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw std::invalid_argument(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  const bool in_run_toml = root.contains("ai");
  const toml::table* ai = in_run_toml ? root["ai"].as_table() : &root;
  if (!ai) fail(path, "ai", "must be a table");
  Table t(*ai, path, in_run_toml ? "ai" : "");
  t.only({"providers", "concurrency", "retry", "ledger", "ca_file"});
  Config c;
  c.path = path;
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  auto beside = [&](const std::string& p) {
    return p.empty() || p[0] == '/' || p.find("://") != std::string::npos ? p : (dir / p).lexically_normal().string();
  };
  c.concurrency = static_cast<int>(t.whole("concurrency", 10, 1, 1000));
  c.ledger = beside(t.text("ledger", "runs/ai.db"));
  c.ca_file = beside(t.text("ca_file", ""));
  if (const toml::node* r = t.get("retry")) {
    if (!r->is_table()) fail(path, t.path("retry"), "must be a table");
    Table rt(*r->as_table(), path, t.path("retry"));
    rt.only({"max_retries", "task_retries", "base_ms", "max_ms", "jitter_ms", "time_scale"});
    c.retry.max_retries = static_cast<int>(rt.whole("max_retries", 3, 0, 10));
    c.retry.task_retries = static_cast<int>(rt.whole("task_retries", 6, 0, 100));
    c.retry.base_ms = rt.whole("base_ms", 1000, 0, 3600000);
    c.retry.max_ms = rt.whole("max_ms", 32000, c.retry.base_ms, 3600000);
    c.retry.jitter_ms = rt.whole("jitter_ms", 3000, 0, 3600000);
    c.retry.time_scale = rt.number("time_scale", 1.0, 0.0, 1.0);
  }
  const toml::node* ps = t.get("providers");
  const toml::array* arr = ps ? ps->as_array() : nullptr;
  if (!arr || arr->empty()) fail(path, t.path("providers"), "at least one [[" + t.path("providers") + "]] table is required");
  std::set<std::string> names;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const std::string at = t.path("providers") + "[" + std::to_string(i) + "]";
    const toml::table* pt = (*arr)[i].as_table();
    if (!pt) fail(path, at, "must be a table");
    Provider p = parse_provider(*pt, path, at);
    if (!names.insert(p.name).second) fail(path, at + ".name", "'" + p.name + "' is used twice");
    c.providers.push_back(std::move(p));
  }
  // Routing order: the cheapest tier first; within a tier the lower price, then as written.
  std::stable_sort(c.providers.begin(), c.providers.end(), [](const Provider& a, const Provider& b) {
    if (a.tier != b.tier) return a.tier < b.tier;
    return a.price_in + a.price_out < b.price_in + b.price_out;
  });
  return c;
}

}  // namespace ai
