// A thin, error-checked layer over the HDF5 C API for the label store: owned handles, and the few dataset and
// attribute shapes the shards use (fixed arrays of numbers, variable-length strings and integer lists).
// Every failure throws drllm::Error naming the file and the object, with HDF5's own innermost message.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace drllm::formats::hdf5 {

// An owned hid_t, closed with the matching H5?close.
class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Handle(Handle&& other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = -1; }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }
  void reset();
  hid_t get() const { return id_; }
  hid_t release() {  // gives up ownership without closing
    hid_t id = id_;
    id_ = -1;
    return id;
  }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

class File {
 public:
  static File create(const std::string& path);  // truncates
  static File open_read(const std::string& path);
  void close();  // flushes; throws when the data cannot be written (a full disk)
  const std::string& path() const { return path_; }

  bool has(const std::string& name) const;
  std::vector<hsize_t> shape(const std::string& name) const;

  void set_attribute(const std::string& name, const std::string& value);
  void set_attribute(const std::string& name, int64_t value);
  std::string string_attribute(const std::string& name) const;
  int64_t int_attribute(const std::string& name) const;

  // Numbers: `type` is the in-file and in-memory HDF5 type (H5T_NATIVE_UINT8, ...).
  void write_array(const std::string& name, hid_t type, const std::vector<hsize_t>& shape, const void* data);
  void read_array(const std::string& name, hid_t type, void* data) const;
  // Rows [first, first + count) along the first dimension, into `data` (count times one row's values).
  void read_rows(const std::string& name, hid_t type, hsize_t first, hsize_t count, void* data) const;
  void write_strings(const std::string& name, const std::vector<std::string>& values);
  std::vector<std::string> read_strings(const std::string& name) const;
  template <typename T>
  void write_lists(const std::string& name, hid_t type, const std::vector<std::vector<T>>& values);
  template <typename T>
  std::vector<std::vector<T>> read_lists(const std::string& name, hid_t type) const;

 private:
  File(std::string path, Handle handle) : path_(std::move(path)), handle_(std::move(handle)) {}
  [[noreturn]] void fail(const std::string& what) const;
  Handle open_dataset(const std::string& name) const;
  void write_vlen(const std::string& name, hid_t element, const std::vector<hvl_t>& rows);
  std::vector<hvl_t> read_vlen(const std::string& name, hid_t element, Handle& memtype, Handle& space) const;
  void reclaim_vlen(hid_t memtype, hid_t space, std::vector<hvl_t>& rows) const;

  std::string path_;
  Handle handle_;
};

// IEEE half precision as h5py writes numpy.float16, so h5py reads the features as float16.
hid_t float16_type();

// The innermost message on HDF5's error stack ("" when empty).
std::string last_error();

template <typename T>
void File::write_lists(const std::string& name, hid_t type, const std::vector<std::vector<T>>& values) {
  std::vector<hvl_t> rows(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    rows[i] = hvl_t{values[i].size(), values[i].empty() ? nullptr : const_cast<T*>(values[i].data())};
  write_vlen(name, type, rows);
}

template <typename T>
std::vector<std::vector<T>> File::read_lists(const std::string& name, hid_t type) const {
  Handle memtype, space;
  std::vector<hvl_t> rows = read_vlen(name, type, memtype, space);
  std::vector<std::vector<T>> out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const T* p = static_cast<const T*>(rows[i].p);
    out[i].assign(p, p + rows[i].len);
  }
  reclaim_vlen(memtype.get(), space.get(), rows);
  return out;
}

}  // namespace drllm::formats::hdf5
