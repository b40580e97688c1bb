#include "data/tasks/math_grader.h"

#include <cmath>
#include <cstdlib>
#include <optional>

#include "common/strings.h"
#include "data/tasks/latex_to_text.h"
#include "data/tasks/math_expression.h"
#include "data/text/regex.h"
#include "data/text/unicode.h"

namespace drllm::tasks {
namespace {

struct Failed {};  // an exception inside _strip_string: normalize_answer returns its input

// Python float(): surrounding whitespace, sign, digits with single underscores between them, a point, an
// exponent, inf/infinity/nan. Only ASCII digits (a documented narrowing).
std::optional<double> python_float(const std::string& text) {
  static const text::Regex number(R"(^[+-]?(?:(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*(?:[eE][+-]?\d(?:_?\d)*)?|\d(?:_?\d)*\.(?:[eE][+-]?\d(?:_?\d)*)?|inf|infinity|nan)$)");
  std::string s = text::python_strip(text);
  std::string lower = text::python_lower(s);
  bool ascii = true;
  for (char c : s) ascii &= static_cast<unsigned char>(c) < 0x80;
  if (!ascii) return std::nullopt;
  if (!number.fullmatch(lower)) return std::nullopt;
  std::string plain;
  for (char c : lower)
    if (c != '_') plain.push_back(c);
  return std::strtod(plain.c_str(), nullptr);
}

bool is_int_value(double x) {  // _is_int: within 1e-7 of round(x); inf and nan are not
  if (!std::isfinite(x)) return false;
  return std::fabs(x - std::nearbyint(x)) <= 1e-7;
}

// str(int(x)) of a finite double, exactly (Python prints the integer value of large doubles digit by digit).
std::string integer_string(double x) {
  bool negative = x < 0;
  double a = std::fabs(std::trunc(x));
  if (a < 9.0e15) {
    std::string s = std::to_string(static_cast<long long>(a));
    return (negative && a != 0) ? "-" + s : s;
  }
  int exponent = 0;
  double mantissa = std::frexp(a, &exponent);  // a = mantissa * 2^exponent, mantissa in [0.5, 1)
  unsigned long long m = static_cast<unsigned long long>(std::ldexp(mantissa, 53));
  exponent -= 53;
  std::vector<int> digits;  // little-endian decimal
  for (unsigned long long t = m; t; t /= 10) digits.push_back(static_cast<int>(t % 10));
  for (int i = 0; i < exponent; ++i) {
    int carry = 0;
    for (int& d : digits) {
      int v = d * 2 + carry;
      d = v % 10;
      carry = v / 10;
    }
    if (carry) digits.push_back(carry);
  }
  std::string s = negative ? "-" : "";
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) s.push_back(static_cast<char>('0' + *it));
  return s;
}

// Canonical Python int text ("12", "-3"; not "012", "+3", "-0").
bool canonical_int(const std::string& s) {
  static const text::Regex pattern(R"(^-?(?:0|[1-9][0-9]*)$)");
  return pattern.fullmatch(s) && s != "-0";
}

std::string fix_sqrt(const std::string& s) {
  std::vector<std::string> parts = split_string(s, "\\sqrt");
  std::string out = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (p.empty()) throw Failed{};  // split[0] on an empty piece: IndexError
    if (p[0] != '{') {
      size_t len = text::utf8_char_length(static_cast<unsigned char>(p[0]));
      out += "\\sqrt{" + p.substr(0, len) + "}" + p.substr(len);
    } else {
      out += "\\sqrt" + p;
    }
  }
  return out;
}

std::string fix_fracs(const std::string& s) {
  std::vector<std::string> parts = split_string(s, "\\frac");
  std::string out = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    out += "\\frac";
    if (p.empty()) throw Failed{};
    if (p[0] == '{') {
      out += p;
      continue;
    }
    size_t la = text::utf8_char_length(static_cast<unsigned char>(p[0]));
    if (p.size() <= la) return s;  // fewer than two characters: the step is abandoned
    std::string a = p.substr(0, la);
    size_t lb = text::utf8_char_length(static_cast<unsigned char>(p[la]));
    std::string b = p.substr(la, lb), rest = p.substr(la + lb);
    if (b != "{")
      out += "{" + a + "}{" + b + "}" + rest;
    else
      out += "{" + a + "}" + b + rest;
  }
  return out;
}

