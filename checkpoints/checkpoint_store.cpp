#include "checkpoints/checkpoint_store.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/sha256.h"

namespace drllm::checkpoints {
namespace fs = std::filesystem;
namespace {

// At most 15 digits: a longer name is no folder of ours, and would overflow std::stoll.
const std::regex kStepName(R"(step-(\d{1,15}))");

// A checkpoint folder and what is in it. Not std::filesystem::remove_all: the libstdc++ of one GPU machine
// (torch 2.11 image) crashed in it when removing a checkpoint; entry by entry works everywhere.
void remove_tree(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    fs::remove(dir, ec);
    return;
  }
  std::vector<fs::path> entries;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) entries.push_back(e.path());
  for (const fs::path& p : entries) remove_tree(p);
  fs::remove(dir);
}

}  // namespace

CheckpointStore::CheckpointStore(std::string run_dir, int keep_last)
    : dir_((fs::path(run_dir) / "checkpoints").string()), keep_last_(std::max(1, keep_last)) {
  fs::create_directories(dir_);
}

std::string CheckpointStore::step_dir(int64_t step) const {
  return (fs::path(dir_) / ("step-" + std::to_string(step))).string();
}

std::vector<int64_t> CheckpointStore::steps() const {
  std::vector<int64_t> out;
  for (const fs::directory_entry& e : fs::directory_iterator(dir_)) {
    std::smatch m;
    std::string name = e.path().filename().string();
    if (e.is_directory() && std::regex_match(name, m, kStepName)) out.push_back(std::stoll(m[1]));
  }
  std::sort(out.begin(), out.end());
  return out;
}

void CheckpointStore::remove_unfinished() const {
  std::vector<fs::path> unfinished;
  for (const fs::directory_entry& e : fs::directory_iterator(dir_)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0 &&
        std::regex_match(name.substr(0, name.size() - 4), kStepName))
      unfinished.push_back(e.path());
  }
  for (const fs::path& p : unfinished) remove_tree(p);
}

void CheckpointStore::save(int64_t step,
                           const std::function<std::vector<std::string>(const std::string& dir)>& write_files) {
  const fs::path final_dir = step_dir(step);
  const fs::path tmp = final_dir.string() + ".tmp";
  remove_tree(tmp);
  fs::create_directories(tmp);
  try {
    nlohmann::json files = nlohmann::json::object();
    for (const std::string& name : write_files(tmp.string())) {
      const std::string path = (tmp / name).string();
      fsync_path(path, false);
      files[name] = sha256_file_hex(path);
    }
    nlohmann::json manifest = {{"step", step}, {"files", files}};
    write_file_atomically((tmp / "manifest.json").string(), [&](std::ostream& out) { out << manifest.dump(2); });
    remove_tree(final_dir);  // a checkpoint of this step that a killed run left half-replaced
    fs::rename(tmp, final_dir);
    fsync_path(dir_, true);
  } catch (...) {
    try {
      remove_tree(tmp);
    } catch (...) {
    }
    throw;
  }
  write_file_atomically((fs::path(dir_) / "latest").string(),
                        [&](std::ostream& out) { out << final_dir.filename().string() << "\n"; });
  std::vector<int64_t> all = steps();
  for (size_t i = 0; i + static_cast<size_t>(keep_last_) < all.size(); ++i)
    remove_tree(step_dir(all[i]));
}

std::string verify_checkpoint(const std::string& dir) {
  const std::string manifest_path = (fs::path(dir) / "manifest.json").string();
  std::ifstream in(manifest_path);
  if (!in) return "no manifest.json";
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    return cat("manifest.json unreadable: ", e.what());
  }
  if (!manifest.is_object() || !manifest.contains("files") || !manifest["files"].is_object() ||
      manifest["files"].empty())
    return "manifest.json lists no files";
  for (const auto& [name, sha] : manifest["files"].items()) {
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
      return cat("manifest.json lists '", name, "', which is not a file name in the checkpoint");
    if (!sha.is_string()) return cat("manifest.json gives ", name, " a sha256 that is not a string");
    const std::string path = (fs::path(dir) / name).string();
    if (!fs::is_regular_file(path)) return cat(name, " is missing");
    if (sha256_file_hex(path) != sha.get<std::string>()) return cat(name, " does not match its sha256 (corrupted)");
  }
  // Every file of the checkpoint is covered: a manifest that leaves one out would let it change unverified.
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name != "manifest.json" && !manifest["files"].contains(name))
      return cat(name, " is in the checkpoint but not in manifest.json (unverified)");
  }
  return "";
}

std::optional<CheckpointStore::Found> CheckpointStore::newest_valid(
    const std::function<void(const std::string&)>& warn) const {
  std::vector<int64_t> all = steps();
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const std::string dir = step_dir(*it);
    std::string problem = verify_checkpoint(dir);
    if (problem.empty()) return Found{*it, dir};
    warn(cat("checkpoint ", dir, " skipped: ", problem));
  }
  return std::nullopt;
}

}  // namespace drllm::checkpoints
