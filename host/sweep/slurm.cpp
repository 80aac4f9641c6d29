#include "sweep/slurm.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "core/subprocess.hpp"
#include "store/sweep_queue.hpp"
#include "sweep/record.hpp"

namespace onepath {
namespace {

namespace fs = std::filesystem;

constexpr const char* kInstallHint = "the sweep's Slurm executor needs Slurm's client commands: apt-get install slurm-client, on a submit host of the cluster";

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

std::string this_executable() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find this onepath's path (/proc/self/exe): " + ec.message());
  return p.string();
}

// The batch script each array task runs: the worker, reading the journal the sweep is in.
// It holds the journal's address (perhaps a password), so only its owner may read it.
std::string write_worker_script(const SlurmOptions& o) {
  fs::create_directories(o.folder);
  const std::string path = fs::absolute(fs::path(o.folder) / "worker.sh").lexically_normal().string();
  write_file_atomic(path, "#!/bin/sh\n# onepath sweep run " + std::to_string(o.run_id) +
                              ": one task of the Slurm job array; it claims cells from the journal until none is left\n"
                              "exec " + shell_quote(this_executable()) + " sweep worker --db " + shell_quote(o.journal) + " --run " +
                              std::to_string(o.run_id) + " --lease " + std::to_string(o.lease_ms / 1000.0) + "\n");
  ::chmod(path.c_str(), 0700);
  return path;
}

std::string submit(const SlurmOptions& o, std::size_t tasks) {
  const std::string script = write_worker_script(o);
  const std::string out = fs::absolute(fs::path(o.folder) / "slurm-%A_%a.out").lexically_normal().string();
  std::vector<std::string> argv = {"sbatch", "--parsable", "--array=0-" + std::to_string(tasks - 1), "--job-name=onepath-sweep-" + std::to_string(o.run_id),
                                   "--output=" + out, "--chdir=" + fs::current_path().string()};
  argv.insert(argv.end(), o.sbatch_args.begin(), o.sbatch_args.end());
  argv.push_back(script);
  const ProgramResult r = run_program(argv, kInstallHint);
  if (r.status != 0) {
    std::string shown;
    for (const auto& a : argv) shown += (shown.empty() ? "" : " ") + a;
    throw InputError("sbatch refused the sweep's job array (exit " + std::to_string(r.status) + "; its message is above): " + shown);
  }
  std::string id = r.out.substr(0, r.out.find_first_of(";\n"));  // --parsable: "jobid[;cluster]"
  if (id.empty()) throw std::runtime_error("sbatch printed no job id: '" + r.out + "'");
  return id;
}

// Whether any task of the job is still known to the scheduler (pending, running, completing).
bool job_alive(const std::string& job) {
  const ProgramResult r = run_program({"squeue", "--noheader", "--array", "--jobs=" + job, "--format=%i"}, kInstallHint);
  return r.status == 0 && r.out.find_first_not_of(" \n") != std::string::npos;
}

}  // namespace

std::function<void(const std::vector<std::size_t>&, SweepOutcome&)> slurm_executor(const SlurmOptions& o) {
  return [o](const std::vector<std::size_t>& batch, SweepOutcome& out) {
    auto journal = Journal::open(o.journal);
    SweepQueue queue(*journal);
    std::vector<std::int64_t> cells(batch.begin(), batch.end());
    queue.enqueue(o.run_id, cells);
    const std::string job = submit(o, std::min(o.tasks, batch.size()));
    if (o.log)
      o.log("submitted Slurm job " + job + ": " + std::to_string(std::min(o.tasks, batch.size())) + " array tasks for " + std::to_string(batch.size()) +
            " cells (their output: " + o.folder + "/slurm-" + job + "_*.out)");
    std::size_t total_done = 0;
    for (const auto& r : out.results) total_done += r.has_value();
    const std::size_t total = out.results.size();
    std::map<std::size_t, bool> wanted;
    for (std::size_t i : batch) wanted[i] = true;
    for (bool last_look = false;;) {
      std::size_t got = 0;
      for (const SweepCellRow& row : SweepCells(*journal).of(o.run_id)) {
        const auto i = static_cast<std::size_t>(row.cell);
        if (!wanted.count(i)) continue;
        if (!out.results[i]) out.results[i] = cell_result_of(row);
        ++got;
      }
      if (o.progress) o.progress(total_done + got, total);
      if (got == batch.size()) return;
      if (last_look)
        throw std::runtime_error("Slurm job " + job + " ended with " + std::to_string(batch.size() - got) + " of its " + std::to_string(batch.size()) +
                                 " cells not done; see " + o.folder + "/slurm-" + job + "_*.out, then run the same command again to resume");
      if (!job_alive(job)) last_look = true;  // its last cells may have landed after the read above
      else {
        for (int i = 0; i < 10 && !interrupted(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));  // watching, not synchronising
        check_interrupted();
      }
    }
  };
}

}  // namespace onepath
