// What every fuzz target shares: the bytes libFuzzer hands over become a file (the readers take paths, and reading
// a real file is the path users take), and the one outcome besides success that is allowed is drllm::Error, the
// error that names the file and what was expected. Any other exception is a finding (a raw library message would
// reach the user: nlohmann's type_error, std::stoll's invalid_argument, a filesystem_error), and so is a crash,
// a sanitizer report or a hang.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <typeinfo>

#include "common/error.h"

namespace drllm::fuzz {

// A folder of this process's own under $TMPDIR (or /tmp), made once.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/drllm-fuzz-XXXXXX";
    if (!mkdtemp(templ.data())) std::abort();
    return templ;
  }();
  return dir;
}

// Writes `size` bytes at `data` to scratch_dir()/name and returns the path.
inline std::string write_input(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = scratch_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) std::abort();
  return path;
}

// Runs `read`: drllm::Error is the expected refusal (printed with DRLLM_FUZZ_VERBOSE=1); anything else that escapes aborts, which libFuzzer reports
// with the input that caused it.
template <typename Read>
int expect_success_or_error(Read&& read) {
  try {
    read();
  } catch (const drllm::Error& e) {
    static const bool verbose = std::getenv("DRLLM_FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "refused: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz finding: %s escaped as a raw library error: %s\n", typeid(e).name(), e.what());
    std::abort();
  }
  return 0;
}

}  // namespace drllm::fuzz
