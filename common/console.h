// What a job prints, and to whom: the log level (--log-level, --quiet) and the progress line (--progress).
// Errors and warnings go to every rank's stderr; the job's progress and summaries are rank 0's (a job of 1,000 ranks
// prints one progress line, not 1,000); per-example lines are debug output, from every rank.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace drllm {

enum class LogLevel { Error = 0, Warning = 1, Info = 2, Debug = 3 };
LogLevel parse_log_level(const std::string& name);  // error, warning, info, debug
void set_log_level(LogLevel level);
LogLevel log_level();
inline bool logging(LogLevel level) { return static_cast<int>(level) <= static_cast<int>(log_level()); }
// std::cerr when the level is on, else a stream that discards: `log_info() << "..."`.
std::ostream& log_at(LogLevel level);
inline std::ostream& log_info() { return log_at(LogLevel::Info); }
inline std::ostream& log_warning() { return log_at(LogLevel::Warning); }

// auto: rewritten in place on a terminal, plain lines elsewhere; line; plain; none.
enum class ProgressStyle { Auto, Line, Plain, None };
ProgressStyle parse_progress_style(const std::string& name);
void set_progress_style(ProgressStyle style);
ProgressStyle progress_style();
// Seconds between plain progress lines (default 30).
void set_plain_progress_every(double seconds);
double plain_progress_every();

// Whether this process's stderr ends on a terminal. An MPI rank's stderr is a pipe to its launcher, so for a rank
// this asks about the launcher's stderr instead (mpirun's, through /proc/PARENT/fd/2 on the rank's node).
bool stderr_is_terminal();

// "12s", "3m05s", "1h02m".
std::string format_duration(double seconds);

// One job's progress: "LABEL  done/total  pct  rate UNIT/s  ETA 3m05s  DETAIL". On a terminal (style line) the
// line is rewritten in place at most 5 times a second; otherwise (style plain) it is printed as a line of its own
// every plain_progress_every() seconds. finish() always prints the last state as a line. Inactive (prints nothing) when
// `active` is false (ranks other than 0), the style is none, or the log level is below info.
class Progress {
 public:
  Progress(std::string label, int64_t total, std::string unit, bool active, std::ostream& out);
  ~Progress();
  void update(int64_t done, const std::string& detail = "");
  void finish(int64_t done, const std::string& detail = "");
  // A line of its own while a progress line may be showing: clears the line first, then redraws it.
  void message(const std::string& line);
  bool active() const { return active_; }
  // A resumed job: `done` were finished before this run, so the rate and ETA count only what follows.
  void resume_from(int64_t done) { done_ = start_done_ = done; }

 private:
  std::string render(int64_t done, const std::string& detail) const;
  void draw(bool force);

  std::string label_, unit_;
  int64_t total_, done_ = 0, start_done_ = 0;
  std::string detail_;
  bool active_, in_place_, showing_ = false, finished_ = false;
  std::ostream& out_;
  double plain_every_s_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace drllm
