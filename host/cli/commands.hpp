#pragma once
// Each command family registers its subcommands; the one the user chose leaves an action
// that main runs after parsing and logging are set up. Actions return the exit code.
#include <functional>

namespace CLI { class App; }

namespace onepath::cli {

using Action = std::function<int()>;

void add_data_commands(CLI::App& app, Action& action);
void add_bench_commands(CLI::App& app, Action& action);
void add_bench_infer(CLI::App& bench, Action& action);  // cmd_bench_infer.cpp
void add_bench_sweep(CLI::App& bench, Action& action);  // cmd_bench_sweep.cpp
void add_enrich_commands(CLI::App& app, Action& action);
void add_backtest_commands(CLI::App& app, Action& action);
void add_runs_commands(CLI::App& app, Action& action);
void add_paper_commands(CLI::App& app, Action& action);
void add_plugins_commands(CLI::App& app, Action& action);
void add_reload_commands(CLI::App& app, Action& action);
void add_ai_commands(CLI::App& app, Action& action);
void add_train_commands(CLI::App& app, Action& action);
void add_models_commands(CLI::App& app, Action& action);
void add_catalog_commands(CLI::App& app, Action& action);  // indicators, strategies
void add_project_commands(CLI::App& app, Action& action);  // init, completion
void add_report_commands(CLI::App& app, Action& action);
void add_certify_commands(CLI::App& app, Action& action);
void add_sweep_commands(CLI::App& app, Action& action);

}  // namespace onepath::cli
