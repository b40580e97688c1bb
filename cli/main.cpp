// drllm: the command-line entry point. Each subcommand is one job; `drllm SUBCOMMAND --help` explains it.
#include <c10/util/Exception.h>  // c10::Error: LibTorch's errors, printed without their C++ backtrace

#include <csignal>
#include <iostream>

#include "cli/commands.h"
#include "common/console.h"
#include "common/error.h"
#include "dist/peer_watchdog.h"
#include "dist/runtime.h"

int main(int argc, char** argv) {
  // A file size limit (ulimit -f) must fail a write with EFBIG, which every writer reports and cleans up after,
  // not kill the job silently with SIGXFSZ and leave a .tmp behind.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"drllm: teach a frozen LLM to skip, execute or repeat each of its layers per input (Dr.LLM)"};
  app.require_subcommand(1);
  // The global options below are taken after the subcommand too (`drllm search ... --log-level debug`), as a
  // launcher script that appends them expects; subcommands made later inherit this.
  app.fallthrough();
  app.set_config("--config", "", "read options from a TOML file (one [section] per subcommand)");
  app.allow_config_extras(false);

  drllm::cli::CommonOptions common;
  app.add_option("--threads", common.threads, "compute threads (0: cores on the node / ranks on the node)")
      ->check(CLI::NonNegativeNumber);
  // What a job prints (common/console.h): set as soon as parsed, before any subcommand runs.
  app.add_option_function<std::string>("--log-level", [](const std::string& v) { drllm::set_log_level(drllm::parse_log_level(v)); },
                                       "error, warning, info (the default: progress and summaries on rank 0) or "
                                       "debug (also a line per example from every rank)")
      ->check(CLI::IsMember({"error", "warning", "info", "debug"}));
  app.add_flag_callback("--quiet", [] { drllm::set_log_level(drllm::LogLevel::Error); },
                        "print only errors (and the command's result on stdout): --log-level error");
  app.add_option_function<std::string>("--progress", [](const std::string& v) { drllm::set_progress_style(drllm::parse_progress_style(v)); },
                                       "auto (rewritten in place on a terminal, plain lines elsewhere), line, plain "
                                       "or none")
      ->check(CLI::IsMember({"auto", "line", "plain", "none"}));
  app.add_option_function<double>("--progress-every", [](double s) { drllm::set_plain_progress_every(s); },
                                  "seconds between plain progress lines (default 30)")
      ->check(CLI::PositiveNumber);

  app.add_option_function<double>("--collective-timeout", [](double s) { drllm::dist::set_collective_timeout(s); },
                                  "seconds a parallel job waits for a silent rank (stopped, hung or gone) or for one "
                                  "NCCL collective before it names the rank and ends the job (default 600; 0: no "
                                  "limit)")
      ->check(CLI::NonNegativeNumber);

  drllm::cli::add_commands(app, common);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const drllm::Error& e) {
    std::cerr << drllm::dist::rank_prefix() << "drllm: error: " << e.what() << "\n";
    drllm::dist::abort_job_if_parallel(1);
    return 1;
  } catch (const c10::Error& e) {
    std::cerr << drllm::dist::rank_prefix() << "drllm: LibTorch error: " << e.what_without_backtrace() << "\n";
    drllm::dist::abort_job_if_parallel(1);
    return 1;
  } catch (const std::exception& e) {
    std::cerr << drllm::dist::rank_prefix() << "drllm: unexpected error: " << e.what() << "\n";
    drllm::dist::abort_job_if_parallel(2);
    return 2;
  }
  return 0;
}
