// One job per output folder: an advisory lock (flock) on FOLDER/.drllm.lock, held for the job's life. A second
// job on the same folder is refused at once, naming the first (its command, host, pid, start time, which the
// holder writes into the lock file); a job that dies, even by kill -9, leaves no lock behind, because the kernel
// drops a flock with its process. Rank 0 holds it for the job; the other ranks of the job need not.
#pragma once

#include <string>

namespace drllm {

class FolderLock {
 public:
  // Creates the folder if needed (so an unwritable --out fails here, before any work) and takes the lock, or
  // throws naming the job that holds it. `job`: what this job is, for the next one's message ("drllm search").
  FolderLock(const std::string& folder, const std::string& job);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace drllm
