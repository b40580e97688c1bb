#include "common/folder_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "common/error.h"

namespace drllm {
namespace {

std::string read_all(int fd) {
  std::string text;
  char buffer[512];
  ::lseek(fd, 0, SEEK_SET);
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0 && text.size() < 4096;) text.append(buffer, n);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text;
}

std::string now_text() {
  const std::time_t t = std::time(nullptr);
  char text[64];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  return text;
}

}  // namespace

FolderLock::FolderLock(const std::string& folder, const std::string& job) {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  DRLLM_CHECK(!ec, folder, ": cannot create the output folder: ", ec.message());
  path_ = (std::filesystem::path(folder) / ".drllm.lock").string();
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  DRLLM_CHECK(fd_ >= 0, path_, ": cannot create the lock file (", std::strerror(errno),
              "); the output folder must be writable");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const std::string holder = error == EWOULDBLOCK ? read_all(fd_) : "";
    ::close(fd_);
    fd_ = -1;
    DRLLM_CHECK(error != EWOULDBLOCK, folder, " is in use by another job (",
                holder.empty() ? std::string("it has not said which yet") : holder,
                "); wait for it to end, stop it, or give this job another output folder");
    throw Error(cat(path_, ": cannot lock (", std::strerror(error), ")"));
  }
  char host[256] = "unknown host";
  ::gethostname(host, sizeof host - 1);
  const std::string who = cat(job, " on ", host, ", pid ", ::getpid(), ", since ", now_text());
  // Rewritten in place (the lock is ours now): the next job's message reads it. Best effort: on a full disk the
  // lock still holds, and the job's own writes report the disk.
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] const ssize_t written = ::pwrite(fd_, who.data(), who.size(), 0);
  }
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // closing drops the flock; the file stays for the next job to reuse
}

}  // namespace drllm
