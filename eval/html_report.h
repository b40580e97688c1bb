// The demo's report as one self-contained HTML page (OUT/report.html, beside report.md): the same tables as the
// markdown, then the figures inlined as SVG, so the page opens in a browser with nothing beside it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "eval/report_table.h"

namespace drllm::eval {

// `figures`: (caption, SVG text) in the order shown.
std::string report_html(const std::string& title, const std::string& intro, const std::vector<ReportTable>& tables,
                        const std::vector<std::pair<std::string, std::string>>& figures);

// Text made safe inside HTML (&, <, >, ").
std::string html_escape(const std::string& text);

}  // namespace drllm::eval
