// mathruler's grade_answer(given, ground_truth), the math reward of Dr.LLM, step by step as
// docs/graders.md describes it: Hendrycks' _strip_string (normaliser A), prm800k's _normalize
// (normaliser B, with LaTeX -> text), tuple splitting, the fraction and integer rules, then the symbolic check.
#pragma once

#include <string>
#include <vector>

namespace drllm::tasks {

bool grade_answer(const std::string& given, const std::string& ground_truth);

// The steps, exposed for tests.
std::string normalize_answer_a(const std::string& answer);  // math_normalize.normalize_answer
std::string normalize_answer_b(const std::string& answer);  // grader._normalize
std::vector<std::string> split_tuple(const std::string& expr);
std::string strip_thousands_commas(const std::string& expr);
bool str_is_int(const std::string& s);

}  // namespace drllm::tasks
