#include "common/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace drllm {
void fsync_path(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) throw Error(cat(path, ": cannot open to sync: ", std::strerror(errno)));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) throw Error(cat(path, ": fsync failed: ", std::strerror(err)));
}

namespace {

// A write-then-rename replaces whatever has the name: a symlink would be replaced by a file (its target left as it
// was) and a device node or FIFO destroyed, and success reported. Such a path is refused, before writing.
void check_replaceable(const std::string& path) {
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::symlink_status(path, ec);
  if (ec || status.type() == std::filesystem::file_type::not_found) return;
  DRLLM_CHECK(status.type() == std::filesystem::file_type::regular, path, ": is ",
              status.type() == std::filesystem::file_type::symlink     ? "a symbolic link"
              : status.type() == std::filesystem::file_type::directory ? "a directory"
                                                                       : "a device, FIFO or socket",
              "; drllm writes a new file and renames it over the old one, which would replace it: give the path of "
              "a regular file (or of none)");
}

}  // namespace

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  check_replaceable(path);
  const std::string tmp = path + ".tmp";
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      DRLLM_CHECK(out, tmp, ": cannot create: ", std::strerror(errno));
      write(out);
      out.flush();
      DRLLM_CHECK(out, tmp, ": write failed (disk full?): ", std::strerror(errno));
    }
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
  commit_file(tmp, path);
}

void commit_file(const std::string& tmp, const std::string& path) {
  try {
    check_replaceable(path);
    fsync_path(tmp, false);
    std::filesystem::rename(tmp, path);
    std::filesystem::path parent = std::filesystem::absolute(path).parent_path();
    fsync_path(parent.string(), true);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
}

}  // namespace drllm
