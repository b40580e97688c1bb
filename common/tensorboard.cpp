#include "common/tensorboard.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/console.h"
#include "common/error.h"

namespace drllm {
namespace {

const std::array<uint32_t, 256>& crc32c_table() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // the reflected polynomial
      t[i] = c;
    }
    return t;
  }();
  return table;
}

uint32_t masked_crc(const std::string& bytes) {
  const uint32_t crc = crc32c(bytes);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

void put_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// Protocol-buffer fields by wire type: 1 (64-bit), 0 (varint), 2 (length-delimited), 5 (32-bit).
void put_double(std::string& out, int field, double v) {
  put_varint(out, static_cast<uint64_t>(field) << 3 | 1);
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  put_le(out, bits, 8);
}
void put_int64(std::string& out, int field, int64_t v) {
  put_varint(out, static_cast<uint64_t>(field) << 3 | 0);
  put_varint(out, static_cast<uint64_t>(v));
}
void put_bytes(std::string& out, int field, const std::string& bytes) {
  put_varint(out, static_cast<uint64_t>(field) << 3 | 2);
  put_varint(out, bytes.size());
  out += bytes;
}
void put_float(std::string& out, int field, float v) {
  put_varint(out, static_cast<uint64_t>(field) << 3 | 5);
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  put_le(out, bits, 4);
}

std::string record(const std::string& data) {
  std::string out, length;
  put_le(length, data.size(), 8);
  out += length;
  put_le(out, masked_crc(length), 4);
  out += data;
  put_le(out, masked_crc(data), 4);
  return out;
}

// tensorflow.Event: wall_time = 1, step = 2, file_version = 3, summary = 5.
// tensorflow.Summary: value = 1 (repeated); Summary.Value: tag = 1, simple_value = 2.
std::string event_record(const ScalarEvent& event) {
  std::string summary;
  for (const auto& [tag, value] : event.values) {
    std::string v;
    put_bytes(v, 1, tag);
    put_float(v, 2, value);
    put_bytes(summary, 1, v);
  }
  std::string e;
  put_double(e, 1, event.wall_time);
  put_int64(e, 2, event.step);
  put_bytes(e, 5, summary);
  return record(e);
}

std::string version_record(double wall_time) {
  std::string e;
  put_double(e, 1, wall_time);
  put_bytes(e, 3, "brain.Event:2");
  return record(e);
}

}  // namespace

uint32_t crc32c(const std::string& bytes) {
  const auto& table = crc32c_table();
  uint32_t c = 0xffffffffu;
  for (unsigned char b : bytes) c = table[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

std::string tensorboard_event_file(const std::vector<ScalarEvent>& events, double created_wall_time) {
  std::string out = version_record(created_wall_time);
  for (const ScalarEvent& e : events) out += event_record(e);
  return out;
}

std::string tensorboard_file_name(double created_wall_time, const std::string& suffix) {
  char host[256] = "localhost";
  ::gethostname(host, sizeof(host) - 1);
  return cat("events.out.tfevents.", static_cast<int64_t>(created_wall_time), ".", host, ".", suffix);
}

double wall_time_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TensorBoardAppender::TensorBoardAppender(const std::string& dir, const std::string& suffix) {
  const double now = wall_time_now();
  std::error_code ignored;
  std::filesystem::create_directories(dir, ignored);
  path_ = (std::filesystem::path(dir) / tensorboard_file_name(now, cat(::getpid(), ".", suffix))).string();
  write(version_record(now));
}

void TensorBoardAppender::add(const ScalarEvent& event) { write(event_record(event)); }

bool TensorBoardAppender::write(const std::string& bytes) {
  if (failed_) return false;
  std::ofstream out(path_, std::ios::binary | std::ios::app);
  out << bytes;
  if (out.flush()) return true;
  failed_ = true;
  log_warning() << "warning: " << path_ << ": cannot write the TensorBoard events (" << std::strerror(errno)
                << "); going on without them\n";
  return false;
}

}  // namespace drllm
