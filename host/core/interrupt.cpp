#include "core/interrupt.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>

namespace onepath {
namespace {

constexpr int kSlots = 64;
constexpr std::size_t kPathMax = 4096;
char g_paths[kSlots][kPathMax];
std::atomic<bool> g_used[kSlots];
std::atomic<bool> g_interrupted{false};
std::atomic<bool> g_cooperative{false};

void die_now() {
  for (int i = 0; i < kSlots; ++i)
    if (g_used[i].load()) ::unlink(g_paths[i]);
  const char msg[] = "\ninterrupted\n";
  (void)!::write(2, msg, sizeof msg - 1);
  ::_exit(130);
}

void on_signal(int) {
  if (g_cooperative.load() && !g_interrupted.exchange(true)) return;  // asked; a second signal is immediate
  die_now();
}

}  // namespace

void install_interrupt_handler(bool cooperative) {
  g_cooperative.store(cooperative);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool interrupted() { return g_interrupted.load(std::memory_order_relaxed); }

int register_temporary_file(const char* path) {
  if (std::strlen(path) >= kPathMax) return -1;
  for (int i = 0; i < kSlots; ++i) {
    if (g_used[i].load()) continue;
    std::strcpy(g_paths[i], path);
    bool expected = false;
    if (g_used[i].compare_exchange_strong(expected, true)) return i;
  }
  return -1;
}

void unregister_temporary_file(int slot) {
  if (slot >= 0) g_used[slot].store(false);
}

}  // namespace onepath
