// drllm: the command-line entry point. Each subcommand is one job; `drllm SUBCOMMAND --help` explains it.
#include <c10/util/Exception.h>  // c10::Error: LibTorch's errors, printed without their C++ backtrace

#include <iostream>

#include "cli/commands.h"
#include "common/error.h"
#include "dist/runtime.h"

int main(int argc, char** argv) {
  CLI::App app{"drllm: teach a frozen LLM to skip, execute or repeat each of its layers per input (Dr.LLM)"};
  app.require_subcommand(1);
  app.set_config("--config", "", "read options from a TOML file (one [section] per subcommand)");
  app.allow_config_extras(false);

  drllm::cli::CommonOptions common;
  app.add_option("--threads", common.threads, "compute threads (0: cores on the node / ranks on the node)")
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
