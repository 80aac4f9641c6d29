#pragma once
// One JSON POST to a webhook (http:// or https://, a host name or an address): alerts to a
// chat bot, an incident tool or a script's own listener. TLS verifies the server's
// certificate against the system's CAs and its name. Beast stays in the .cpp.
#include <string>

namespace onepath {

struct WebhookReply {
  int status = 0;
  std::string body;  // the first 64 KB
};

// std::runtime_error naming the URL when it cannot resolve, connect, verify or finish
// within `timeout_ms`.
WebhookReply post_json(const std::string& url, const std::string& json_body, int timeout_ms = 10000);

}  // namespace onepath
