#include "formats/zip_archive.h"

#include <zlib.h>

#include <cstring>
#include <fstream>

#include "common/error.h"

namespace drllm::formats {
namespace {

constexpr uint32_t kEndOfDirectory = 0x06054b50, kDirectoryEntry = 0x02014b50, kLocalHeader = 0x04034b50;

uint32_t u32(const uint8_t* p) { return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24; }
uint16_t u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }

}  // namespace

ZipArchive::ZipArchive(const std::string& path) : path_(path) {
  std::ifstream in(path, std::ios::binary);
  DRLLM_CHECK(in, path, ": cannot open");
  bytes_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  const size_t n = bytes_.size();
  DRLLM_CHECK(n >= 22, path, ": ", n, " bytes is too short for a zip archive");
  // The end-of-directory record is the last 22 bytes, unless a comment (up to 65535 bytes) follows it.
  size_t end = std::string::npos;
  for (size_t i = n - 22 + 1; i-- > 0 && n - i <= 22 + 65535;) {
    if (u32(&bytes_[i]) == kEndOfDirectory) {
      end = i;
      break;
    }
  }
  DRLLM_CHECK(end != std::string::npos, path, ": not a zip archive (no end-of-directory record; truncated?)");
  const uint8_t* e = &bytes_[end];
  const uint64_t count = u16(e + 10), dir_size = u32(e + 12), dir_offset = u32(e + 16);
  DRLLM_CHECK(count != 0xffff && dir_offset != 0xffffffff, path, ": a zip64 archive, which drllm does not read");
  DRLLM_CHECK(dir_offset + dir_size <= end, path, ": the central directory lies outside the file (truncated?)");
  size_t at = dir_offset;
  for (uint64_t k = 0; k < count; ++k) {
    DRLLM_CHECK(at + 46 <= end && u32(&bytes_[at]) == kDirectoryEntry, path, ": directory entry ", k,
                " is damaged");
    const uint8_t* d = &bytes_[at];
    Member m;
    m.method = u16(d + 10);
    m.crc32 = u32(d + 16);
    m.compressed_size = u32(d + 20);
    m.size = u32(d + 24);
    const size_t name_len = u16(d + 28), extra_len = u16(d + 30), comment_len = u16(d + 32);
    m.local_header_offset = u32(d + 42);
    DRLLM_CHECK(at + 46 + name_len <= end, path, ": directory entry ", k, " runs past the directory");
    m.name.assign(reinterpret_cast<const char*>(d + 46), name_len);
    members_.push_back(std::move(m));
    at += 46 + name_len + extra_len + comment_len;
  }
}

const ZipArchive::Member* ZipArchive::find(const std::string& name) const {
  for (const Member& m : members_)
    if (m.name == name) return &m;
  return nullptr;
}

std::vector<uint8_t> ZipArchive::read(const std::string& name) const {
  const Member* m = find(name);
  DRLLM_CHECK(m, path_, ": has no member ", name);
  const std::string where = cat(path_, ": member ", name);
  const uint64_t h = m->local_header_offset;
  DRLLM_CHECK(h + 30 <= bytes_.size() && u32(&bytes_[h]) == kLocalHeader, where, ": its local header is damaged");
  const uint64_t start = h + 30 + u16(&bytes_[h + 26]) + u16(&bytes_[h + 28]);
  DRLLM_CHECK(start + m->compressed_size <= bytes_.size(), where, ": its data runs past the end of the archive (",
              bytes_.size(), " bytes; truncated?)");
  std::vector<uint8_t> out(m->size);
  if (m->method == 0) {
    DRLLM_CHECK(m->compressed_size == m->size, where, ": stored with two different sizes");
    if (m->size) std::memcpy(out.data(), &bytes_[start], m->size);
  } else {
    DRLLM_CHECK(m->method == 8, where, ": compression method ", m->method, " (drllm reads stored and deflated)");
    z_stream z{};
    DRLLM_CHECK(inflateInit2(&z, -MAX_WBITS) == Z_OK, where, ": zlib would not start");
    z.next_in = const_cast<Bytef*>(&bytes_[start]);
    z.avail_in = static_cast<uInt>(m->compressed_size);
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&z, Z_FINISH);
    const uint64_t produced = z.total_out;
    inflateEnd(&z);
    DRLLM_CHECK(rc == Z_STREAM_END && produced == m->size, where, ": its deflated data is damaged (zlib: ",
                rc == Z_STREAM_END ? "wrong size" : (z.msg ? z.msg : "incomplete stream"), ")");
  }
  const uint32_t crc = static_cast<uint32_t>(crc32(0L, out.data(), static_cast<uInt>(out.size())));
  DRLLM_CHECK(crc == m->crc32, where, ": CRC-32 ", crc, " but the archive says ", m->crc32, " (damaged)");
  return out;
}

}  // namespace drllm::formats
