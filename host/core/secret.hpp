#pragma once
// Secrets on disk: a random token, and a file only its owner can read (a session's control
// token beside its snapshot).
#include <string>
#include <string_view>

namespace onepath {

// 32 random bytes from the kernel, as 64 hex digits.
std::string random_token();

// Writes `content` to `path` with mode 0600, whole or not at all: a new file made under
// another name (never following a link someone left there), then renamed over `path`.
// Throws std::runtime_error naming the path.
void write_private_file(const std::string& path, std::string_view content);

}  // namespace onepath
