#include "core/process.hpp"

#include <signal.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace onepath {

std::string process_start_time(std::int64_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return "";
  const auto paren = line.rfind(')');  // the command name may hold spaces and parentheses
  if (paren == std::string::npos || paren + 2 > line.size()) return "";
  std::istringstream rest(line.substr(paren + 2));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i)
    if (i == 22) return field;
  return "";
}

bool process_alive(std::int64_t pid, const std::string& start_time) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
  return start_time.empty() || process_start_time(pid) == start_time;
}

}  // namespace onepath
