#include "core/shipped.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace onepath {

std::filesystem::path shipped_dir() {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
  if (const char* home = std::getenv("ONEPATH_HOME"); home && *home) candidates.emplace_back(home);
  candidates.emplace_back(ONEPATH_SOURCE_DIR);
  char self[4096];
  if (const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1); n > 0)
    candidates.push_back(fs::path(std::string(self, static_cast<std::size_t>(n))).parent_path().parent_path() / "share" / "onepath");
  std::string looked;
  for (const auto& c : candidates) {
    std::error_code ec;
    if (fs::is_directory(c / "scripts" / "strategies", ec)) return c;
    looked += " " + c.string();
  }
  throw InputError("cannot find onepath's shipped scripts (looked in" + looked + "); set ONEPATH_HOME to the folder holding scripts/ and sdk/");
}

std::filesystem::path shipped_file(const std::filesystem::path& relative) {
  if (relative.empty() || relative.is_absolute()) return {};
  std::error_code ec;
  try {
    const auto p = (shipped_dir() / relative).lexically_normal();
    return std::filesystem::exists(p, ec) ? p : std::filesystem::path{};
  } catch (const InputError&) {
    return {};  // no shipped files here at all
  }
}

}  // namespace onepath
