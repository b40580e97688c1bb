// Write-then-rename never replaces what is not a regular file: a symlink, a device node, a FIFO or a directory in
// the output's place is refused by name and left as it was (the fuzzer's finding: they were replaced by a regular
// file, and success was reported).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "common/atomic_file.h"
#include "common/error.h"

namespace drllm {
namespace {

namespace fs = std::filesystem;

std::string fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("drllm-test-atomic-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::string refusal(const std::string& path) {
  try {
    write_file_atomically(path, [](std::ostream& out) { out << "new"; });
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(AtomicFile, WritesAndReplacesARegularFile) {
  const std::string path = fresh_dir("regular") + "/out.json";
  write_file_atomically(path, [](std::ostream& out) { out << "one"; });
  write_file_atomically(path, [](std::ostream& out) { out << "two"; });
  std::ifstream in(path);
  std::string text;
  in >> text;
  EXPECT_EQ(text, "two");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(AtomicFile, ASymlinkADeviceAFifoOrAFolderIsRefusedAndKept) {
  const std::string dir = fresh_dir("odd");
  const std::string target = dir + "/target", link = dir + "/link", fifo = dir + "/fifo", folder = dir + "/folder";
  std::ofstream(target) << "keep";
  fs::create_symlink(target, link);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  fs::create_directory(folder);
  for (const auto& [path, kind] : std::vector<std::pair<std::string, std::string>>{
           {link, "a symbolic link"}, {fifo, "a device, FIFO or socket"}, {"/dev/null", "a device, FIFO or socket"},
           {folder, "a directory"}}) {
    const std::string message = refusal(path);
    EXPECT_NE(message.find(path + ": is " + kind), std::string::npos) << path << ": " << message;
    EXPECT_FALSE(fs::exists(path + ".tmp")) << path;
  }
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(fs::status(fifo).type(), fs::file_type::fifo);
  EXPECT_EQ(fs::status("/dev/null").type(), fs::file_type::character);
  std::ifstream in(target);
  std::string text;
  in >> text;
  EXPECT_EQ(text, "keep");
}

}  // namespace
}  // namespace drllm
