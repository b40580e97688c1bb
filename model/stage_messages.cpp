#include "model/stage_messages.h"

#include <cstring>

#include "common/error.h"

namespace drllm::model {
namespace {

constexpr uint64_t kMagic = 0x4452'4C4C'4D53'5447ULL;  // "DRLLMSTG"

class Writer {
 public:
  void u64(uint64_t v) { raw(&v, sizeof v); }
  void i64(int64_t v) { raw(&v, sizeof v); }
  void raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  }
  void tensor(const at::Tensor& t) {
    if (!t.defined()) {
      i64(-1);
      return;
    }
    at::Tensor c = t.to(at::kCPU).contiguous();
    i64(static_cast<int64_t>(c.scalar_type()));
    i64(c.dim());
    for (int64_t s : c.sizes()) i64(s);
    raw(c.data_ptr(), c.nbytes());
  }
  std::vector<uint8_t> out;
};

class Reader {
 public:
  explicit Reader(const std::vector<uint8_t>& b) : bytes(b) {}
  void raw(void* p, size_t n) {
    DRLLM_CHECK(n <= bytes.size() - at, "pipeline stage message truncated: wanted ", n, " bytes at offset ", at,
                " of ", bytes.size());
    std::memcpy(p, bytes.data() + at, n);
    at += n;
  }
  uint64_t u64() {
    uint64_t v;
    raw(&v, sizeof v);
    return v;
  }
  int64_t i64() {
    int64_t v;
    raw(&v, sizeof v);
    return v;
  }
  int64_t count(const char* what, int64_t most) {
    const int64_t n = i64();
    DRLLM_CHECK(n >= 0 && n <= most, "pipeline stage message: ", what, " count ", n, " is out of range");
    return n;
  }
  at::Tensor tensor(at::Device device) {
    const int64_t type = i64();
    if (type == -1) return {};
    const auto st = static_cast<at::ScalarType>(type);
    DRLLM_CHECK(st == at::kFloat || st == at::kBFloat16 || st == at::kHalf, "pipeline stage message: tensor dtype ",
                type, " is not float32, bfloat16 or float16");
    const int64_t dim = count("dimension", 4);
    std::vector<int64_t> sizes;
    int64_t elements = 1;
    for (int64_t d = 0; d < dim; ++d) {
      sizes.push_back(count("size", int64_t{1} << 40));
      elements *= sizes.back();
    }
    const size_t n = static_cast<size_t>(elements) * c10::elementSize(st);
    DRLLM_CHECK(n <= bytes.size() - at, "pipeline stage message truncated: a tensor of ", n, " bytes at offset ", at,
                " of ", bytes.size());
    at::Tensor t = at::empty(sizes, at::TensorOptions(st));
    raw(t.data_ptr(), n);
    return t.to(device);
  }
  const std::vector<uint8_t>& bytes;
  size_t at = 0;
};

}  // namespace

std::vector<uint8_t> encode_stage_message(const StageMessage& m) {
  Writer w;
  w.u64(kMagic);
  w.i64(static_cast<int64_t>(m.kind));
  w.u64(m.ticket);
  w.i64(static_cast<int64_t>(m.released.size()));
  for (uint64_t h : m.released) w.u64(h);
  w.i64(m.layer_visits);
  w.i64(m.blocks);
  w.i64(static_cast<int64_t>(m.sequences.size()));
  for (const StageSequence& s : m.sequences) {
    w.u64(s.handle);
    w.i64(s.start);
    w.i64(s.length);
    w.i64((s.all_positions ? 1 : 0) | (s.observe ? 2 : 0) | (s.repeat == RepeatKv::Separate ? 4 : 0) |
          (s.route ? 8 : 0));
    w.raw(&s.knob, sizeof s.knob);
    w.raw(&s.router_seconds, sizeof s.router_seconds);
    w.i64(s.expected_tokens);
    w.i64(static_cast<int64_t>(s.counts.size()));
    w.raw(s.counts.data(), s.counts.size());
  }
  w.tensor(m.tensor);
  w.i64(static_cast<int64_t>(m.observed.size()));
  for (const ObservedState& o : m.observed) {
    w.i64(o.sequence);
    w.i64(o.layer);
    w.i64(o.pass);
    w.tensor(o.state);
  }
  return std::move(w.out);
}

StageMessage decode_stage_message(const std::vector<uint8_t>& bytes, at::Device device) {
  Reader r(bytes);
  DRLLM_CHECK(bytes.size() >= 8 && r.u64() == kMagic, "not a pipeline stage message (", bytes.size(), " bytes)");
  StageMessage m;
  const int64_t kind = r.i64();
  DRLLM_CHECK(kind >= 1 && kind <= 3, "pipeline stage message: unknown kind ", kind);
  m.kind = static_cast<StageMessage::Kind>(kind);
  m.ticket = r.u64();
  for (int64_t i = r.count("released", int64_t{1} << 32); i > 0; --i) m.released.push_back(r.u64());
  m.layer_visits = r.i64();
  m.blocks = r.i64();
  for (int64_t i = r.count("sequence", int64_t{1} << 24); i > 0; --i) {
    StageSequence s;
    s.handle = r.u64();
    s.start = r.i64();
    s.length = r.i64();
    const int64_t flags = r.i64();
    DRLLM_CHECK(flags >= 0 && flags < 16, "pipeline stage message: unknown sequence flags ", flags);
    s.all_positions = flags & 1;
    s.observe = flags & 2;
    s.repeat = (flags & 4) ? RepeatKv::Separate : RepeatKv::Shared;
    s.route = flags & 8;
    r.raw(&s.knob, sizeof s.knob);
    r.raw(&s.router_seconds, sizeof s.router_seconds);
    DRLLM_CHECK(!s.route || (s.knob >= -1 && s.knob <= 1), "pipeline stage message: router knob ", s.knob,
                " is outside [-1, 1]");
    s.expected_tokens = r.i64();
    s.counts.resize(static_cast<size_t>(r.count("layer", 1 << 16)));
    r.raw(s.counts.data(), s.counts.size());
    DRLLM_CHECK(s.start >= 0 && s.length >= 1, "pipeline stage message: sequence at ", s.start, " with ", s.length,
                " new tokens");
    m.sequences.push_back(std::move(s));
  }
  m.tensor = r.tensor(device);
  for (int64_t i = r.count("observed state", int64_t{1} << 24); i > 0; --i) {
    ObservedState o;
    o.sequence = r.i64();
    o.layer = r.i64();
    o.pass = r.i64();
    o.state = r.tensor(device);
    m.observed.push_back(std::move(o));
  }
  DRLLM_CHECK(r.at == bytes.size(), "pipeline stage message: ", bytes.size() - r.at, " bytes left over");
  return m;
}

}  // namespace drllm::model
