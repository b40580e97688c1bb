// Write-then-rename: a file that other steps read appears whole or not at all. Writes to PATH.tmp, fsyncs,
// renames over PATH and fsyncs the folder. A failure (full disk, say) removes the .tmp and throws naming the path.
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace drllm {

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

}  // namespace drllm