std::string fix_a_slash_b(const std::string& s) {
  std::vector<std::string> parts = split_string(s, "/");
  if (parts.size() != 2 || !canonical_int(parts[0]) || !canonical_int(parts[1])) return s;
  return "\\frac{" + parts[0] + "}{" + parts[1] + "}";
}

std::string strip_string(std::string s) {  // Hendrycks' _strip_string, steps 1-12 of §2.2
  s = replace_all(s, "\n", "");
  s = replace_all(s, "\\!", "");
  s = replace_all(s, "\\\\", "\\");
  s = replace_all(s, "tfrac", "frac");
  s = replace_all(s, "dfrac", "frac");
  s = replace_all(s, "\\left", "");
  s = replace_all(s, "\\right", "");
  s = replace_all(s, "^{\\circ}", "");
  s = replace_all(s, "^\\circ", "");
  s = replace_all(s, "\\$", "");
  if (s.find("\\text{ ") != std::string::npos) {
    std::vector<std::string> parts = split_string(s, "\\text{ ");
    if (parts.size() != 2) throw Failed{};
    s = parts[0];
  }
  s = replace_all(s, "\\%", "");
  s = replace_all(s, "%", "");
  s = replace_all(s, " .", " 0.");
  s = replace_all(s, "{.", "{0.");
  if (s.empty()) return s;
  if (s[0] == '.') s = "0" + s;
  std::vector<std::string> eq = split_string(s, "=");
  if (eq.size() == 2 && text::code_point_count(eq[0]) <= 2) s = eq[1];
  s = fix_sqrt(s);
  s = replace_all(s, " ", "");
  s = fix_fracs(s);
  if (s == "0.5") s = "\\frac{1}{2}";
  return fix_a_slash_b(s);
}

std::string unwrap_text(const std::string& s, bool strip_inner) {
  static const text::Regex text_macro(R"(^\\text\{(?P<text>.+?)\}$)");
  auto m = text_macro.search(s);
  if (!m) return s;
  return strip_inner ? text::python_strip(*m->groups[1]) : *m->groups[1];
}

bool is_fraction(const std::string& s) {
  static const text::Regex pattern(R"(^-?[0-9]+.?/0*[1-9][0-9]*.?$)");
  return pattern.search(s).has_value();
}

uint32_t first_code_point(const std::string& s) {
  size_t pos = 0;
  return text::next_code_point(s, pos);
}

uint32_t last_code_point(const std::string& s) {
  size_t start = s.size() - 1;
  while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  return text::next_code_point(s, start);
}

}  // namespace

std::string normalize_answer_a(const std::string& answer) {
  std::string s = unwrap_text(text::python_strip(answer), /*strip_inner=*/true);
  try {
    return strip_string(s);
  } catch (const Failed&) {
    return s;
  }
}

std::string strip_thousands_commas(const std::string& expr) {
  static const text::Regex pattern(R"((\d)(,)(\d\d\d)($|\D))");
  std::string current = expr;
  while (true) {
    std::string next = pattern.sub(current, "\\1\\3\\4");
    if (next == current) return next;
    current = next;
  }
}

bool str_is_int(const std::string& s) {
  auto x = python_float(strip_thousands_commas(s));
  return x && is_int_value(*x);
}

