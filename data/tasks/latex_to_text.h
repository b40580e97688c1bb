// The LaTeX -> text step of mathruler's _normalize (pylatexenc 2.10's LatexNodes2Text().latex_to_text), reduced
// to what answers contain (docs/graders.md): \frac{a}{b} -> a/b (no parentheses), \sqrt{x} -> √(x) (root
// index dropped), symbol macros to their Unicode characters, \text-like macros and unknown macros with a group
// to the group's text, escaped braces to braces, spacing macros to spaces.
#pragma once

#include <string>

namespace drllm::tasks {

std::string latex_to_text(const std::string& latex);

}  // namespace drllm::tasks
