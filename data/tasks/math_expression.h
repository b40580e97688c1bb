// The symbolic step of mathruler's grade_answer without sympy (docs/graders.md's C++ contract): parse
// "(gt)-(given)" in sympy's grammar subset (numbers, + - * / ** ( ), implicit multiplication, sqrt, pi, at most
// two single-letter symbols). Without symbols, sqrt or pi: exact rational arithmetic, with sympy's Float rule
// emulated (a decimal literal of at most 15 significant digits is a double, and an operation with a double
// operand is done in double); equal iff exactly 0. Otherwise: both sides evaluated in long double at three fixed
// points, equal iff they agree to 1e-17 relative at every point. Anything else is "not equal".
#pragma once

#include <string>

namespace drllm::tasks {

// should_allow_eval: at most two distinct letters (after deleting "sqrt" and "frac"), no "^{" or "^(", no
// exponent of two or more digits, no chained exponent.
bool sympy_eval_allowed(const std::string& expression);

bool symbolically_equal(const std::string& ground_truth, const std::string& given);

}  // namespace drllm::tasks
