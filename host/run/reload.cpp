#include "run/reload.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/sha256.hpp"
#include "run/market_merge.hpp"
#include "run/session.hpp"

namespace onepath {
namespace {

struct NullSink : SessionSink {
  void on_decision(const DecisionView&) override {}
  void on_trade(const Trade&) override {}
  void on_mark(const EquityPoint&) override {}
  void on_final_mark(const EquityPoint&) override {}
};

// The child: a fresh Session of the candidate over the recent candles. Never returns.
[[noreturn]] void dry_run(const SessionConfig& c, Timeframe tf, const std::vector<CandleSeries>& recent, const std::string& state,
                          const std::string& version, int out) {
  std::string error;
  try {
    NullSink sink;
    Session s(c, tf, sink, Driver::validation);
    if (!state.empty()) s.adopt_strategy_state(state, version);
    MarketMerge merge(recent);
    TimeSlice slice;
    s.start();
    while (merge.next(slice)) {
      for (const auto& [symbol, candle] : slice.candles) s.on_candle(symbol, candle);
      s.close(slice.ts);
    }
    s.finish();
  } catch (const std::exception& e) {
    error = e.what();
    if (error.empty()) error = "the dry run failed";
  } catch (...) {
    error = "the dry run failed";
  }
  for (std::size_t done = 0; done < error.size();) {
    const ssize_t n = ::write(out, error.data() + done, error.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::_exit(error.empty() ? 0 : 1);  // no destructors, no atexit: nothing of the parent's is touched
}

}  // namespace

std::string validate_in_child(const SessionConfig& c, Timeframe tf, const std::vector<CandleSeries>& recent,
                              std::chrono::milliseconds deadline, const std::string& running_state, const std::string& running_version) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return std::string("cannot validate: pipe: ") + std::strerror(errno);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]), ::close(fds[1]);
    return std::string("cannot validate: fork: ") + std::strerror(errno);
  }
  if (pid == 0) {
    ::close(fds[0]);
    dry_run(c, tf, recent, running_state, running_version, fds[1]);
  }
  ::close(fds[1]);
  std::string error;
  bool killed = false;
  const auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      ::kill(pid, SIGKILL);
      killed = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) error.append(buf, static_cast<std::size_t>(n));
    if (n == 0) break;  // the child is done
    if (n < 0 && errno != EINTR) break;
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (killed) return "the dry run did not finish within " + std::to_string(deadline.count()) + " ms; the candidate was stopped";
  if (WIFSIGNALED(status)) return "the dry run crashed (signal " + std::to_string(WTERMSIG(status)) + ")";
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) return error.empty() ? "the dry run failed" : error;
  return "";
}

FileWatcher::FileWatcher() : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
  if (fd_ < 0) throw std::runtime_error(std::string("inotify: ") + std::strerror(errno));
}

FileWatcher::~FileWatcher() {
  if (fd_ >= 0) ::close(fd_);
}

void FileWatcher::watch(const std::vector<std::string>& files) {
  namespace fs = std::filesystem;
  for (const auto& [wd, dir] : dirs_) ::inotify_rm_watch(fd_, wd);
  dirs_.clear();
  files_.clear();
  std::map<std::string, bool> dirs;
  for (const auto& f : files) {
    std::error_code ec;
    const fs::path p = fs::absolute(f, ec);
    files_[p.string()] = true;
    dirs[p.parent_path().string()] = true;
  }
  for (const auto& [dir, _] : dirs) {
    const int wd = ::inotify_add_watch(fd_, dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE);
    if (wd >= 0) dirs_[wd] = dir;
  }
}

bool FileWatcher::changed() {
  bool hit = false;
  alignas(inotify_event) char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) break;
    for (ssize_t at = 0; at < n;) {
      const auto* e = reinterpret_cast<const inotify_event*>(buf + at);
      auto dir = dirs_.find(e->wd);
      if (dir != dirs_.end() && e->len > 0 && files_.count(dir->second + "/" + e->name)) hit = true;
      at += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
    }
  }
  return hit;
}

std::string file_sha256(const std::string& path) {
  // Streamed, and only of a regular file: a huge or special file never stalls the session.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return "";
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) > kMaxWatchedBytes) {
    ::close(fd);
    return "";
  }
  Sha256 h;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    h.update(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return h.hex();
}

}  // namespace onepath
