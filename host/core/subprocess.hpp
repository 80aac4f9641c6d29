#pragma once
// Running another program (sbatch, squeue) by its argument list, never through a shell, so
// no argument is re-split or expanded; its standard output is captured, its errors pass
// through to ours.
#include <string>
#include <vector>

namespace onepath {

struct ProgramResult {
  int status = 0;  // the exit code; 127 when it could not be started
  std::string out;
};

// InputError when `argv[0]` is not found on PATH (with `hint` appended: what installs it).
ProgramResult run_program(const std::vector<std::string>& argv, const std::string& hint = "");

}  // namespace onepath
