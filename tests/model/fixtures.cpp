#include "tests/model/fixtures.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace drllm::test {
namespace fs = std::filesystem;

const std::vector<std::string>& fixture_models() {
  static const std::vector<std::string> names = {"llama_rope3_fp32", "llama_tied_bf16",    "qwen2_fp32",
                                                 "qwen3_bf16",       "qwen3_sharded_fp32", "mistral_fp32"};
  return names;
}

std::string fixture_dir(const std::string& name) { return std::string(DRLLM_FIXTURES_DIR) + "/" + name; }

nlohmann::json load_reference(const std::string& name) {
  return nlohmann::json::parse(read_file(fixture_dir(name) + "/reference.json"));
}

std::string scratch_dir(const std::string& label) {
  fs::path dir = fs::temp_directory_path() / ("drllm-test-" + std::to_string(::getpid()) + "-" + label);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

SafetensorsParts split_safetensors(const std::string& bytes) {
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  return {nlohmann::json::parse(bytes.substr(8, n)), bytes.substr(8 + n)};
}

std::string join_safetensors(const SafetensorsParts& parts) {
  std::string header = parts.header.dump();
  uint64_t n = header.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + header + parts.data;
}

std::string copy_fixture(const std::string& name, const std::string& label) {
  std::string dir = scratch_dir(label);
  fs::copy_file(fixture_dir(name) + "/config.json", dir + "/config.json");
  fs::copy_file(fixture_dir(name) + "/model.safetensors", dir + "/model.safetensors");
  return dir;
}

}  // namespace drllm::test
