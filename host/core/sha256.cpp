#include "core/sha256.hpp"

#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

namespace onepath {

namespace {
std::string to_hex(const unsigned char* digest, unsigned length) {
  static const char* hex = "0123456789abcdef";
  std::string out(2 * length, '0');
  for (unsigned i = 0; i < length; ++i) out[2 * i] = hex[digest[i] >> 4], out[2 * i + 1] = hex[digest[i] & 15];
  return out;
}

// Fetched once: OpenSSL 3 otherwise looks the algorithm up (under a lock) on every init.
const EVP_MD* sha256_md() {
  static const EVP_MD* md = [] {
    const EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return m ? m : EVP_sha256();
  }();
  return md;
}
}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), sha256_md(), nullptr) != 1) throw std::runtime_error("SHA-256 failed");
}
Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
void Sha256::update(const void* data, std::size_t size) {
  if (EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, size) != 1) throw std::runtime_error("SHA-256 failed");
}
std::string Sha256::hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), digest, &length) != 1) throw std::runtime_error("SHA-256 failed");
  return to_hex(digest, length);
}

std::string sha256_hex(std::string_view bytes) {
  // One context per thread, reused: creating one per call costs more than hashing a row.
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), sha256_md(), nullptr) != 1 || EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1)
    throw std::runtime_error("SHA-256 failed");
  return to_hex(digest, length);
}

}  // namespace onepath
