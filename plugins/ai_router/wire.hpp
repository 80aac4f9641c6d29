#pragma once
// The providers' wire formats: the HTTP request for a task, and what a response means
// (the answer and its usage, or a failure classified as retryable, fail-over or
// exhausted-for-the-day, with the provider's own retry hints). Pure functions, no I/O.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config.hpp"

namespace ai {

using Headers = std::vector<std::pair<std::string, std::string>>;  // names in lower case when parsed

struct Prompt {
  std::string system, context, prompt;  // context: a parent task's hand-off, sent before the prompt
  int max_tokens = 256;
};

struct WireRequest {
  std::string target;  // path and query below the provider's base URL
  Headers headers;
  std::string body;
};

WireRequest build_request(const Provider& p, const std::string& model, const Prompt& prompt);

enum class Outcome {
  ok,
  retryable,        // rate limited, overloaded, 5xx, cut, timed out, unparseable: back off and try again
  fail_over,        // this provider cannot do this task (400, 401, 403): the next provider, at once
  exhausted_today,  // the provider's daily quota or spend limit is gone: no more calls to it until 00:00 UTC
};
const char* outcome_name(Outcome o);

struct WireResult {
  Outcome outcome = Outcome::retryable;
  std::string text;                  // the answer
  std::int64_t input_tokens = -1;    // -1: the response did not say
  std::int64_t output_tokens = -1;
  std::string error;                 // what went wrong, from the provider's own error body when it has one
  std::int64_t retry_after_ms = -1;  // the provider's hint (headers or body), -1 when none
  bool auth = false;                 // 401/403: the key itself is refused
};

// `now_ms` converts an HTTP-date retry-after into a delay.
WireResult parse_response(const Provider& p, int status, const Headers& headers, const std::string& body, std::int64_t now_ms);

// Retry hints alone: retry-after (seconds or an HTTP date), retry-after-ms; the latest wins.
std::int64_t retry_after_from_headers(const Headers& headers, std::int64_t now_ms);
// "34s", "1.5s", "0.250s" (a protobuf Duration in JSON) -> ms; -1 when not one.
std::int64_t parse_duration_ms(const std::string& s);

}  // namespace ai
