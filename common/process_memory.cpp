#include "common/process_memory.h"

#include <fstream>
#include <string>

namespace drllm {
namespace {

int64_t status_kilobytes(const std::string& field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.compare(0, field.size(), field) == 0 && line.size() > field.size() && line[field.size()] == ':')
      return std::stoll(line.substr(field.size() + 1));
  return 0;
}

}  // namespace

int64_t peak_resident_bytes() { return status_kilobytes("VmHWM") * 1024; }
int64_t current_resident_bytes() { return status_kilobytes("VmRSS") * 1024; }

}  // namespace drllm
