// A table of a report, written once and rendered twice: as markdown (report.md) and as HTML (report.html), so
// the two pages always show the same numbers.
#pragma once

#include <string>
#include <vector>

namespace drllm::eval {

struct ReportTable {
  std::string title;  // a heading above it
  std::string intro;  // a paragraph between the heading and the table (plain text)
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

std::string to_markdown(const ReportTable& table);
std::string to_html(const ReportTable& table);

// printf-style formatting of one number, for the cells.
std::string format_number(const char* format, double value);

}  // namespace drllm::eval
