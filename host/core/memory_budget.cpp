#include "core/memory_budget.hpp"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <fmt/core.h>

#include "core/error.hpp"

namespace onepath {
namespace {

std::size_t physical_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) : std::size_t{8} << 30;
}

std::atomic<std::size_t>& budget() {
  static std::atomic<std::size_t> b{physical_bytes() / 10 * 8};
  return b;
}

std::string megabytes(double bytes) { return fmt::format("{:.0f} MB", std::ceil(bytes / (1 << 20))); }

}  // namespace

void set_memory_budget(std::size_t bytes) { budget() = bytes; }
std::size_t memory_budget() { return budget(); }

void check_memory(double bytes, const std::string& what) {
  if (!(bytes <= static_cast<double>(budget())))
    throw InputError(what + " needs about " + megabytes(bytes) + ", more than the memory budget of " + megabytes(static_cast<double>(budget())) +
                     " (ask for less, or raise it: onepath --max-memory MB ...)");
}

}  // namespace onepath
