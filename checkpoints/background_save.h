// BackgroundSave: a checkpoint written on a thread of its own, so that the training step never waits for the disk
// (fsync of every file, their sha256, the rename). The caller hands over files made from a copy of its state, so
// the steps that go on meanwhile cannot change what is written. At most one save is in flight: starting another
// first waits for it. The commit is CheckpointStore's (files, manifest, then the folder's rename and `latest`),
// so a kill during a save leaves the previous checkpoint the newest valid one.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "checkpoints/checkpoint_store.h"

namespace drllm::checkpoints {

class BackgroundSave {
 public:
  using WriteFiles = std::function<std::vector<std::string>(const std::string& dir)>;

  explicit BackgroundSave(CheckpointStore& store) : store_(store) {}
  ~BackgroundSave();  // waits for the save in flight; its error, if any, is printed (a destructor cannot throw)
  BackgroundSave(const BackgroundSave&) = delete;
  BackgroundSave& operator=(const BackgroundSave&) = delete;

  // Starts saving `step` with `write_files` (called on the saving thread). Waits for the save before it first,
  // and throws its error.
  void start(int64_t step, WriteFiles write_files);
  // Waits for the save in flight; throws its error (the step it was for is named).
  void wait();

 private:
  CheckpointStore& store_;
  std::thread thread_;
  std::exception_ptr error_;
  int64_t step_ = -1;
};

}  // namespace drllm::checkpoints
