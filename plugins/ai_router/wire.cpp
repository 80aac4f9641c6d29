#include "wire.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>

namespace ai {
namespace {

using json = nlohmann::json;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool contains(const std::string& hay, const char* needle) { return lower(hay).find(needle) != std::string::npos; }

const json* at(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string str(const json* j) { return j && j->is_string() ? j->get<std::string>() : std::string(); }

std::int64_t count(const json* j) {
  if (!j || !j->is_number()) return -1;
  const double v = j->get<double>();
  return std::isfinite(v) && v >= 0 && v < 1e15 ? static_cast<std::int64_t>(v) : -1;
}

// The user message: the hand-off context first, then the prompt.
std::string user_text(const Prompt& p) {
  if (p.context.empty()) return p.prompt;
  return "Context from an earlier task:\n" + p.context + "\n\n" + p.prompt;
}

// Gemini's google.rpc details: a RetryInfo delay, and whether a QuotaFailure is per day.
void read_google_details(const json& error, WireResult& r, bool& per_day) {
  const json* details = at(error, "details");
  if (!details || !details->is_array()) return;
  for (const json& d : *details) {
    const std::string type = str(at(d, "@type"));
    if (type.find("RetryInfo") != std::string::npos)
      r.retry_after_ms = std::max(r.retry_after_ms, parse_duration_ms(str(at(d, "retryDelay"))));
    if (type.find("QuotaFailure") != std::string::npos)
      if (const json* v = at(d, "violations"); v && v->is_array())
        for (const json& x : *v)
          if (contains(str(at(x, "quotaId")), "perday")) per_day = true;
  }
}

}  // namespace

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::ok: return "ok";
    case Outcome::retryable: return "retryable";
    case Outcome::fail_over: return "fail_over";
    case Outcome::exhausted_today: return "exhausted_today";
  }
  return "?";
}

WireRequest build_request(const Provider& p, const std::string& model, const Prompt& prompt) {
  WireRequest w;
  json body;
  switch (p.wire) {
    case Wire::openai:
    case Wire::openai_compatible: {
      w.target = "/v1/chat/completions";
      json messages = json::array();
      if (!prompt.system.empty()) messages.push_back({{"role", "system"}, {"content", prompt.system}});
      messages.push_back({{"role", "user"}, {"content", user_text(prompt)}});
      body = {{"model", model}, {"messages", messages}};
      // OpenAI's own API names the limit max_completion_tokens; compatible servers know max_tokens.
      body[p.wire == Wire::openai ? "max_completion_tokens" : "max_tokens"] = prompt.max_tokens;
      if (!p.key.empty()) w.headers.emplace_back("Authorization", "Bearer " + p.key);
      break;
    }
    case Wire::anthropic: {
      w.target = "/v1/messages";
      body = {{"model", model},
              {"max_tokens", prompt.max_tokens},
              {"messages", json::array({{{"role", "user"}, {"content", user_text(prompt)}}})}};
      if (!prompt.system.empty()) body["system"] = prompt.system;
      w.headers.emplace_back("x-api-key", p.key);
      w.headers.emplace_back("anthropic-version", p.anthropic_version);
      break;
    }
    case Wire::gemini: {
      w.target = "/v1beta/models/" + model + ":generateContent";
      body = {{"contents", json::array({{{"role", "user"}, {"parts", json::array({{{"text", user_text(prompt)}}})}}})},
              {"generationConfig", {{"maxOutputTokens", prompt.max_tokens}}}};
      if (!prompt.system.empty()) body["systemInstruction"] = {{"parts", json::array({{{"text", prompt.system}}})}};
      w.headers.emplace_back("x-goog-api-key", p.key);
      break;
    }
  }
  w.headers.emplace_back("Content-Type", "application/json");
  w.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return w;
}

std::int64_t parse_duration_ms(const std::string& s) {
  if (s.size() < 2 || s.back() != 's') return -1;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() - 1 || !std::isfinite(v) || v < 0 || v > 1e9) return -1;
  return static_cast<std::int64_t>(std::ceil(v * 1000));
}

