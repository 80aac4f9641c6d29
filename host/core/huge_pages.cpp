#include "core/huge_pages.hpp"

#include <sys/mman.h>

#include <cstdint>

namespace onepath {

void prefer_huge_pages(const void* data, std::size_t bytes) {
  constexpr std::uintptr_t kHuge = 2u << 20;
  if (!data || bytes < 2 * kHuge) return;
  // the whole 2 MB pages inside the buffer (malloc does not align large blocks to 2 MB)
  const std::uintptr_t begin = (reinterpret_cast<std::uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  const std::uintptr_t end = (reinterpret_cast<std::uintptr_t>(data) + bytes) & ~(kHuge - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

}  // namespace onepath
