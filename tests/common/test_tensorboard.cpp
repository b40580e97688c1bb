// The TensorBoard writer's checksum against the published CRC-32C check values (RFC 3720, B.4); the event files
// themselves are read back with TensorBoard's own reader in tests/python/test_train_mpi.py.
#include <gtest/gtest.h>

#include "common/tensorboard.h"

namespace drllm {
namespace {

TEST(TensorBoard, Crc32cMatchesThePublishedCheckValues) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
}

TEST(TensorBoard, AFileStartsWithTheVersionRecord) {
  const std::string file = tensorboard_event_file({}, 1.0);
  // length (uint64 LE) + masked crc + the Event (wall_time double, file_version string) + masked crc
  const std::string event = std::string("\x09", 1) + std::string("\0\0\0\0\0\0\xf0\x3f", 8) + "\x1a\x0d" "brain.Event:2";
  ASSERT_EQ(file.size(), 8 + 4 + event.size() + 4);
  EXPECT_EQ(static_cast<unsigned char>(file[0]), event.size());
  EXPECT_EQ(file.substr(12, event.size()), event);
}

}  // namespace
}  // namespace drllm
