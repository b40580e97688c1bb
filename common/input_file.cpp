#include "common/input_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace drllm {

void check_input_file(const std::string& path, const std::string& what, uint64_t max_bytes) {
  struct stat st {};
  DRLLM_CHECK(::stat(path.c_str(), &st) == 0, path, ": cannot open ", what, ": ", std::strerror(errno));
  DRLLM_CHECK(!S_ISDIR(st.st_mode), path, ": is a folder, not the ", what, " file");
  DRLLM_CHECK(S_ISREG(st.st_mode), path, ": is not a regular file (a device, FIFO or socket); the ", what,
              " must be a file");
  DRLLM_CHECK(static_cast<uint64_t>(st.st_size) <= max_bytes, path, ": ", st.st_size, " bytes, more than a ", what,
              " can be (at most ", max_bytes, ")");
}

std::string read_input_file(const std::string& path, const std::string& what, uint64_t max_bytes) {
  check_input_file(path, what, max_bytes);
  std::ifstream in(path, std::ios::binary);
  DRLLM_CHECK(in, path, ": cannot open ", what, ": ", std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  DRLLM_CHECK(!in.bad(), path, ": cannot read ", what, ": ", std::strerror(errno));
  return text.str();
}

}  // namespace drllm
