// The wire formats: requests as the providers' API references describe them, and every
// failure classified as the router needs it (retryable, fail over, exhausted for the day).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "wire.hpp"

using namespace ai;
using json = nlohmann::json;

namespace {

Provider provider(Wire w) {
  Provider p;
  p.name = "p";
  p.wire = w;
  p.base_url = "http://127.0.0.1:1";
  p.key = "sk-secret-1234";
  p.models["default"] = "m1";
  return p;
}

std::string header(const WireRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

const std::int64_t kNow = 1764662400000;  // 2025-12-02T08:00:00Z

}  // namespace

TEST_CASE("wire: OpenAI chat completions request and usage") {
  const Provider p = provider(Wire::openai);
  const WireRequest r = build_request(p, "gpt-4o-mini", {"be brief", "", "hello", 64});
  CHECK(r.target == "/v1/chat/completions");
  CHECK(header(r, "Authorization") == "Bearer sk-secret-1234");
  const json b = json::parse(r.body);
  CHECK(b["model"] == "gpt-4o-mini");
  CHECK(b["messages"][0]["role"] == "system");
  CHECK(b["messages"][1]["content"] == "hello");
  CHECK(b["max_completion_tokens"] == 64);
  const WireResult ok = parse_response(p, 200, {},
                                       R"({"choices":[{"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":12,"completion_tokens":3}})",
                                       kNow);
  CHECK(ok.outcome == Outcome::ok);
  CHECK(ok.text == "hi");
  CHECK(ok.input_tokens == 12);
  CHECK(ok.output_tokens == 3);
  // a compatible server gets max_tokens, and no Authorization header without a key
  Provider local = provider(Wire::openai_compatible);
  local.key.clear();
  const WireRequest lr = build_request(local, "llama", {"", "", "hello", 64});
  CHECK(json::parse(lr.body)["max_tokens"] == 64);
  CHECK(header(lr, "Authorization").empty());
}

TEST_CASE("wire: Anthropic messages request and usage") {
  const Provider p = provider(Wire::anthropic);
  const WireRequest r = build_request(p, "claude-3-5-haiku-latest", {"be brief", "earlier answer", "hello", 100});
  CHECK(r.target == "/v1/messages");
  CHECK(header(r, "x-api-key") == "sk-secret-1234");
  CHECK(header(r, "anthropic-version") == "2023-06-01");
  const json b = json::parse(r.body);
  CHECK(b["max_tokens"] == 100);
  CHECK(b["system"] == "be brief");
  const std::string user = b["messages"][0]["content"];
  CHECK(user.find("earlier answer") != std::string::npos);  // the hand-off context goes before the prompt
  CHECK(user.find("hello") > user.find("earlier answer"));
  const WireResult ok =
      parse_response(p, 200, {}, R"({"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}],"usage":{"input_tokens":7,"output_tokens":2}})", kNow);
  CHECK(ok.outcome == Outcome::ok);
  CHECK(ok.text == "ab");
  CHECK(ok.input_tokens == 7);
}

TEST_CASE("wire: Gemini generateContent request and usageMetadata") {
  const Provider p = provider(Wire::gemini);
  const WireRequest r = build_request(p, "gemini-2.0-flash", {"sys", "", "hello", 50});
  CHECK(r.target == "/v1beta/models/gemini-2.0-flash:generateContent");
  CHECK(header(r, "x-goog-api-key") == "sk-secret-1234");
  const json b = json::parse(r.body);
  CHECK(b["contents"][0]["parts"][0]["text"] == "hello");
  CHECK(b["generationConfig"]["maxOutputTokens"] == 50);
  CHECK(b["systemInstruction"]["parts"][0]["text"] == "sys");
  const WireResult ok = parse_response(
      p, 200, {}, R"({"candidates":[{"content":{"parts":[{"text":"yo"}]}}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":1}})", kNow);
  CHECK(ok.outcome == Outcome::ok);
  CHECK(ok.text == "yo");
  CHECK(ok.output_tokens == 1);
}

