// CSV files as RFC 4180 writes them (and Python's csv module reads them): fields separated by commas, a field in
// double quotes may hold commas, newlines and "" for a quote. Used for the canonical TruthfulQA file.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace drllm::tasks {

struct CsvRecord {
  size_t line = 0;  // the line the record starts on, from 1
  std::vector<std::string> fields;
};

// Every record of the file, the header row included. Throws naming the file and line for a quote left open or
// text after a closing quote.
std::vector<CsvRecord> read_csv(const std::string& path);

}  // namespace drllm::tasks
