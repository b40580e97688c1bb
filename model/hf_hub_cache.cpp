#include "model/hf_hub_cache.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <vector>

#include "common/error.h"

namespace drllm::model {

namespace fs = std::filesystem;

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// The first line of a refs/ file, without surrounding whitespace (huggingface_hub writes the bare hash).
std::string read_ref(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  const auto begin = line.find_first_not_of(" \t\r\n"), end = line.find_last_not_of(" \t\r\n");
  return begin == std::string::npos ? "" : line.substr(begin, end - begin + 1);
}

}  // namespace

std::string hf_hub_cache_dir() {
  if (const std::string hub = env("HF_HUB_CACHE"); !hub.empty()) return hub;
  if (const std::string home = env("HF_HOME"); !home.empty()) return (fs::path(home) / "hub").string();
  if (const std::string xdg = env("XDG_CACHE_HOME"); !xdg.empty())
    return (fs::path(xdg) / "huggingface" / "hub").string();
  const std::string home = env("HOME");
  DRLLM_CHECK(!home.empty(), "neither HF_HUB_CACHE, HF_HOME, XDG_CACHE_HOME nor HOME is set: cannot find the "
                             "Hugging Face cache; pass the model's folder to --model");
  return (fs::path(home) / ".cache" / "huggingface" / "hub").string();
}

bool looks_like_hf_repo_id(const std::string& name) {
  // huggingface_hub's rule for repo ids: letters, digits, '-', '_', '.'; not starting or ending with '-' or '.'.
  static const std::regex id(R"(([A-Za-z0-9][A-Za-z0-9._-]*)/([A-Za-z0-9][A-Za-z0-9._-]*)(@[A-Za-z0-9._/-]+)?)");
  return std::regex_match(name, id) && name.find("..") == std::string::npos;
}

std::string resolve_hf_snapshot(const std::string& repo_id) {
  DRLLM_CHECK(looks_like_hf_repo_id(repo_id), repo_id, ": not a Hugging Face repo id (ORG/NAME[@REVISION])");
  const auto at = repo_id.find('@');
  const std::string id = repo_id.substr(0, at), revision = at == std::string::npos ? "main" : repo_id.substr(at + 1);
  const auto slash = id.find('/');
  const fs::path hub = hf_hub_cache_dir();
  const fs::path repo = hub / ("models--" + id.substr(0, slash) + "--" + id.substr(slash + 1));
  const std::string download = "; download it with `huggingface-cli download " + id +
                               "` (or transformers' from_pretrained), set HF_HOME or HF_HUB_CACHE to the cache it is "
                               "in, or pass the model's folder or file to --model";
  DRLLM_CHECK(fs::is_directory(repo), id, " is not a file or folder here, not a registry name (drllm models), and not "
              "in the Hugging Face cache: ", repo.string(), " does not exist", download);
  // A revision is a ref (refs/main, refs/v1.0) or a commit hash naming a snapshot directly.
  std::string commit = revision;
  if (const fs::path ref = repo / "refs" / revision; fs::is_regular_file(ref)) {
    commit = read_ref(ref);
    DRLLM_CHECK(!commit.empty(), ref.string(), ": empty ref; the cache entry of ", id, " is damaged", download);
  }
  const fs::path snapshot = repo / "snapshots" / commit;
  DRLLM_CHECK(fs::is_directory(snapshot), id, "@", revision, ": no snapshot ", snapshot.string(), " (looked for ",
              (repo / "refs" / revision).string(), " and that snapshot)", download);
  if (fs::exists(snapshot / "config.json")) return snapshot.string();
  std::vector<fs::path> ggufs;
  for (const auto& entry : fs::directory_iterator(snapshot))
    if (entry.path().extension() == ".gguf") ggufs.push_back(entry.path());
  DRLLM_CHECK(ggufs.size() == 1, snapshot.string(), ": has no config.json and ", ggufs.size(),
              " .gguf files; pass the folder of a Hugging Face checkpoint or one .gguf file to --model");
  return ggufs.front().string();
}

}  // namespace drllm::model
