// ZipArchive: the members of a zip file (a Python wheel is one), read as data. Stored and deflated members,
// each checked against its CRC-32; no zip64 (a wheel part of a model is far below 4 GiB) and no encryption.
// Errors name the archive and the member.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace drllm::formats {

class ZipArchive {
 public:
  // Reads the central directory; the members stay unread until asked for.
  explicit ZipArchive(const std::string& path);

  struct Member {
    std::string name;
    uint16_t method = 0;  // 0 stored, 8 deflated
    uint32_t crc32 = 0;
    uint64_t compressed_size = 0, size = 0, local_header_offset = 0;
  };
  const Member* find(const std::string& name) const;
  // The member's bytes, inflated and checked against its CRC-32 and size.
  std::vector<uint8_t> read(const std::string& name) const;

 private:
  std::string path_;
  std::vector<uint8_t> bytes_;  // the whole archive (wheels of model parts are tens of MB)
  std::vector<Member> members_;
};

}  // namespace drllm::formats
