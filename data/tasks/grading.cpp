#include "data/tasks/grading.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "common/error.h"
#include "data/tasks/math_grader.h"
#include "data/text/regex.h"
#include "data/text/unicode.h"

namespace drllm::tasks {

std::optional<char> extract_arc_letter(const std::string& response) {
  static const text::Regex pattern(R"(^(?:Answer:\s*)?([A-Da-d])\.?$)");
  auto m = pattern.match(text::python_strip(response));
  if (!m) return std::nullopt;
  return (*m->groups[1])[0];
}

double arc_reward(const std::string& response, const std::string& gold_letter) {
  auto letter = extract_arc_letter(response);
  std::string gold = text::python_strip(gold_letter);
  if (!letter || gold.empty()) return 0.0;
  return std::tolower(static_cast<unsigned char>(gold[0])) == std::tolower(static_cast<unsigned char>(*letter)) ? 1.0
                                                                                                             : 0.0;
}

// The stripped response must read [Answer:<spaces>]<letter>[.] with the gold letter; `partial` is its start,
// leading spaces included, trailing spaces possibly not yet stripped. So: is partial, left-stripped, a prefix of
// "Answer:" or of (Answer:<spaces>)? gold [.] <spaces>?
bool arc_reward_still_possible(const std::string& partial, const std::string& gold_letter) {
  std::string gold = text::python_strip(gold_letter);
  if (gold.empty()) return false;
  const char g = static_cast<char>(std::tolower(static_cast<unsigned char>(gold[0])));
  if (g < 'a' || g > 'd') return false;  // the regex only takes A-D

  std::vector<uint32_t> text;
  for (size_t pos = 0; pos < partial.size();) text.push_back(text::next_code_point(partial, pos));
  const size_t n = text.size();
  size_t start = 0;
  while (start < n && text::is_python_space(text[start])) ++start;

  // From position j on: the gold letter, an optional period, then only spaces (stripped at the end).
  auto letter_on = [&](size_t j) {
    if (j == n) return true;
    if (text[j] > 0x7F || std::tolower(static_cast<int>(text[j])) != g) return false;
    if (++j < n && text[j] == '.') ++j;
    for (; j < n; ++j)
      if (!text::is_python_space(text[j])) return false;
    return true;
  };
  if (letter_on(start)) return true;
  static const std::string keyword = "Answer:";
  size_t k = 0;
  while (k < keyword.size() && start + k < n && text[start + k] == static_cast<uint32_t>(keyword[k])) ++k;
  if (start + k == n) return true;        // the text is (a prefix of) "Answer:" so far
  if (k < keyword.size()) return false;   // something else
  size_t j = start + k;
  while (j < n && text::is_python_space(text[j])) ++j;
  return letter_on(j);
}

std::string extract_boxed_content(const std::string& text) {
  size_t start = text.rfind("\\boxed{");
  if (start == std::string::npos) return "None";
  int depth = 0;
  for (size_t i = start + 7; i < text.size(); ++i) {
    if (text[i] == '{') {
      ++depth;
    } else if (text[i] == '}') {
      if (--depth == -1) return text::python_strip(text.substr(start + 7, i - start - 7));
    }
  }
  return "None";
}

double math_reward(const std::string& response, const std::string& gold, bool prompt_opens_box) {
  std::string text = prompt_opens_box ? "\\boxed{" + response : response;
  return grade_answer(extract_boxed_content(text::python_strip(text)), gold) ? 1.0 : 0.0;
}

// ---------------------------------------------------------------------------------------------------------

std::string gsm8k_extract_answer(const std::string& text) {
  static const text::Regex pattern(R"(#### (\-?[0-9\.\,]+))");
  auto m = pattern.search(text);
  if (!m) return "[invalid]";
  std::string n = text::python_strip(*m->groups[1]);
  n.erase(std::remove(n.begin(), n.end(), ','), n.end());
  return n;
}

bool gsm8k_is_correct(const std::string& model_text, const std::string& gold_solution) {
  std::string gold = gsm8k_extract_answer(gold_solution);
  DRLLM_CHECK(gold != "[invalid]", "GSM8K gold answer has no '#### <number>' line");
  return gsm8k_extract_answer(model_text) == gold;
}

std::string cut_at_stop_strings(std::string text, const std::vector<std::string>& stops) {
  for (const std::string& stop : stops) {
    if (stop.empty()) continue;
    size_t at = text.find(stop);
    if (at != std::string::npos) text.resize(at);
  }
  return text;
}

std::string gsm8k_strict_match(const std::string& text) {
  static const text::Regex pattern(R"(#### (\-?[0-9\.\,]+))");
  auto m = pattern.search(text);
  return m ? text::python_strip(*m->groups[1]) : "[invalid]";
}

std::string gsm8k_flexible_extract(const std::string& text) {
  static const text::Regex pattern(R"((-?[$0-9.,]{2,})|(-?[0-9]+))");
  auto all = pattern.find_all(text);
  if (all.empty()) return "[invalid]";
  const text::RegexMatch& last = all.back();
  const auto& group = last.groups[1] && !last.groups[1]->empty() ? last.groups[1] : last.groups[2];
  return group ? text::python_strip(*group) : "[invalid]";
}

bool gsm8k_exact_match(const std::string& prediction, const std::string& gold_solution) {
  static const text::Regex comma(","), dollar(R"(\$)"), up_to_answer(R"((?s).*#### )"), final_period(R"(\.$)");
  auto clean = [&](const std::string& s) {
    std::string t = comma.sub(s, "");
    t = dollar.sub(t, "");
    t = up_to_answer.sub(t, "");
    t = final_period.sub(t, "");
    return text::python_lower(t);
  };
  return clean(prediction) == clean(gold_solution);
}

// ---------------------------------------------------------------------------------------------------------

MultipleChoiceScore score_multiple_choice(const std::vector<double>& lls, const std::vector<std::string>& choices,
                                          int gold) {
  DRLLM_CHECK(!lls.empty() && lls.size() == choices.size(), "multiple choice: ", lls.size(),
              " log-likelihoods for ", choices.size(), " choices");
  MultipleChoiceScore s;
  double best = -INFINITY, best_norm = -INFINITY;
  for (size_t i = 0; i < lls.size(); ++i) {
    double norm = lls[i] / static_cast<double>(text::code_point_count(choices[i]));
    if (s.predicted < 0 || lls[i] > best) {
      best = lls[i];
      s.predicted = static_cast<int>(i);
    }
    if (s.predicted_norm < 0 || norm > best_norm) {
      best_norm = norm;
      s.predicted_norm = static_cast<int>(i);
    }
  }
  s.acc = s.predicted == gold;
  s.acc_norm = s.predicted_norm == gold;
  return s;
}

double truthfulqa_mc2(const std::vector<double>& lls, const std::vector<int>& labels) {
  DRLLM_CHECK(!lls.empty() && lls.size() == labels.size(), "mc2: ", lls.size(), " log-likelihoods for ",
              labels.size(), " labels");
  double top = *std::max_element(lls.begin(), lls.end());
  double all = 0, right = 0;
  for (size_t i = 0; i < lls.size(); ++i) {
    double p = std::exp(lls[i] - top);
    all += p;
    if (labels[i] == 1) right += p;
  }
  return right / all;
}

}  // namespace drllm::tasks
