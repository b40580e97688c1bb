#include "common/console.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <ostream>
#include <sstream>
#include <utility>

#include "common/error.h"

namespace drllm {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::Info)};
std::atomic<int> g_style{static_cast<int>(ProgressStyle::Auto)};
std::atomic<double> g_plain_every{30.0};

bool is_terminal_path(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISCHR(st.st_mode)) return false;
  char target[256] = {};
  const ssize_t n = ::readlink(path.c_str(), target, sizeof(target) - 1);
  const std::string name = n > 0 ? std::string(target, static_cast<size_t>(n)) : "";
  return name.rfind("/dev/pts/", 0) == 0 || name.rfind("/dev/tty", 0) == 0 || name == "/dev/console";
}

bool launched_by_mpi() {
  return std::getenv("OMPI_COMM_WORLD_RANK") || std::getenv("PMI_RANK") || std::getenv("PMIX_RANK");
}

}  // namespace

// The value `name` stands for in `table`, or an error naming the option and the names it takes.
template <typename T, size_t N>
T parse_named(const std::string& option, const std::string& name, const std::pair<const char*, T> (&table)[N]) {
  std::string names;
  for (const auto& [key, value] : table) {
    if (name == key) return value;
    names += (names.empty() ? "" : ", ") + std::string(key);
  }
  throw Error(option + " " + name + ": expected one of " + names);
}

LogLevel parse_log_level(const std::string& name) {
  static const std::pair<const char*, LogLevel> levels[] = {
      {"error", LogLevel::Error}, {"warning", LogLevel::Warning}, {"info", LogLevel::Info}, {"debug", LogLevel::Debug}};
  return parse_named("--log-level", name, levels);
}
std::ostream& log_at(LogLevel level) {
  static std::ostream discard(nullptr);  // no buffer: everything written is dropped
  return logging(level) ? std::cerr : discard;
}

void set_log_level(LogLevel level) { g_level = static_cast<int>(level); }
LogLevel log_level() { return static_cast<LogLevel>(g_level.load()); }

ProgressStyle parse_progress_style(const std::string& name) {
  static const std::pair<const char*, ProgressStyle> styles[] = {
      {"auto", ProgressStyle::Auto}, {"line", ProgressStyle::Line}, {"plain", ProgressStyle::Plain},
      {"none", ProgressStyle::None}};
  return parse_named("--progress", name, styles);
}
void set_progress_style(ProgressStyle style) { g_style = static_cast<int>(style); }
ProgressStyle progress_style() { return static_cast<ProgressStyle>(g_style.load()); }
void set_plain_progress_every(double seconds) { g_plain_every = seconds; }
double plain_progress_every() { return g_plain_every.load(); }

bool stderr_is_terminal() {
  if (::isatty(STDERR_FILENO)) return true;
  if (!launched_by_mpi()) return false;
  return is_terminal_path("/proc/" + std::to_string(::getppid()) + "/fd/2");
}

std::string format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "?";
  const auto s = static_cast<int64_t>(seconds + 0.5);
  std::ostringstream out;
  if (s < 60) {
    out << s << "s";
  } else if (s < 3600) {
    out << s / 60 << "m" << std::setw(2) << std::setfill('0') << s % 60 << "s";
  } else {
    out << s / 3600 << "h" << std::setw(2) << std::setfill('0') << (s % 3600) / 60 << "m";
  }
  return out.str();
}

Progress::Progress(std::string label, int64_t total, std::string unit, bool active, std::ostream& out)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), out_(out), plain_every_s_(plain_progress_every()),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {
  const ProgressStyle style = progress_style();
  active_ = active && style != ProgressStyle::None && logging(LogLevel::Info);
  in_place_ = style == ProgressStyle::Line || (style == ProgressStyle::Auto && stderr_is_terminal());
}

Progress::~Progress() {
  if (active_ && showing_ && !finished_) out_ << "\n" << std::flush;  // leave the last state on screen
}

std::string Progress::render(int64_t done, const std::string& detail) const {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::ostringstream line;
  line << label_ << "  " << done << "/" << total_;
  if (total_ > 0) line << "  " << std::fixed << std::setprecision(0) << 100.0 * done / total_ << " %";
  line << std::defaultfloat;
  if (done > start_done_ && elapsed > 0) {
    const double rate = (done - start_done_) / elapsed;
    line << "  " << std::setprecision(rate < 10 ? 2 : 3) << rate << " " << unit_ << "/s";
    if (done < total_) line << "  ETA " << format_duration((total_ - done) / rate);
  }
  line << "  " << format_duration(elapsed);
  if (!detail.empty()) line << "  " << detail;
  return line.str();
}

void Progress::draw(bool force) {
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (!force && since < (in_place_ ? 0.2 : plain_every_s_)) return;
  last_draw_ = now;
  if (in_place_) {
    out_ << "\r" << render(done_, detail_) << "\x1b[K" << std::flush;  // \x1b[K: clear the rest of the line
    showing_ = true;
  } else {
    out_ << render(done_, detail_) << "\n" << std::flush;
  }
}

void Progress::update(int64_t done, const std::string& detail) {
  if (!active_) return;
  done_ = done;
  detail_ = detail;
  draw(false);
}

void Progress::finish(int64_t done, const std::string& detail) {
  if (!active_ || finished_) return;
  done_ = done;
  if (!detail.empty()) detail_ = detail;
  draw(true);
  if (in_place_) out_ << "\n" << std::flush;  // the last state stays on screen
  finished_ = true;
}

void Progress::message(const std::string& line) {
  if (active_ && in_place_ && showing_) out_ << "\r\x1b[K";
  out_ << line << "\n";
  if (active_ && in_place_ && showing_ && !finished_) draw(true);
  out_ << std::flush;
}

}  // namespace drllm
