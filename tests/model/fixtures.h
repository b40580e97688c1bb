// Access to the oracle fixtures that tests/python/make_fixtures.py writes (tiny transformers models and
// their reference outputs), plus helpers to write deliberately broken checkpoints.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace drllm::test {

// The names of the fixture models (the keys of MODELS in make_fixtures.py).
const std::vector<std::string>& fixture_models();
std::string fixture_dir(const std::string& name);
nlohmann::json load_reference(const std::string& name);

// A fresh empty folder under the test temp directory.
std::string scratch_dir(const std::string& label);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes);

// Splits a safetensors file into its JSON header and data section, and joins them back.
struct SafetensorsParts {
  nlohmann::json header;
  std::string data;
};
SafetensorsParts split_safetensors(const std::string& bytes);
std::string join_safetensors(const SafetensorsParts& parts);

// Copies a single-file fixture model (config.json + model.safetensors) into a scratch folder.
std::string copy_fixture(const std::string& name, const std::string& label);

}  // namespace drllm::test
