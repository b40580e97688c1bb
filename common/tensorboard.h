// TensorBoard event files, written directly (no TensorFlow, no protobuf library): `tensorboard --logdir RUN`
// shows the scalars. The format: a TFRecord file (each record: its length as uint64, the length's masked CRC-32C,
// the bytes, their masked CRC-32C) of serialized `tensorflow.Event` messages; the first carries the file version
// "brain.Event:2", each later one a wall time, a step and a Summary of tagged float values.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace drllm {

// CRC-32C (Castagnoli), as TFRecord uses; crc32c("123456789") = 0xE3069283.
uint32_t crc32c(const std::string& bytes);

struct ScalarEvent {
  int64_t step = 0;
  double wall_time = 0;                                 // seconds since the epoch
  std::vector<std::pair<std::string, float>> values;  // tag, value
};

// The bytes of a whole event file: the version record, then one record per event.
std::string tensorboard_event_file(const std::vector<ScalarEvent>& events, double created_wall_time);

// The event file's name TensorBoard looks for: events.out.tfevents.<seconds>.<host>.<suffix>.
std::string tensorboard_file_name(double created_wall_time, const std::string& suffix);

// Seconds since the epoch, now.
double wall_time_now();

// Appends events to one file of its own (a new name per writer), flushed after each: what a crash leaves is
// every event but perhaps a torn last record, which TensorBoard's reader skips. The curves are an aid, not a
// result: a write that fails (a full disk) is reported once on stderr and the appender goes quiet; the job goes on.
class TensorBoardAppender {
 public:
  TensorBoardAppender(const std::string& dir, const std::string& suffix);
  void add(const ScalarEvent& event);
  const std::string& path() const { return path_; }

 private:
  bool write(const std::string& bytes);
  std::string path_;
  bool failed_ = false;
};

}  // namespace drllm
