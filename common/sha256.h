// SHA-256 of byte strings and files (OpenSSL's EVP), as lowercase hex. Used for model fingerprints and,
// later, the checksums of label shards and checkpoints.
#pragma once

#include <string>
#include <string_view>

namespace drllm {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view bytes);
  std::string hex_digest();  // finishes the hash; call once

 private:
  void* context_;  // EVP_MD_CTX*, kept opaque so OpenSSL stays out of this header
};

std::string sha256_hex(std::string_view bytes);
std::string sha256_file_hex(const std::string& path);

}  // namespace drllm
