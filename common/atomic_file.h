// Write-then-rename: a file that other steps read appears whole or not at all. Writes to PATH.tmp, fsyncs,
// renames over PATH and fsyncs the folder. A failure (full disk, say) removes the .tmp and throws naming the path.
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace drllm {

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

// The second half of the above for files another library writes (HDF5, safetensors): fsyncs `tmp`, renames it
// over `path` and fsyncs the folder. On failure removes `tmp` and throws.
void commit_file(const std::string& tmp, const std::string& path);

// fsync of one file or folder; throws naming the path.
void fsync_path(const std::string& path, bool directory);

}  // namespace drllm
