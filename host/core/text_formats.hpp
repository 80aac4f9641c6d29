#pragma once
// Text that must stay valid whatever it carries: a JSON string literal (quotes,
// backslashes and control characters escaped, NUL included; bytes that are not UTF-8
// become U+FFFD) and a CSV field (RFC 4180: quoted when it holds a comma, a quote or a
// line break, its quotes doubled) and HTML text or attribute value (& < > " escaped). Every
// writer of JSON, CSV or HTML uses these for text.
#include <string>
#include <string_view>

namespace onepath {

std::string json_quote(std::string_view text);
std::string csv_field(std::string_view text);
std::string html_escape(std::string_view text);

}  // namespace onepath
