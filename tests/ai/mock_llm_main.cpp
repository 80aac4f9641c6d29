// mock_llm: the scripted LLM server as a program, for the CLI tests.
//   mock_llm PORT_FILE [RULES.json] [--answer-delay-ms N] [--stall-after N]
// Listens on 127.0.0.1 (a free port, written to PORT_FILE once it listens), until SIGTERM
// or SIGINT; then prints {"calls": N, "max_concurrent": M} to stdout.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "mock_llm.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: mock_llm PORT_FILE [RULES.json] [--answer-delay-ms N] [--stall-after N]\n");
    return 2;
  }
  std::vector<mock::Rule> rules;
  int delay = 0, stall = -1;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--answer-delay-ms" && i + 1 < argc) delay = std::atoi(argv[++i]);
    else if (a == "--stall-after" && i + 1 < argc) stall = std::atoi(argv[++i]);
    else rules = mock::rules_from_json(nlohmann::json::parse(std::ifstream(a)));
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before any thread starts: only sigwait sees them
  mock::Server server(rules, "", "", delay);
  if (stall >= 0) server.stall_after(stall);
  {
    const std::string tmp = std::string(argv[1]) + ".tmp";
    std::ofstream(tmp) << server.port() << "\n";
    std::rename(tmp.c_str(), argv[1]);
  }
  int sig = 0;
  sigwait(&set, &sig);
  std::cout << "{\"calls\": " << server.calls() << ", \"max_concurrent\": " << server.max_concurrent() << "}" << std::endl;
  return 0;
}