std::int64_t retry_after_from_headers(const Headers& headers, std::int64_t now_ms) {
  std::int64_t best = -1;
  for (const auto& [name, value] : headers) {
    const std::string n = lower(name);
    if (n == "retry-after-ms") {
      char* end = nullptr;
      const double v = std::strtod(value.c_str(), &end);
      if (end != value.c_str() && std::isfinite(v) && v >= 0 && v < 1e12) best = std::max(best, static_cast<std::int64_t>(std::ceil(v)));
    } else if (n == "retry-after") {
      char* end = nullptr;
      const double v = std::strtod(value.c_str(), &end);
      if (end != value.c_str() && *end == '\0' && std::isfinite(v) && v >= 0 && v < 1e9) {
        best = std::max(best, static_cast<std::int64_t>(std::ceil(v * 1000)));
      } else {
        std::tm tm{};  // an HTTP date: "Wed, 21 Oct 2015 07:28:00 GMT"
        const char* rest = strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        if (rest && *rest == '\0') best = std::max(best, std::max<std::int64_t>(0, static_cast<std::int64_t>(timegm(&tm)) * 1000 - now_ms));
      }
    }
  }
  return best;
}

WireResult parse_response(const Provider& p, int status, const Headers& headers, const std::string& body, std::int64_t now_ms) {
  WireResult r;
  r.retry_after_ms = retry_after_from_headers(headers, now_ms);
  json j = json::parse(body, nullptr, false);
  if (status >= 200 && status < 300) {
    if (j.is_discarded() || !j.is_object()) {
      r.outcome = Outcome::retryable;
      r.error = "HTTP " + std::to_string(status) + " with a body that is not JSON";
      return r;
    }
    bool have_text = false;
    switch (p.wire) {
      case Wire::openai:
      case Wire::openai_compatible: {
        const json* choices = at(j, "choices");
        if (choices && choices->is_array() && !choices->empty())
          if (const json* m = at((*choices)[0], "message"); m && at(*m, "content") && (*m)["content"].is_string()) {
            r.text = (*m)["content"].get<std::string>();
            have_text = true;
          }
        const json* u = at(j, "usage");
        r.input_tokens = u ? count(at(*u, "prompt_tokens")) : -1;
        r.output_tokens = u ? count(at(*u, "completion_tokens")) : -1;
        break;
      }
      case Wire::anthropic: {
        if (const json* content = at(j, "content"); content && content->is_array()) {
          for (const json& block : *content)
            if (str(at(block, "type")) == "text") r.text += str(at(block, "text"));
          have_text = true;
        }
        const json* u = at(j, "usage");
        r.input_tokens = u ? count(at(*u, "input_tokens")) : -1;
        r.output_tokens = u ? count(at(*u, "output_tokens")) : -1;
        break;
      }
      case Wire::gemini: {
        const json* cands = at(j, "candidates");
        if (cands && cands->is_array() && !cands->empty())
          if (const json* c = at((*cands)[0], "content"))
            if (const json* parts = at(*c, "parts"); parts && parts->is_array()) {
              for (const json& part : *parts) r.text += str(at(part, "text"));
              have_text = true;
            }
        const json* u = at(j, "usageMetadata");
        r.input_tokens = u ? count(at(*u, "promptTokenCount")) : -1;
        r.output_tokens = u ? count(at(*u, "candidatesTokenCount")) : -1;
        break;
      }
    }
    if (!have_text) {
      r.outcome = Outcome::retryable;
      r.error = "HTTP " + std::to_string(status) + " without an answer in the body";
      return r;
    }
    r.outcome = Outcome::ok;
    return r;
  }

  // An error: the provider's own message when the body has one.
  std::string type, code, message;
  bool gemini_per_day = false;
  if (!j.is_discarded()) {
    if (const json* e = at(j, "error")) {
      if (e->is_object()) {
        type = str(at(*e, "type"));
        code = at(*e, "code") && (*e)["code"].is_string() ? (*e)["code"].get<std::string>() : str(at(*e, "status"));
        message = str(at(*e, "message"));
        read_google_details(*e, r, gemini_per_day);
      } else if (e->is_string()) {
        message = e->get<std::string>();
      }
    }
  }
  r.error = "HTTP " + std::to_string(status);
  if (!type.empty() || !code.empty()) r.error += " " + (type.empty() ? code : type + (code.empty() || code == type ? "" : "/" + code));
  if (!message.empty()) r.error += ": " + message.substr(0, 300);

  const bool spend_limit = contains(message, "credit balance") || contains(message, "spend limit") || contains(code, "spend_limit") ||
                           type == "billing_error";
  if (code == "insufficient_quota" || type == "insufficient_quota" || spend_limit || gemini_per_day) {
    r.outcome = Outcome::exhausted_today;
  } else if (status == 401 || status == 403) {
    r.outcome = Outcome::fail_over;
    r.auth = true;
  } else if (status == 429 || status == 408 || status == 409 || status == 500 || status == 502 || status == 503 || status == 504 ||
             status == 529) {
    r.outcome = Outcome::retryable;
  } else {
    r.outcome = Outcome::fail_over;  // 400, 404, 422 ...: this request will not work here
  }
  return r;
}

}  // namespace ai