TEST_CASE("wire: an answer without usage says so, and a body that is not JSON is retryable") {
  const Provider p = provider(Wire::openai);
  const WireResult r = parse_response(p, 200, {}, R"({"choices":[{"message":{"content":"x"}}]})", kNow);
  CHECK(r.outcome == Outcome::ok);
  CHECK(r.input_tokens == -1);
  CHECK(parse_response(p, 200, {}, "<html>", kNow).outcome == Outcome::retryable);
  CHECK(parse_response(p, 200, {}, "{}", kNow).outcome == Outcome::retryable);
}

TEST_CASE("wire: retryable statuses") {
  for (Wire w : {Wire::openai, Wire::anthropic, Wire::gemini})
    for (int status : {429, 500, 502, 503, 504, 529}) {
      CAPTURE(status);
      CHECK(parse_response(provider(w), status, {}, R"({"error":{"message":"busy"}})", kNow).outcome == Outcome::retryable);
    }
  const WireResult overloaded =
      parse_response(provider(Wire::anthropic), 529, {}, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})", kNow);
  CHECK(overloaded.outcome == Outcome::retryable);
  CHECK(overloaded.error.find("overloaded_error") != std::string::npos);
}

TEST_CASE("wire: non-retryable failures fail over at once") {
  const Provider p = provider(Wire::openai);
  const WireResult auth = parse_response(p, 401, {}, R"({"error":{"message":"Incorrect API key","type":"invalid_request_error"}})", kNow);
  CHECK(auth.outcome == Outcome::fail_over);
  CHECK(auth.auth);
  CHECK(parse_response(p, 403, {}, "{}", kNow).outcome == Outcome::fail_over);
  CHECK(parse_response(p, 400, {}, R"({"error":{"message":"bad"}})", kNow).outcome == Outcome::fail_over);
  // OpenAI's insufficient_quota comes as a 429 but is not a rate limit
  CHECK(parse_response(p, 429, {}, R"({"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}})", kNow)
            .outcome == Outcome::exhausted_today);
  // Anthropic's spend limit and credit balance
  CHECK(parse_response(provider(Wire::anthropic), 400, {},
                       R"({"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}})", kNow)
            .outcome == Outcome::exhausted_today);
  CHECK(parse_response(provider(Wire::anthropic), 429, {},
                       R"({"type":"error","error":{"type":"rate_limit_error","message":"You have reached your specified workspace API usage limits (spend limit)."}})", kNow)
            .outcome == Outcome::exhausted_today);
}

TEST_CASE("wire: Gemini quota violations: per day is exhausted, per minute is retryable with RetryInfo") {
  const Provider p = provider(Wire::gemini);
  const WireResult day = parse_response(p, 429, {}, R"({"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"quota","details":[
      {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generate_content_free_tier_requests","quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]},
      {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"43s"}]}})", kNow);
  CHECK(day.outcome == Outcome::exhausted_today);
  const WireResult minute = parse_response(p, 429, {}, R"({"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"quota","details":[
      {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
      {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"7.5s"}]}})", kNow);
  CHECK(minute.outcome == Outcome::retryable);
  CHECK(minute.retry_after_ms == 7500);
}

TEST_CASE("wire: retry hints: retry-after in seconds and as an HTTP date, retry-after-ms, the latest wins") {
  CHECK(retry_after_from_headers({{"retry-after", "3"}}, kNow) == 3000);
  CHECK(retry_after_from_headers({{"retry-after-ms", "250"}}, kNow) == 250);
  CHECK(retry_after_from_headers({{"retry-after", "2"}, {"retry-after-ms", "2500"}}, kNow) == 2500);
  // kNow is 2025-12-02T08:00:00Z; the date is 90 s later
  CHECK(retry_after_from_headers({{"retry-after", "Tue, 02 Dec 2025 08:01:30 GMT"}}, kNow) == 90000);
  CHECK(retry_after_from_headers({{"retry-after", "Tue, 02 Dec 2025 07:00:00 GMT"}}, kNow) == 0);  // in the past
  CHECK(retry_after_from_headers({{"retry-after", "soon"}}, kNow) == -1);
  CHECK(parse_duration_ms("34s") == 34000);
  CHECK(parse_duration_ms("0.250s") == 250);
  CHECK(parse_duration_ms("34") == -1);
  const WireResult r = parse_response(provider(Wire::openai), 429, {{"retry-after", "5"}}, "{}", kNow);
  CHECK(r.retry_after_ms == 5000);
}
