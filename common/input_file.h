// The files drllm reads are regular files of a bounded size. Anything else is refused by name before it is read:
// a FIFO would block the job forever, /dev/zero (or any endless device) would grow a buffer without bound.
#pragma once

#include <cstdint>
#include <string>

namespace drllm {

inline constexpr uint64_t kMiB = uint64_t{1} << 20, kGiB = uint64_t{1} << 30;

// Throws "PATH: cannot open WHAT: ..." unless PATH is a regular file (or a link to one) of at most `max_bytes`.
void check_input_file(const std::string& path, const std::string& what, uint64_t max_bytes);

// The whole file, after check_input_file.
std::string read_input_file(const std::string& path, const std::string& what, uint64_t max_bytes);

}  // namespace drllm
