// The graders on the worked cases of docs/graders.md (each checked there against the original Python
// code), near misses included.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "data/tasks/grading.h"
#include "data/tasks/math_grader.h"

namespace drllm::tasks {
namespace {

TEST(ArcLetter, MatchesTheOfficialRegexAndNothingLooser) {
  for (const char* ok : {"Answer: B", "B", "b.", "Answer:B", "Answer:\nC", "Answer:  d.", "A.", "  B  \n"})
    EXPECT_TRUE(extract_arc_letter(ok).has_value()) << ok;
  for (const char* bad : {"answer: B", "Answer: B. Paris", "(B)", "B)", "**B**", "The answer is B", "Answer: AB",
                          "B..", "E", "Answer: E", ""})
    EXPECT_FALSE(extract_arc_letter(bad).has_value()) << bad;
  EXPECT_EQ(arc_reward("Answer: b", "B"), 1.0);
  EXPECT_EQ(arc_reward("Answer: C", "B"), 0.0);
  EXPECT_EQ(arc_reward("E", "E"), 0.0);  // a gold E can never be rewarded
}

// arc_reward_still_possible against arc_reward itself: every string made of up to 4 pieces below, and each of its
// piece-prefixes. Sound: a prefix judged hopeless never extends to a rewarded string. Complete: a prefix judged
// open does extend to a rewarded string among those enumerated (prefixes of up to 2 pieces, which leave room).
TEST(ArcLetter, StillPossibleIsExactAgainstTheGrader) {
  const std::vector<std::string> pieces = {"Answer", ":", "Answer:", "An", "swer:", "nswer:", "A", "b", "C", ".", " ",
                                           "\n", "x", "E", "\xC2\xA0" /* no-break space: Python whitespace */};
  for (const std::string gold : {"A", "b", "C", "E"}) {
    std::vector<std::vector<size_t>> strings = {{}};
    for (size_t length = 0; length < 4; ++length)
      for (size_t i = 0, end = strings.size(); i < end; ++i)
        if (strings[i].size() == length)
          for (size_t p = 0; p < pieces.size(); ++p) {
            strings.push_back(strings[i]);
            strings.back().push_back(p);
          }
    std::map<std::string, bool> rewarded_extension;  // prefix text -> some enumerated extension is rewarded
    int judged_open = 0, judged_hopeless = 0;
    for (const std::vector<size_t>& s : strings) {
      std::string text;
      std::vector<std::string> prefixes = {""};
      for (size_t p : s) prefixes.push_back(text += pieces[p]);
      const bool rewarded = arc_reward(text, gold) == 1.0;
      for (const std::string& prefix : prefixes) {
        if (!arc_reward_still_possible(prefix, gold)) EXPECT_FALSE(rewarded) << "'" << prefix << "' -> '" << text << "'";
        rewarded_extension[prefix] = rewarded_extension[prefix] || rewarded;
      }
    }
    for (const std::vector<size_t>& s : strings) {
      if (s.size() > 2) continue;
      std::string text;
      for (size_t p : s) text += pieces[p];
      const bool open = arc_reward_still_possible(text, gold);
      EXPECT_EQ(open, rewarded_extension[text]) << "gold " << gold << ", '" << text << "'";
      ++(open ? judged_open : judged_hopeless);
    }
    if (gold == "E") {
      EXPECT_EQ(judged_open, 0);  // a gold E is never rewarded, so no text leaves it open
    } else {
      EXPECT_GT(judged_open, 10);
      EXPECT_GT(judged_hopeless, 100);
    }
  }
  EXPECT_TRUE(arc_reward_still_possible("  Answer:\n", "B"));
  EXPECT_TRUE(arc_reward_still_possible("b. ", "B"));
  EXPECT_FALSE(arc_reward_still_possible("B. P", "B"));    // the model's usual "B. <text>"
  EXPECT_FALSE(arc_reward_still_possible("C", "B"));       // the wrong letter, whatever follows
  EXPECT_FALSE(arc_reward_still_possible("answer", "B"));  // "Answer:" is case-sensitive
}

TEST(BoxedContent, LastBoxWithNestedBracesOrTheStringNone) {
  EXPECT_EQ(extract_boxed_content("The answer is \\boxed{\\frac{1}{2}}."), "\\frac{1}{2}");
  EXPECT_EQ(extract_boxed_content("$\\boxed{\\{1,2\\}}$"), "\\{1,2\\}");
  EXPECT_EQ(extract_boxed_content("\\boxed{a} or \\boxed{b}"), "b");
  EXPECT_EQ(extract_boxed_content("\\boxed{ 5 }"), "5");
  EXPECT_EQ(extract_boxed_content("\\boxed{{5}}"), "{5}");
  EXPECT_EQ(extract_boxed_content("\\boxed{5}}"), "5");
  EXPECT_EQ(extract_boxed_content("\\boxed {5}"), "None");
  EXPECT_EQ(extract_boxed_content("boxed{5}"), "None");
  EXPECT_EQ(extract_boxed_content("\\fbox{5}"), "None");
  EXPECT_EQ(extract_boxed_content("\\boxed{\\frac{1}{2}"), "None");
  // Base models: the prompt opened the box.
  EXPECT_EQ(math_reward("5}\n\nQuestion: What is 1+1?\nAnswer: \\boxed{2}", "2", true), 1.0);
  EXPECT_EQ(math_reward("5}\n\nQuestion: What is $2+2$?\nAnswer: \\boxed{", "5", true), 0.0);
  EXPECT_EQ(math_reward("5}", "5", true), 1.0);
  EXPECT_EQ(math_reward("The answer is \\boxed{0.5}", "\\frac{1}{2}", false), 1.0);
}

struct GradeCase {
  const char* given;
  const char* truth;
  bool equal;
};

TEST(GradeAnswer, TheWorkedExamplesOfTheSpec) {
  const GradeCase cases[] = {
      {"5.0", "5", true},
      {"1/2", "\\frac12", true},
      {"0.5", "\\frac{1}{2}", true},
      {"0.75", "\\frac34", true},
      {"2/4", "1/2", false},
      {"\\frac{9}{3}", "3", false},
      {"\\sqrt{4}", "2", false},
      {"1,000,000", "1000000", true},
      {"1,23", "123", false},
      {"\\$1.50", "1.5", true},
      {"50\\%", "0.5", false},
      {"x = 5", "5", true},
      {"90 degrees", "90", true},
      {"5\\text{ cm}^2", "5", true},
      {"Monday", "Mon", true},
      {"(1,\\frac{1}{2})", "(1,0.5)", true},
      {"(3,4)", "3,4", false},
      {"\\{1,2\\}", "\\{2,1\\}", false},
      {"\\sqrt{8}", "2\\sqrt{2}", true},
      {"(x-1)(x+1)", "x^2-1", true},
      {"a+b+c", "c+b+a", false},
      {"\\frac{1+\\sqrt{5}}{2}", "\\frac{\\sqrt{5}+1}{2}", false},
      {"7 3/4", "7\\frac{3}{4}", true},
      {"10^3", "1000", false},
      {"\\pi/2", "1.5708", false},
      {"\\text{(A)}", "A", true},
      {"\\sqrt[3]{2}", "\\sqrt{2}", true},
      {"None", "5", false},
  };
  for (const GradeCase& c : cases)
    EXPECT_EQ(grade_answer(c.given, c.truth), c.equal) << "given " << c.given << " truth " << c.truth;
}

TEST(GradeAnswer, FloatRulesOfSympy) {
  EXPECT_TRUE(grade_answer("1.5", "3/2"));
  EXPECT_TRUE(grade_answer("0.25+0.5", "0.75"));
  EXPECT_FALSE(grade_answer("0.1+0.2", "0.3"));
  EXPECT_FALSE(grade_answer("0.333", "1/3"));
  EXPECT_FALSE(grade_answer("0.3333333333333333", "\\frac{1}{3}"));
  EXPECT_FALSE(grade_answer("1.4142135623730951", "\\sqrt{2}"));
  EXPECT_TRUE(grade_answer("2\\pi", "\\pi+\\pi"));
  EXPECT_TRUE(grade_answer("3x", "x+2x"));
}

TEST(GradeAnswer, NormalisersOnTheirOwn) {
  EXPECT_EQ(normalize_answer_a("\\sqrt3"), "\\sqrt{3}");
  EXPECT_EQ(normalize_answer_a("\\dfrac12"), "\\frac{1}{2}");
  EXPECT_EQ(normalize_answer_a("abc=3"), "abc=3");
  EXPECT_EQ(normalize_answer_a("01/2"), "01/2");
  EXPECT_EQ(normalize_answer_b("1e3"), "1000");
  EXPECT_EQ(normalize_answer_b("3.0000000001"), "3");
  EXPECT_EQ(normalize_answer_b("Monday"), "mon");
  EXPECT_EQ(strip_thousands_commas("(1,234)"), "(1234)");
  EXPECT_EQ(strip_thousands_commas("1,234,567"), "1234567");
  EXPECT_EQ(split_tuple("(a)"), std::vector<std::string>{"a"});
  EXPECT_EQ(split_tuple("[1, 2]"), (std::vector<std::string>{"1", "2"}));
}

TEST(Gsm8k, OfficialCheck) {
  EXPECT_EQ(gsm8k_extract_answer("so 1,080 in all\n#### 1,080"), "1080");
  EXPECT_TRUE(gsm8k_is_correct("#### 1080", "x\n#### 1,080"));
  EXPECT_FALSE(gsm8k_is_correct("#### 72.0", "#### 72"));
  EXPECT_FALSE(gsm8k_is_correct("#### 072", "#### 72"));
  EXPECT_FALSE(gsm8k_is_correct("#### -5", "#### 5"));
  EXPECT_EQ(gsm8k_extract_answer("#### $72"), "[invalid]");
  EXPECT_FALSE(gsm8k_is_correct("#### 72.", "#### 72"));
}

TEST(Gsm8k, LmEvalFiltersAndExactMatch) {
  const std::string gold = "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72";
  struct Row {
    const char* text;
    bool strict, flexible;
  } rows[] = {{" She sold 48+24=72 clips.\n#### 72", true, true},
              {" … #### 72.", true, true},
              {" So the answer is 72.", false, true},
              {" The answer is $72.00", false, false},
              {" 72 clips, 3 days.", false, false},
              {" #### 7,2", true, true},
              {" #### -72", false, false}};
  for (const Row& r : rows) {
    EXPECT_EQ(gsm8k_exact_match(gsm8k_strict_match(r.text), gold), r.strict) << r.text;
    EXPECT_EQ(gsm8k_exact_match(gsm8k_flexible_extract(r.text), gold), r.flexible) << r.text;
  }
  EXPECT_EQ(gsm8k_strict_match("no number"), "[invalid]");
  EXPECT_EQ(gsm8k_flexible_extract(" The answer is $72.00"), "$72.00");
  EXPECT_EQ(cut_at_stop_strings("42\n\nQuestion: next", {"Question:", "</s>", "<|im_end|>"}), "42\n\n");
}

TEST(MultipleChoice, AccAndAccNormAsTheHarness) {
  // Raw log-likelihood prefers the short choice; per character (-5/3 vs -6/20), the long one wins.
  std::vector<std::string> choices = {"yes", "a much longer answer"};
  MultipleChoiceScore s = score_multiple_choice({-5.0, -6.0}, choices, 1);
  EXPECT_EQ(s.predicted, 0);
  EXPECT_EQ(s.predicted_norm, 1);
  EXPECT_FALSE(s.acc);
  EXPECT_TRUE(s.acc_norm);
  // Ties go to the lowest index; length is in code points, not bytes.
  s = score_multiple_choice({-2.0, -2.0}, {"é", "e"}, 0);
  EXPECT_EQ(s.predicted, 0);
  EXPECT_EQ(s.predicted_norm, 0);
  // mc2: p = exp(ll); mass of the true answers.
  EXPECT_NEAR(truthfulqa_mc2({std::log(0.2), std::log(0.3), std::log(0.5)}, {1, 1, 0}), 0.5, 1e-12);
  EXPECT_NEAR(truthfulqa_mc2({-1000.0, -1000.0}, {1, 0}), 0.5, 1e-12);  // no underflow
}

}  // namespace
}  // namespace drllm::tasks
