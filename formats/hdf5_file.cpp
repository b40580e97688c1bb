#include "formats/hdf5_file.h"

#include "common/error.h"
#include "common/library_check.h"

// DRLLM_H5_CHECK(H5Xxx(...)): a call whose negative result (HDF5's failure) throws naming the call, file:line,
// this process and HDF5's innermost message. Calls whose failure names a shard or dataset go through fail()
// instead, which adds the file being read.
#define DRLLM_H5_CHECK(call)                                                                               \
  do {                                                                                                     \
    if ((call) < 0)                                                                                        \
      ::drllm::throw_library_failure("HDF5", #call, __FILE__, __LINE__, ::drllm::formats::hdf5::last_error()); \
  } while (0)

namespace drllm::formats::hdf5 {
namespace {

// HDF5 prints its error stack to stderr by default; we report errors ourselves, once, with the file's name.
// (Not checked: it runs before main, where nothing could report a failure, and a failure only leaves HDF5 noisy.)
struct QuietErrors {
  QuietErrors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }
};
const QuietErrors quiet_errors;

herr_t innermost(unsigned, const H5E_error2_t* e, void* out) {
  if (e->desc && *e->desc) *static_cast<std::string*>(out) = e->desc;
  return 0;
}

Handle vlen_string_type() {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
  DRLLM_H5_CHECK(t.get());
  DRLLM_H5_CHECK(H5Tset_size(t.get(), H5T_VARIABLE));
  DRLLM_H5_CHECK(H5Tset_cset(t.get(), H5T_CSET_UTF8));
  return t;
}

}  // namespace

// Not checked: this reads the error stack while an error is being reported.
std::string last_error() {
  std::string message;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, &message);
  H5Eclear2(H5E_DEFAULT);
  return message;
}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    close_ = other.close_;
    other.id_ = -1;
  }
  return *this;
}

// Not checked: closing runs in destructors, and a failed close of a read handle loses nothing (File::close checks
// the close that commits a written file).
void Handle::reset() {
  if (id_ >= 0 && close_) close_(id_);
  id_ = -1;
}

hid_t float16_type() {
  static const hid_t type = [] {
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    DRLLM_H5_CHECK(t);
    DRLLM_H5_CHECK(H5Tset_fields(t, 15, 10, 5, 0, 10));
    DRLLM_H5_CHECK(H5Tset_size(t, 2));
    DRLLM_H5_CHECK(H5Tset_ebias(t, 15));
    return t;
  }();
  return type;
}

void File::fail(const std::string& what) const {
  std::string detail = last_error();
  throw Error(cat(path_, ": ", what, detail.empty() ? "" : " (HDF5: " + detail + ")"));
}

File File::create(const std::string& path) {
  hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (id < 0) throw Error(cat(path, ": cannot create HDF5 file (", last_error(), ")"));
  return File(path, Handle(id, H5Fclose));
}

File File::open_read(const std::string& path) {
  hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) throw Error(cat(path, ": not a readable HDF5 file, truncated or corrupted (", last_error(), ")"));
  return File(path, Handle(id, H5Fclose));
}

void File::close() {
  if (handle_.get() < 0) return;
  bool ok = H5Fflush(handle_.get(), H5F_SCOPE_LOCAL) >= 0;
  // H5Fclose writes what is still buffered: its failure is a failed write too.
  ok = H5Fclose(handle_.release()) >= 0 && ok;
  if (!ok) fail("writing failed (disk full?)");
}

bool File::has(const std::string& name) const {
  return H5Lexists(handle_.get(), name.c_str(), H5P_DEFAULT) > 0;
}

Handle File::open_dataset(const std::string& name) const {
  hid_t id = H5Dopen2(handle_.get(), name.c_str(), H5P_DEFAULT);
  if (id < 0) fail(cat("missing or unreadable dataset '", name, "'"));
  return Handle(id, H5Dclose);
}

std::vector<hsize_t> File::shape(const std::string& name) const {
  Handle d = open_dataset(name);
  Handle space(H5Dget_space(d.get()), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) fail(cat("dataset '", name, "': unreadable shape"));
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  DRLLM_H5_CHECK(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr));
  return dims;
}

