#pragma once
// Hot reload's two halves that need no event loop: validating a candidate strategy away
// from the running session, and noticing that the files it was loaded from changed.
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/candle.hpp"
#include "core/timeframe.hpp"
#include "run/session_config.hpp"

namespace onepath {

// Loads the config's strategy (its files' bytes pinned in config.limits.sources, else as
// they are on disk) into a fresh Session in a forked child, adopts the running strategy's
// state through the candidate's migrate (as the swap will; skipped when `running_state` is
// empty), and dry-runs it on `recent` (per symbol, the last candles), under the script time
// and memory limits. The child is killed past `deadline`, so a validation never leaves a
// stuck thread, an abandoned Lua state or a handler in a bad state behind, and a looping
// migrate never stalls the session. `error` is "" when the candidate ran, else what stopped
// it (file:line for script errors); `output`, the child's log lines (its ctx:log, on_stop,
// warnings), which never reach the session's log unmarked.
struct Validation {
  std::string error;
  std::vector<std::string> output;
};
constexpr std::size_t kMaxCandidateOutput = 64u << 10;  // bytes of a candidate's output kept
Validation validate_in_child(const SessionConfig& config, Timeframe tf, const std::vector<CandleSeries>& recent,
                             std::chrono::milliseconds deadline, const std::string& running_state = "",
                             const std::string& running_version = "");

// inotify on the folders of a set of files (editors often replace a file by renaming a new
// one over it, so the file's own inode is not enough).
class FileWatcher {
 public:
  FileWatcher();  // std::runtime_error when inotify is not available
  ~FileWatcher();
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;
  int fd() const { return fd_; }
  // Watches exactly these files from now on.
  void watch(const std::vector<std::string>& files);
  // Reads the pending events (fd() is readable); true when one of the files was written
  // and closed (or renamed into place) and none is still open for writing.
  bool changed();

 private:
  int fd_ = -1;
  std::map<int, std::string> dirs_;       // watch descriptor -> folder
  std::map<std::string, bool> files_;     // absolute paths watched
  std::set<std::string> writing_;         // created or modified, not yet closed
  bool done_ = false;                     // a write was completed since the last `true`
};

// SHA-256 of a file's bytes, streamed ("" when it cannot be read, is not a regular file or
// is larger than kMaxWatchedBytes: a script or plugin is never that large).
constexpr std::uint64_t kMaxWatchedBytes = 256u << 20;
std::string file_sha256(const std::string& path);

}  // namespace onepath
