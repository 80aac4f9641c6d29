#pragma once
// SHA-256 (OpenSSL), as lowercase hex. Used for feature-set versions, row hashes,
// snapshot checksums and config fingerprints.
#include <string>
#include <cstddef>
#include <string_view>

namespace onepath {

std::string sha256_hex(std::string_view bytes);

// Incremental: update() with pieces, then hex() once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t size);
  std::string hex();

 private:
  void* ctx_;  // EVP_MD_CTX, kept out of this header
};

}  // namespace onepath