void File::set_attribute(const std::string& name, const std::string& value) {
  Handle type = vlen_string_type();
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(handle_.get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  const char* text = value.c_str();
  if (attr.get() < 0 || H5Awrite(attr.get(), type.get(), &text) < 0) fail(cat("cannot write attribute '", name, "'"));
}

void File::set_attribute(const std::string& name, int64_t value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(handle_.get(), name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose);
  if (attr.get() < 0 || H5Awrite(attr.get(), H5T_NATIVE_INT64, &value) < 0)
    fail(cat("cannot write attribute '", name, "'"));
}

std::string File::string_attribute(const std::string& name) const {
  if (H5Aexists(handle_.get(), name.c_str()) <= 0) fail(cat("missing attribute '", name, "'"));
  Handle attr(H5Aopen(handle_.get(), name.c_str(), H5P_DEFAULT), H5Aclose);
  Handle file_type(H5Aget_type(attr.get()), H5Tclose);
  if (H5Tget_class(file_type.get()) != H5T_STRING) fail(cat("attribute '", name, "' is not a string"));
  if (H5Tis_variable_str(file_type.get()) > 0) {
    Handle type = vlen_string_type();
    char* text = nullptr;
    if (H5Aread(attr.get(), type.get(), &text) < 0) fail(cat("cannot read attribute '", name, "'"));
    std::string value = text ? text : "";
    H5free_memory(text);
    return value;
  }
  size_t size = H5Tget_size(file_type.get());
  if (size == 0) fail(cat("attribute '", name, "': unreadable string type"));
  std::string value(size, '\0');
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  DRLLM_H5_CHECK(type.get());
  DRLLM_H5_CHECK(H5Tset_size(type.get(), size));
  if (H5Aread(attr.get(), type.get(), value.data()) < 0) fail(cat("cannot read attribute '", name, "'"));
  return value.substr(0, value.find('\0'));
}

int64_t File::int_attribute(const std::string& name) const {
  if (H5Aexists(handle_.get(), name.c_str()) <= 0) fail(cat("missing attribute '", name, "'"));
  Handle attr(H5Aopen(handle_.get(), name.c_str(), H5P_DEFAULT), H5Aclose);
  Handle file_type(H5Aget_type(attr.get()), H5Tclose);
  if (H5Tget_class(file_type.get()) != H5T_INTEGER) fail(cat("attribute '", name, "' is not an integer"));
  int64_t value = 0;
  if (H5Aread(attr.get(), H5T_NATIVE_INT64, &value) < 0) fail(cat("cannot read attribute '", name, "'"));
  return value;
}

void File::write_array(const std::string& name, hid_t type, const std::vector<hsize_t>& shape, const void* data) {
  Handle space(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr), H5Sclose);
  Handle d(H5Dcreate2(handle_.get(), name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
           H5Dclose);
  if (d.get() < 0 || H5Dwrite(d.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    fail(cat("cannot write dataset '", name, "' (disk full?)"));
}

void File::read_array(const std::string& name, hid_t type, void* data) const {
  Handle d = open_dataset(name);
  if (H5Dread(d.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    fail(cat("cannot read dataset '", name, "' (truncated or corrupted?)"));
}

void File::read_rows(const std::string& name, hid_t type, hsize_t first, hsize_t count, void* data) const {
  Handle d = open_dataset(name);
  Handle file_space(H5Dget_space(d.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(file_space.get());
  if (rank < 1) fail(cat("dataset '", name, "': unreadable shape"));
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(file_space.get(), dims.data(), nullptr);
  if (first + count > dims[0] || first + count < first)
    fail(cat("dataset '", name, "': rows ", first, "..", first + count, " asked of ", dims[0]));
  std::vector<hsize_t> start(dims.size(), 0), size = dims;
  start[0] = first;
  size[0] = count;
  if (H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, size.data(), nullptr) < 0)
    fail(cat("dataset '", name, "': cannot select rows ", first, "..", first + count));
  Handle memory_space(H5Screate_simple(rank, size.data(), nullptr), H5Sclose);
  if (H5Dread(d.get(), type, memory_space.get(), file_space.get(), H5P_DEFAULT, data) < 0)
    fail(cat("cannot read rows ", first, "..", first + count, " of dataset '", name, "' (truncated or corrupted?)"));
}

void File::write_strings(const std::string& name, const std::vector<std::string>& values) {
  std::vector<const char*> texts;
  texts.reserve(values.size());
  for (const std::string& v : values) texts.push_back(v.c_str());
  Handle type = vlen_string_type();
  write_array(name, type.get(), {values.size()}, texts.data());
}

std::vector<std::string> File::read_strings(const std::string& name) const {
  Handle d = open_dataset(name);
  Handle file_type(H5Dget_type(d.get()), H5Tclose);
  if (H5Tget_class(file_type.get()) != H5T_STRING || H5Tis_variable_str(file_type.get()) <= 0)
    fail(cat("dataset '", name, "' is not variable-length strings"));
  Handle space(H5Dget_space(d.get()), H5Sclose);
  hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0) fail(cat("dataset '", name, "': unreadable shape"));
  std::vector<char*> texts(static_cast<size_t>(n), nullptr);
  Handle type = vlen_string_type();
  if (H5Dread(d.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, texts.data()) < 0)
    fail(cat("cannot read dataset '", name, "' (truncated or corrupted?)"));
  std::vector<std::string> out;
  out.reserve(texts.size());
  for (char* t : texts) out.emplace_back(t ? t : "");
  DRLLM_H5_CHECK(H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, texts.data()));
  return out;
}

void File::write_vlen(const std::string& name, hid_t element, const std::vector<hvl_t>& rows) {
  Handle type(H5Tvlen_create(element), H5Tclose);
  write_array(name, type.get(), {rows.size()}, rows.data());
}

std::vector<hvl_t> File::read_vlen(const std::string& name, hid_t element, Handle& memtype, Handle& space) const {
  Handle d = open_dataset(name);
  Handle file_type(H5Dget_type(d.get()), H5Tclose);
  if (H5Tget_class(file_type.get()) != H5T_VLEN) fail(cat("dataset '", name, "' is not variable-length lists"));
  memtype = Handle(H5Tvlen_create(element), H5Tclose);
  space = Handle(H5Dget_space(d.get()), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0) fail(cat("dataset '", name, "': unreadable shape"));
  std::vector<hvl_t> rows(static_cast<size_t>(n));
  if (H5Dread(d.get(), memtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()) < 0)
    fail(cat("cannot read dataset '", name, "' (truncated or corrupted?)"));
  return rows;
}

void File::reclaim_vlen(hid_t memtype, hid_t space, std::vector<hvl_t>& rows) const {
  DRLLM_H5_CHECK(H5Dvlen_reclaim(memtype, space, H5P_DEFAULT, rows.data()));
}

}  // namespace drllm::formats::hdf5
