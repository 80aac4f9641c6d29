#pragma once
// The router's configuration: providers (wire format, base URL, key variable, models, tier,
// quotas, prices), concurrency and the retry policy. Read from a TOML file: its [ai] table
// when it has one (a RUN.toml), else the file's top level (an ai.toml). docs/ai-router.md
// is the reference; every key is checked, a misspelt one is an error naming it.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ai {

enum class Wire { openai, openai_compatible, anthropic, gemini };
const char* wire_name(Wire w);

// 0 means "no limit".
struct Quota {
  std::int64_t requests_day = 0, tokens_day = 0, requests_minute = 0, tokens_minute = 0;
};

struct Provider {
  std::string name;
  Wire wire = Wire::openai;
  std::string base_url;
  std::string key_env, key;  // the variable's name, and its value read at load ("" when unset)
  std::map<std::string, std::string> models;  // model class -> the provider's model name; "default" required
  int tier = 3;                               // 1 free, 2 subscription, 3 paid
  Quota quota;
  double price_in = 0, price_out = 0;  // USD per million input / output tokens
  std::int64_t timeout_ms = 60000;
  std::string anthropic_version = "2023-06-01";
};

struct RetryPolicy {
  int max_retries = 3;         // per provider, per task
  int task_retries = 6;        // per task over every provider: a fallback does not refill it
  std::int64_t base_ms = 1000; // backoff: base, 2 base, 4 base ... up to max_ms, plus jitter
  std::int64_t max_ms = 32000;
  std::int64_t jitter_ms = 3000;
  double time_scale = 1.0;     // every wait is multiplied by this (tests shrink time with it)
};

struct Config {
  std::string path;                 // the file it came from
  std::vector<Provider> providers;  // in routing order: tier, then price, then as written
  int concurrency = 10;
  RetryPolicy retry;
  std::string ledger;   // the quota ledger (SQLite); relative to the config file's folder
  std::string ca_file;  // extra CA certificates (PEM) for HTTPS, e.g. a local server's
};

// std::invalid_argument naming the file and the key.
Config load_config(const std::string& path);

// The model a provider uses for a model class: the class's entry, else "default".
std::string model_for(const Provider& p, const std::string& model_class);

}  // namespace ai
