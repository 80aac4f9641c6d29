#pragma once
// SHA-256 (OpenSSL), as lowercase hex. Used for feature-set versions, row hashes,
// snapshot checksums and config fingerprints.
#include <string>
#include <string_view>

namespace onepath {

std::string sha256_hex(std::string_view bytes);

}  // namespace onepath
