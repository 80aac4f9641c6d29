#include "sweep/cell_processes.hpp"

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <string>
#include <type_traits>

#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "lua/runtime.hpp"

namespace onepath {
namespace {

// What a worker sends: a cell it starts, a result, or the error that stopped it.
enum class Kind : std::uint8_t { start = 1, result, input_error, script_error, interrupted, failure };

struct Header {
  Kind kind;
  std::uint64_t cell;
  std::uint32_t bytes;  // of the payload that follows
};

// A result's fixed part; the ledger's SHA-256 follows as text.
struct ResultWire {
  Metrics metrics;
  std::uint64_t candles, decisions;
  double objective, seconds;
};
static_assert(std::is_trivially_copyable_v<ResultWire>);

struct Shared {
  std::atomic<std::size_t> next;
  std::atomic<bool> stop;
};

bool write_all(int fd, const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w, n -= static_cast<std::size_t>(w);
  }
  return true;
}

bool send(int fd, Kind kind, std::uint64_t cell, const std::string& payload) {
  const Header h{kind, cell, static_cast<std::uint32_t>(payload.size())};
  return write_all(fd, &h, sizeof h) && write_all(fd, payload.data(), payload.size());
}

[[noreturn]] void worker(const CellRunner& runner, const SweepPlan& plan, const std::vector<std::size_t>& batch, Shared* shared, int fd, int cpu) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // the parent killed (kill -9): no orphan goes on
  ::signal(SIGPIPE, SIG_DFL);
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    ::sched_setaffinity(0, sizeof set, &set);
  }
  Kind failed = Kind::failure;
  std::string why;
  try {
    for (std::size_t k; !shared->stop.load() && (k = shared->next.fetch_add(1)) < batch.size();) {
      const SweepCell& cell = plan.cells[batch[k]];
      check_interrupted();
      if (!send(fd, Kind::start, cell.index, "")) ::_exit(1);
      const CellResult r = runner.run(cell);
      ResultWire w{r.metrics, r.candles, r.decisions, r.objective, r.seconds};
      std::string payload(reinterpret_cast<const char*>(&w), sizeof w);
      payload += r.ledger_sha256;
      if (!send(fd, Kind::result, cell.index, payload)) ::_exit(1);
    }
    ::_exit(0);
  } catch (const Interrupted&) {
    failed = Kind::interrupted;
  } catch (const InputError& e) {
    failed = Kind::input_error, why = e.what();
  } catch (const ScriptError& e) {
    failed = Kind::script_error, why = e.what();
  } catch (const std::exception& e) {
    why = e.what();
  }
  shared->stop = true;
  send(fd, failed, 0, why);
  ::_exit(1);
}

bool read_all(int fd, void* data, std::size_t n) {
  char* p = static_cast<char*>(data);
  while (n) {
    const ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r, n -= static_cast<std::size_t>(r);
  }
  return true;
}

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (::sched_getaffinity(0, sizeof set, &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

}  // namespace

void run_cells_in_processes(const CellRunner& runner, const SweepPlan& plan, const std::vector<std::size_t>& batch, int workers,
                            const std::function<void(const SweepCell&, CellResult)>& on_result) {
  if (batch.empty()) return;
  workers = std::max(1, std::min<int>(workers, static_cast<int>(batch.size())));
  void* page = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) throw std::runtime_error(std::string("mmap: ") + std::strerror(errno));
  Shared* shared = new (page) Shared{{0}, {false}};
  const std::vector<int> cpus = allowed_cpus();
  struct Child {
    pid_t pid = -1;
    int fd = -1;
    long held = -1;  // the cell it started and has not answered
  };
  std::vector<Child> children(static_cast<std::size_t>(workers));
  std::fflush(nullptr);  // nothing buffered is written twice
  for (int k = 0; k < workers; ++k) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      ::close(fds[0]);
      worker(runner, plan, batch, shared, fds[1], cpus.empty() ? -1 : cpus[static_cast<std::size_t>(k) % cpus.size()]);
    }
    ::close(fds[1]);
    children[static_cast<std::size_t>(k)] = {pid, fds[0], -1};
  }

  std::exception_ptr first_failure;
  auto fail = [&](std::exception_ptr e) {
    if (!first_failure) first_failure = e;
    shared->stop = true;
  };
  for (std::size_t open = children.size(); open > 0;) {
    std::vector<pollfd> fds;
    for (const Child& c : children)
      if (c.fd >= 0) fds.push_back({c.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 200) < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    if (interrupted()) fail(std::make_exception_ptr(Interrupted()));
    for (Child& c : children) {
      if (c.fd < 0) continue;
      bool ready = false;
      for (const pollfd& p : fds)
        if (p.fd == c.fd && p.revents) ready = true;
      if (!ready) continue;
      Header h{};
      std::string payload;
      const bool ok = read_all(c.fd, &h, sizeof h) && (payload.resize(h.bytes), read_all(c.fd, payload.data(), h.bytes));
      if (!ok) {  // the worker ended: cleanly, or it died holding a cell
        ::close(c.fd);
        c.fd = -1;
        --open;
        int status = 0;
        while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (c.held >= 0 && !first_failure) {
          const std::string how = WIFSIGNALED(status) ? "was killed by signal " + std::to_string(WTERMSIG(status)) : "exited " + std::to_string(WEXITSTATUS(status));
          fail(std::make_exception_ptr(std::runtime_error("a sweep worker process " + how + " while it ran cell " + std::to_string(c.held + 1) + " (" +
                                                          plan.cells[static_cast<std::size_t>(c.held)].key() + ")")));
        }
        continue;
      }
      switch (h.kind) {
        case Kind::start: c.held = static_cast<long>(h.cell); break;
        case Kind::result: {
          ResultWire w;
          std::memcpy(&w, payload.data(), sizeof w);
          CellResult r;
          r.cell = h.cell, r.metrics = w.metrics, r.candles = w.candles, r.decisions = w.decisions, r.objective = w.objective, r.seconds = w.seconds;
          r.ledger_sha256 = payload.substr(sizeof w);
          c.held = -1;
          if (!first_failure) {
            try {
              on_result(plan.cells[h.cell], std::move(r));
            } catch (...) {
              fail(std::current_exception());
            }
          }
          break;
        }
        case Kind::input_error: c.held = -1, fail(std::make_exception_ptr(InputError(payload))); break;
        case Kind::script_error: c.held = -1, fail(std::make_exception_ptr(ScriptError(payload))); break;
        case Kind::interrupted: c.held = -1, fail(std::make_exception_ptr(Interrupted())); break;
        case Kind::failure: c.held = -1, fail(std::make_exception_ptr(std::runtime_error(payload))); break;
      }
    }
  }
  ::munmap(page, sizeof(Shared));
  if (first_failure) std::rethrow_exception(first_failure);
}

}  // namespace onepath
