// Answer extraction and grading, reproducing the graders the paper and the benchmarks use, quirks included
// (docs/graders.md): Dr.LLM's ARC letter regex and \boxed{} extraction, GSM8K's own check,
// lm-evaluation-harness' gsm8k filters and exact_match, and its multiple-choice acc / acc_norm / mc2.
// The math equivalence itself (mathruler's grade_answer) is in math_grader.h.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace drllm::tasks {

// ---- Dr.LLM rewards (docs/graders.md) -------------------------------------------------------------------
// The letter of ^(?:Answer:\s*)?([A-Da-d])\.?$ on the stripped response, as written (lower case kept).
std::optional<char> extract_arc_letter(const std::string& response);
// 1 when the extracted letter equals the gold letter, case-insensitively; else 0.
double arc_reward(const std::string& response, const std::string& gold_letter);
// Whether a response that begins with `partial` (decoded text so far, no trailing incomplete character) could
// still be rewarded 1 by arc_reward, for some continuation. Once it cannot, more tokens cannot change the reward
// (0), so the search stops generating there. Exact: false only when every continuation scores 0.
bool arc_reward_still_possible(const std::string& partial, const std::string& gold_letter);
// mathruler's extract_boxed_content: the content of the last \boxed{...} (nested braces), stripped, or the
// string "None".
std::string extract_boxed_content(const std::string& text);
// Dr.LLM's math reward: for base models whose prompt ends in "\boxed{", the response is prefixed with it.
double math_reward(const std::string& response, const std::string& gold, bool prompt_opens_box);

// ---- GSM8K (docs/graders.md) ------------------------------------------------------------------------
// Official extract_answer: first "#### n", commas removed; "[invalid]" when absent.
std::string gsm8k_extract_answer(const std::string& text);
bool gsm8k_is_correct(const std::string& model_text, const std::string& gold_solution);
// lm-eval: text cut at the first occurrence of each stop string in turn.
std::string cut_at_stop_strings(std::string text, const std::vector<std::string>& stops);
std::string gsm8k_strict_match(const std::string& text);      // "[invalid]" when absent
std::string gsm8k_flexible_extract(const std::string& text);  // "[invalid]" when absent
bool gsm8k_exact_match(const std::string& prediction, const std::string& gold_solution);

// ---- lm-evaluation-harness multiple choice (docs/graders.md) --------------------------------------
struct MultipleChoiceScore {
  int predicted = -1;       // argmax of log-likelihoods (ties: lowest index)
  int predicted_norm = -1;  // argmax of log-likelihood / characters of the choice
  bool acc = false;
  bool acc_norm = false;
};
MultipleChoiceScore score_multiple_choice(const std::vector<double>& log_likelihoods,
                                          const std::vector<std::string>& choices, int gold);
// TruthfulQA mc2: the probability mass of the true answers (labels 1), by log-sum-exp.
double truthfulqa_mc2(const std::vector<double>& log_likelihoods, const std::vector<int>& labels);

}  // namespace drllm::tasks
