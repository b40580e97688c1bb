#include "data/tasks/csv.h"

#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/input_file.h"

namespace drllm::tasks {

std::vector<CsvRecord> read_csv(const std::string& path) {
  check_input_file(path, "CSV file", 4 * kGiB);
  std::ifstream in(path, std::ios::binary);
  DRLLM_CHECK(in, path, ": cannot open CSV file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string s = buffer.str();

  std::vector<CsvRecord> records;
  CsvRecord record;
  std::string field;
  size_t line = 1, i = 0;
  bool at_field_start = true, record_open = false;
  auto end_field = [&] {
    record.fields.push_back(std::move(field));
    field.clear();
    at_field_start = true;
  };
  auto end_record = [&] {
    end_field();
    records.push_back(std::move(record));
    record = CsvRecord{};
    record_open = false;
  };
  while (i < s.size()) {
    char c = s[i];
    if (!record_open) {
      record.line = line;
      record_open = true;
    }
    if (at_field_start && c == '"') {  // a quoted field, up to its closing quote
      const size_t opened_at = line;
      ++i;
      for (;;) {
        DRLLM_CHECK(i < s.size(), path, ":", opened_at, ": a quoted field is never closed");
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (s[i] == '\n') ++line;
        field.push_back(s[i++]);
      }
      DRLLM_CHECK(i >= s.size() || s[i] == ',' || s[i] == '\n' || s[i] == '\r', path, ":", line,
                  ": text after the closing quote of a field");
      at_field_start = false;
      continue;
    }
    at_field_start = false;
    if (c == ',') {
      end_field();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      end_record();
      ++line;
    } else {
      field.push_back(c);
    }
    ++i;
  }
  if (record_open) end_record();
  return records;
}

}  // namespace drllm::tasks
