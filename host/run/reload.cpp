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

#include "core/log.hpp"
#include "core/sha256.hpp"
#include "run/market_merge.hpp"
#include "run/session.hpp"

namespace onepath {
namespace {

void write_all(int fd, std::string_view bytes) {
  for (std::size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

// The child's log events (its ctx:log lines, its on_stop's, its warnings), one per line.
void to_output_pipe(void* fd, log::Level, std::string_view line) {
  std::string one(line);
  for (std::size_t at = 0; (at = one.find('\n', at)) != std::string::npos;) one.replace(at, 1, "\\n");
  write_all(*static_cast<int*>(fd), one + "\n");
}

// The child: a fresh Session of the candidate over the recent candles. Never returns.
[[noreturn]] void dry_run(const SessionConfig& c, Timeframe tf, const std::vector<CandleSeries>& recent, const std::string& state,
                          const std::string& version, int out, int output) {
  log::redirect(to_output_pipe, &output);
  std::string error;
  try {
    DiscardResults sink;
    Session s(c, tf, sink, Driver::validation);
    if (!state.empty()) s.adopt_strategy_state(state, version);
    MarketMerge merge(recent);
    TimeSlice slice;
    s.start();
    while (merge.next(slice)) {
      s.open(slice);
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
  write_all(out, error);
  ::_exit(error.empty() ? 0 : 1);  // no destructors, no atexit: nothing of the parent's is touched
}

}  // namespace

Validation validate_in_child(const SessionConfig& c, Timeframe tf, const std::vector<CandleSeries>& recent,
                             std::chrono::milliseconds deadline, const std::string& running_state, const std::string& running_version) {
  Validation v;
  int fds[2], outs[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {std::string("cannot validate: pipe: ") + std::strerror(errno), {}};
  if (::pipe2(outs, O_CLOEXEC) != 0) {
    ::close(fds[0]), ::close(fds[1]);
    return {std::string("cannot validate: pipe: ") + std::strerror(errno), {}};
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {fds[0], fds[1], outs[0], outs[1]}) ::close(fd);
    return {std::string("cannot validate: fork: ") + std::strerror(errno), {}};
  }
  if (pid == 0) {
    ::close(fds[0]), ::close(outs[0]);
    dry_run(c, tf, recent, running_state, running_version, fds[1], outs[1]);
  }
  ::close(fds[1]), ::close(outs[1]);
  std::string error, output;
  bool killed = false;
  const auto until = std::chrono::steady_clock::now() + deadline;
  pollfd p[2] = {{fds[0], POLLIN, 0}, {outs[0], POLLIN, 0}};
  while (p[0].fd >= 0 || p[1].fd >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      ::kill(pid, SIGKILL);
      killed = true;
      break;
    }
    const int r = ::poll(p, 2, static_cast<int>(left));
    if (r <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (p[i].fd < 0 || !p[i].revents) continue;
      char buf[4096];
      const ssize_t n = ::read(p[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n > 0) {
        std::string& into = i == 0 ? error : output;
        if (into.size() < kMaxCandidateOutput) into.append(buf, static_cast<std::size_t>(n));
      } else {  // the child is done with it
        ::close(p[i].fd);
        p[i].fd = -1;
      }
    }
  }
  for (const auto& one : p)
    if (one.fd >= 0) ::close(one.fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  for (std::size_t at = 0; at < output.size();) {
    std::size_t end = output.find('\n', at);
    if (end == std::string::npos) end = output.size();
    if (end > at) v.output.push_back(output.substr(at, end - at));
    at = end + 1;
  }
  if (killed) v.error = "the dry run did not finish within " + std::to_string(deadline.count()) + " ms; the candidate was stopped";
  else if (WIFSIGNALED(status)) v.error = "the dry run crashed (signal " + std::to_string(WTERMSIG(status)) + ")";
  else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) v.error = error.empty() ? "the dry run failed" : error;
  return v;
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
  writing_.clear();
  done_ = false;
  std::map<std::string, bool> dirs;
  for (const auto& f : files) {
    std::error_code ec;
    const fs::path p = fs::absolute(f, ec);
    files_[p.string()] = true;
    dirs[p.parent_path().string()] = true;
  }
  for (const auto& [dir, _] : dirs) {
    const int wd = ::inotify_add_watch(fd_, dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY);
    if (wd >= 0) dirs_[wd] = dir;
  }
}

bool FileWatcher::changed() {
  alignas(inotify_event) char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) break;
    for (ssize_t at = 0; at < n;) {
      const auto* e = reinterpret_cast<const inotify_event*>(buf + at);
      at += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
      auto dir = dirs_.find(e->wd);
      if (dir == dirs_.end() || e->len == 0) continue;
      const std::string path = dir->second + "/" + e->name;
      if (!files_.count(path)) continue;
      // Created or written: still being written (a linker, a slow save) until it is closed
      // or renamed into place.
      if (e->mask & (IN_CREATE | IN_MODIFY)) writing_.insert(path);
      if (e->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) writing_.erase(path), done_ = true;
    }
  }
  if (!done_ || !writing_.empty()) return false;
  done_ = false;
  return true;
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
