// Dequantization of ggml blocks (ggml-quants.c's dequantize_row_*), in the same float32 operation order as
// the Python gguf package's numpy code, so both give bit-identical values.
#include <cstring>

#include "common/error.h"
#include "formats/gguf.h"

namespace drllm::formats {
namespace {

float half_to_float(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF, bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exponent = 127 - 15 + 1;
      while (!(mantissa & 0x400)) {
        mantissa <<= 1;
        --exponent;
      }
      bits = sign | (exponent << 23) | ((mantissa & 0x3FF) << 13);
    }
  } else if (exponent == 31) {
    bits = sign | 0x7F800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float read_half(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return half_to_float(h);
}

// The 6-bit scale and min of sub-block j of a Q4_K / Q5_K block.
void scale_min_k4(int j, const uint8_t* q, uint8_t& d, uint8_t& m) {
  if (j < 4) {
    d = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

void q4_0(const uint8_t* b, float* y) {
  float d = read_half(b);
  const uint8_t* qs = b + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = d * static_cast<float>((qs[j] & 0x0F) - 8);
    y[j + 16] = d * static_cast<float>((qs[j] >> 4) - 8);
  }
}

void q4_1(const uint8_t* b, float* y) {
  float d = read_half(b), m = read_half(b + 2);
  const uint8_t* qs = b + 4;
  for (int j = 0; j < 16; ++j) {
    y[j] = d * static_cast<float>(qs[j] & 0x0F) + m;
    y[j + 16] = d * static_cast<float>(qs[j] >> 4) + m;
  }
}

void q5_0(const uint8_t* b, float* y) {
  float d = read_half(b);
  uint32_t qh;
  std::memcpy(&qh, b + 2, 4);
  const uint8_t* qs = b + 6;
  for (int j = 0; j < 16; ++j) {
    int x0 = ((qs[j] & 0x0F) | (((qh >> j) & 1) << 4)) - 16;
    int x1 = ((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16;
    y[j] = d * static_cast<float>(x0);
    y[j + 16] = d * static_cast<float>(x1);
  }
}

void q5_1(const uint8_t* b, float* y) {
  float d = read_half(b), m = read_half(b + 2);
  uint32_t qh;
  std::memcpy(&qh, b + 4, 4);
  const uint8_t* qs = b + 8;
  for (int j = 0; j < 16; ++j) {
    int x0 = (qs[j] & 0x0F) | (((qh >> j) & 1) << 4);
    int x1 = (qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
    y[j] = d * static_cast<float>(x0) + m;
    y[j + 16] = d * static_cast<float>(x1) + m;
  }
}

void q8_0(const uint8_t* b, float* y) {
  float d = read_half(b);
  for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(static_cast<int8_t>(b[2 + j])) * d;
}

void q4_k(const uint8_t* b, float* y) {
  float d = read_half(b), dmin = read_half(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* q = b + 16;
  for (int j = 0, is = 0; j < 256; j += 64, is += 2, q += 32) {
    uint8_t sc, m;
    scale_min_k4(is, scales, sc, m);
    float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(m);
    scale_min_k4(is + 1, scales, sc, m);
    float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(m);
    for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
  }
}

void q5_k(const uint8_t* b, float* y) {
  float d = read_half(b), dmin = read_half(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* ql = b + 48;
  uint8_t u1 = 1, u2 = 2;
  for (int j = 0, is = 0; j < 256; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
    uint8_t sc, m;
    scale_min_k4(is, scales, sc, m);
    float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(m);
    scale_min_k4(is + 1, scales, sc, m);
    float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(m);
    for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
  }
}

void q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  float d = read_half(b + 208);
  for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
    for (int l = 0; l < 32; ++l) {
      int is = l / 16;
      int q1 = static_cast<int8_t>((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      int q2 = static_cast<int8_t>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      int q3 = static_cast<int8_t>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      int q4 = static_cast<int8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l + 0] = (d * static_cast<float>(sc[is + 0])) * static_cast<float>(q1);
      y[l + 32] = (d * static_cast<float>(sc[is + 2])) * static_cast<float>(q2);
      y[l + 64] = (d * static_cast<float>(sc[is + 4])) * static_cast<float>(q3);
      y[l + 96] = (d * static_cast<float>(sc[is + 6])) * static_cast<float>(q4);
    }
  }
}

}  // namespace

void dequantize(GgmlType type, const uint8_t* src, float* dst, int64_t count) {
  const int64_t block = static_cast<int64_t>(ggml_block_elements(type));
  const size_t bytes = ggml_block_bytes(type);
  DRLLM_CHECK(bytes != 0 && count % block == 0, "dequantize: ", count, " elements are not whole ",
              to_string(type), " blocks");
  void (*one_block)(const uint8_t*, float*) = nullptr;
  switch (type) {
    case GgmlType::F32:
      std::memcpy(dst, src, static_cast<size_t>(count) * 4);
      return;
    case GgmlType::F16:
      for (int64_t i = 0; i < count; ++i) dst[i] = read_half(src + 2 * i);
      return;
    case GgmlType::BF16:
      for (int64_t i = 0; i < count; ++i) {
        uint32_t bits = static_cast<uint32_t>(src[2 * i] | (src[2 * i + 1] << 8)) << 16;
        std::memcpy(dst + i, &bits, 4);
      }
      return;
    case GgmlType::Q4_0: one_block = q4_0; break;
    case GgmlType::Q4_1: one_block = q4_1; break;
    case GgmlType::Q5_0: one_block = q5_0; break;
    case GgmlType::Q5_1: one_block = q5_1; break;
    case GgmlType::Q8_0: one_block = q8_0; break;
    case GgmlType::Q4_K: one_block = q4_k; break;
    case GgmlType::Q5_K: one_block = q5_k; break;
    case GgmlType::Q6_K: one_block = q6_k; break;
  }
  for (int64_t b = 0; b < count / block; ++b) one_block(src + b * bytes, dst + b * block);
}

}  // namespace drllm::formats
