// Where the tests find their data: the benchmark slices that ship in datasets/ (always there), and the optional
// shared assets (the full data sets and the tokenizer files), which a bare clone does not have. A test that
// needs the shared assets skips itself, saying why, instead of passing without them.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace drllm::testing {

inline std::string shipped_data(const std::string& name) { return std::string(DRLLM_DATASETS_DIR) + "/" + name; }

inline std::string shared_asset(const std::string& relative) { return std::string(DRLLM_ASSETS_DIR) + "/" + relative; }

inline bool have_shared_asset(const std::string& relative) {
  return std::filesystem::exists(shared_asset(relative));
}

}  // namespace drllm::testing

// Skips the current test (GoogleTest's SKIPPED, which ctest reports as skipped) when a shared asset is absent.
#define DRLLM_SKIP_WITHOUT_SHARED_ASSET(relative)                                                          \
  do {                                                                                                     \
    if (!::drllm::testing::have_shared_asset(relative))                                                    \
      GTEST_SKIP() << "needs the shared assets (" << ::drllm::testing::shared_asset(relative)              \
                   << " is absent; set DRLLM_ASSETS and rerun scripts/setup)";                             \
  } while (0)
