// The demo's report as one self-contained HTML page (OUT/report.html, beside report.md): the table of unrouted
// against routed per evaluation set, the routing pattern of each set and the p sweep, the figures inlined as
// SVG, so the page opens in a browser with nothing beside it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "eval/demo_report.h"

namespace drllm::eval {

// `figures`: (caption, SVG text) in the order shown.
std::string demo_report_html(const DemoSummary& summary, const nlohmann::json& reports,
                             const std::vector<std::pair<std::string, std::string>>& figures);

// Text made safe inside HTML (&, <, >, ").
std::string html_escape(const std::string& text);

}  // namespace drllm::eval
