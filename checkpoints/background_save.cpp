#include "checkpoints/background_save.h"

#include <iostream>
#include <utility>

#include "common/error.h"

namespace drllm::checkpoints {

BackgroundSave::~BackgroundSave() {
  try {
    wait();
  } catch (const std::exception& e) {
    std::cerr << "drllm: error: " << e.what() << "\n";
  }
}

void BackgroundSave::start(int64_t step, WriteFiles write_files) {
  wait();
  step_ = step;
  thread_ = std::thread([this, step, write = std::move(write_files)] {
    try {
      store_.save(step, write);
    } catch (...) {
      error_ = std::current_exception();
    }
  });
}

void BackgroundSave::wait() {
  if (thread_.joinable()) thread_.join();
  if (!error_) return;
  std::exception_ptr error = std::exchange(error_, nullptr);
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    throw Error(cat("checkpoint of step ", step_, " not written: ", e.what()));
  }
}

}  // namespace drllm::checkpoints
