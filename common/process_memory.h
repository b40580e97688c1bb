// The process's resident memory as Linux counts it (/proc/self/status), for the figures a job reports.
#pragma once

#include <cstdint>

namespace drllm {

int64_t peak_resident_bytes();     // VmHWM: the most resident memory so far; 0 where /proc is not there
int64_t current_resident_bytes();  // VmRSS

}  // namespace drllm