std::string normalize_answer_b(const std::string& answer) {
  std::string e = unwrap_text(answer, /*strip_inner=*/false);
  e = replace_all(e, "\\%", "%");
  e = replace_all(e, "\\$", "$");
  e = replace_all(e, "$", "");
  e = replace_all(e, "%", "");
  e = replace_all(e, " or ", " , ");
  e = replace_all(e, " and ", " , ");
  e = replace_all(e, "million", "*10^6");
  e = replace_all(e, "billion", "*10^9");
  e = replace_all(e, "trillion", "*10^12");
  static const std::vector<std::string> units = {"degree", "cm",  "centimeter", "meter", "mile",  "second",
                                                 "minute", "hour", "day",       "week",  "month", "year",
                                                 "foot",   "feet", "inch",      "yard"};
  for (const std::string& unit : units) e = text::Regex(unit + R"((es)?(s)? *(\^[0-9]+)?)").sub(e, "");
  static const text::Regex degree_circle(R"(\^ *\\circ)"), latex_thousands(R"(,\\! *)"), minus_space("- *"),
      mixed_number("([0-9]) +([0-9])");
  e = degree_circle.sub(e, "");
  if (!e.empty() && e.front() == '{' && e.back() == '}') e = e.substr(1, e.size() - 2);
  e = latex_thousands.sub(e, "");
  if (auto x = python_float(e); x && is_int_value(*x)) e = integer_string(std::nearbyint(*x));
  if (e.find('\\') != std::string::npos) {
    std::string t = replace_all(replace_all(e, "\\tfrac", "\\frac"), "\\dfrac", "\\frac");
    t = replace_all(t, "\\frac", " \\frac");  // so mixed numbers stay apart
    t = latex_to_text(t);
    t = replace_all(t, "√", "sqrt");
    t = replace_all(t, "π", "pi");
    t = replace_all(t, "∞", "inf");
    t = replace_all(t, "∪", "U");
    t = replace_all(t, "·", "*");
    t = replace_all(t, "×", "*");
    e = text::python_strip(t);
  }
  e = minus_space.sub(e, "-");
  e = mixed_number.sub(e, "\\1+\\2");
  e = replace_all(e, " ", "");
  e = replace_all(e, "{", "");
  e = replace_all(e, "}", "");
  e = text::python_lower(e);
  if (str_is_int(e)) {
    std::string no_commas = replace_all(e, ",", "");
    if (auto x = python_float(no_commas)) e = integer_string(*x);
  }
  return e;
}

std::vector<std::string> split_tuple(const std::string& expr) {
  std::string e = strip_thousands_commas(expr);
  if (e.empty()) return {};
  auto is_tuple_char = [](uint32_t c) { return c == '(' || c == ')' || c == '[' || c == ']'; };
  if (text::code_point_count(e) > 2 && is_tuple_char(first_code_point(e)) && is_tuple_char(last_code_point(e))) {
    std::string inner = e.substr(1, e.size() - 2);
    if (inner.find_first_of("()[]") == std::string::npos) {
      std::vector<std::string> elems;
      for (const std::string& part : split_string(inner, ",")) elems.push_back(text::python_strip(part));
      return elems;
    }
  }
  return {e};
}

bool grade_answer(const std::string& given, const std::string& ground_truth) {
  if (normalize_answer_a(ground_truth) == normalize_answer_a(given)) return true;
  std::string gt = normalize_answer_b(ground_truth), g = normalize_answer_b(given);
  if (gt == g) return true;
  if (g.empty()) return false;
  std::vector<std::string> gt_elems = split_tuple(gt), g_elems = split_tuple(g);
  if (gt_elems.size() > 1 && (gt.empty() || first_code_point(gt) != first_code_point(g) ||
                              last_code_point(gt) != last_code_point(g)))
    return false;
  if (gt_elems.size() != g_elems.size()) return false;
  for (size_t i = 0; i < gt_elems.size(); ++i) {
    bool ok;
    if (is_fraction(gt_elems[i]) && is_fraction(g_elems[i]))
      ok = gt_elems[i] == g_elems[i];  // unreduced fractions must match as written
    else if (str_is_int(gt_elems[i]) != str_is_int(g_elems[i]))
      ok = false;  // an integer answer needs a string match
    else
      ok = symbolically_equal(gt_elems[i], g_elems[i]);
    if (!ok) return false;
  }
  return true;
}

}  // namespace drllm::tasks
