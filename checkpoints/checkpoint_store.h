// CheckpointStore: a run's checkpoints (docs/architecture.md): RUN/checkpoints/step-{N}/ holds the files of one
// checkpoint and a manifest.json with the sha256 of each. A checkpoint is written as step-{N}.tmp/, every file
// fsynced, then renamed: a step-{N}/ folder that exists is whole. `latest` names the newest committed one; the
// last K are kept. On resume the newest checkpoint that verifies is used; a damaged one is named and skipped.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace drllm::checkpoints {

class CheckpointStore {
 public:
  CheckpointStore(std::string run_dir, int keep_last);

  // Writes a checkpoint for `step`: `write_files` is called with the .tmp folder and returns the names of the
  // files it wrote there. Commits, updates `latest`, removes checkpoints past the last K.
  void save(int64_t step, const std::function<std::vector<std::string>(const std::string& dir)>& write_files);

  struct Found {
    int64_t step;
    std::string dir;
  };
  // The newest checkpoint whose manifest verifies; each damaged one is reported through `warn` and skipped.
  std::optional<Found> newest_valid(const std::function<void(const std::string&)>& warn) const;

  // Removes the step-N.tmp folders of saves that a killed run left unfinished. Only for the one job that writes
  // the run (its folder lock held), before its first save.
  void remove_unfinished() const;

  // Steps of the committed checkpoints, oldest first.
  std::vector<int64_t> steps() const;
  std::string dir() const { return dir_; }

 private:
  std::string step_dir(int64_t step) const;  // where step N's checkpoint is committed (kStepName's form)

  std::string dir_;
  int keep_last_;
};

// Verifies one checkpoint folder against its manifest; returns "" or what is wrong.
std::string verify_checkpoint(const std::string& dir);

}  // namespace drllm::checkpoints
