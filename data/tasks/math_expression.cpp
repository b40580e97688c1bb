#include "data/tasks/math_expression.h"

#include <utf8proc.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <variant>
#include <vector>

#include "common/strings.h"
#include "data/text/regex.h"
#include "data/text/unicode.h"

namespace drllm::tasks {
namespace {

// ---- values -------------------------------------------------------------------------------------------------

using i128 = __int128;

struct Rational {
  i128 num = 0, den = 1;  // den > 0, reduced
};

struct Unsupported {};  // an operation the exact path cannot do (overflow, fractional power): try numerically

i128 gcd(i128 a, i128 b) {
  if (a < 0) a = -a;
  if (b < 0) b = -b;
  while (b) {
    i128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

i128 checked_mul(i128 a, i128 b) {
  i128 r;
  if (__builtin_mul_overflow(a, b, &r)) throw Unsupported{};
  return r;
}

i128 checked_add(i128 a, i128 b) {
  i128 r;
  if (__builtin_add_overflow(a, b, &r)) throw Unsupported{};
  return r;
}

Rational make_rational(i128 num, i128 den) {
  if (den == 0) throw Unsupported{};
  if (den < 0) {
    num = -num;
    den = -den;
  }
  i128 g = gcd(num, den);
  if (g > 1) {
    num /= g;
    den /= g;
  }
  return {num, den};
}

// Exact values are rationals; a Float (decimal literal of <= 15 digits, or anything computed with one) is a double.
using Exact = std::variant<Rational, double>;

double to_double(const Exact& v) {
  if (std::holds_alternative<double>(v)) return std::get<double>(v);
  const Rational& r = std::get<Rational>(v);
  return static_cast<double>(static_cast<long double>(r.num) / static_cast<long double>(r.den));
}

// ---- tokens and syntax tree -----------------------------------------------------------------------------------

struct Node {
  enum Kind { Number, Symbol, Pi, Sqrt, Neg, Add, Sub, Mul, Div, Pow } kind;
  std::string text;  // Number: the literal; Symbol: the letter (UTF-8)
  std::vector<Node> kids;
};

struct Token {
  enum Kind { Number, Name, Op, LParen, RParen, End } kind;
  std::string text;
};

std::optional<std::vector<Token>> tokenize(const std::string& s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ') {
      ++i;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t j = i;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      if (j < s.size() && s[j] == '.') {
        ++j;
        while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      }
      out.push_back({Token::Number, s.substr(i, j - i)});
      i = j;
    } else if (c == '*' && i + 1 < s.size() && s[i + 1] == '*') {
      out.push_back({Token::Op, "**"});
      i += 2;
    } else if (c == '+' || c == '-' || c == '*' || c == '/') {
      out.push_back({Token::Op, std::string(1, c)});
      ++i;
    } else if (c == '(') {
      out.push_back({Token::LParen, "("});
      ++i;
    } else if (c == ')') {
      out.push_back({Token::RParen, ")"});
      ++i;
    } else {
      // A run of letters: sqrt and pi are names, any other run splits into single-letter symbols.
      size_t j = i;
      std::string run;
      while (j < s.size()) {
        size_t k = j;
        uint32_t cp = text::next_code_point(s, k);
        if (!utf8proc_category_string(static_cast<utf8proc_int32_t>(cp)) ||
            utf8proc_category_string(static_cast<utf8proc_int32_t>(cp))[0] != 'L')
          break;
        run += s.substr(j, k - j);
        j = k;
      }
      if (run.empty()) return std::nullopt;  // a character outside the grammar
      for (size_t p = 0; p < run.size();) {
        if (run.compare(p, 4, "sqrt") == 0) {
          out.push_back({Token::Name, "sqrt"});
          p += 4;
        } else if (run.compare(p, 2, "pi") == 0) {
          out.push_back({Token::Name, "pi"});
          p += 2;
        } else {
          size_t len = text::utf8_char_length(static_cast<unsigned char>(run[p]));
          out.push_back({Token::Name, run.substr(p, len)});
          p += len;
        }
      }
      i = j;
    }
  }
  out.push_back({Token::End, ""});
  return out;
}

// Recursive descent in Python's precedence; adjacent factors multiply (sympy's implicit multiplication),
// and sqrt applies to a following factor without parentheses (implicit application).
class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  std::optional<Node> parse() {
    auto n = expr();
    if (!n || t_[p_].kind != Token::End) return std::nullopt;
    return n;
  }

 private:
  const Token& peek() const { return t_[p_]; }
  bool is_op(const char* op) const { return peek().kind == Token::Op && peek().text == op; }
  bool starts_factor() const {
    return peek().kind == Token::Number || peek().kind == Token::Name || peek().kind == Token::LParen;
  }

  std::optional<Node> expr() {
    auto left = term();
    while (left && (is_op("+") || is_op("-"))) {
      Node::Kind k = peek().text == "+" ? Node::Add : Node::Sub;
      ++p_;
      auto right = term();
      if (!right) return std::nullopt;
      left = Node{k, "", {*left, *right}};
    }
    return left;
  }

  std::optional<Node> term() {
    auto left = unary();
    while (left) {
      Node::Kind k;
      if (is_op("*") || is_op("/")) {
        k = peek().text == "*" ? Node::Mul : Node::Div;
        ++p_;
      } else if (starts_factor()) {
        k = Node::Mul;  // implicit multiplication
      } else {
        break;
      }
      auto right = unary();
      if (!right) return std::nullopt;
      left = Node{k, "", {*left, *right}};
    }
    return left;
  }

  std::optional<Node> unary() {
    if (is_op("-") || is_op("+")) {
      bool negate = peek().text == "-";
      ++p_;
      auto operand = unary();
      if (!operand) return std::nullopt;
      return negate ? Node{Node::Neg, "", {*operand}} : *operand;
    }
    return power();
  }

  std::optional<Node> power() {
    auto base = atom();
    if (base && is_op("**")) {
      ++p_;
      auto exponent = unary();
      if (!exponent) return std::nullopt;
      return Node{Node::Pow, "", {*base, *exponent}};
    }
    return base;
  }

  std::optional<Node> atom() {
    const Token tok = peek();
    if (tok.kind == Token::Number) {
      ++p_;
      return Node{Node::Number, tok.text, {}};
    }
    if (tok.kind == Token::LParen) {
      ++p_;
      auto inner = expr();
      if (!inner || peek().kind != Token::RParen) return std::nullopt;
      ++p_;
      return inner;
    }
    if (tok.kind == Token::Name) {
      ++p_;
      if (tok.text == "pi") return Node{Node::Pi, "", {}};
      if (tok.text == "sqrt") {
        auto arg = atom();
        if (!arg) return std::nullopt;
        return Node{Node::Sqrt, "", {*arg}};
      }
      return Node{Node::Symbol, tok.text, {}};
    }
    return std::nullopt;
  }

  std::vector<Token> t_;
  size_t p_ = 0;
};

bool needs_numeric(const Node& n) {
  if (n.kind == Node::Symbol || n.kind == Node::Pi || n.kind == Node::Sqrt) return true;
  for (const Node& k : n.kids)
    if (needs_numeric(k)) return true;
  return false;
}

void collect_symbols(const Node& n, std::set<std::string>& out) {
  if (n.kind == Node::Symbol) out.insert(n.text);
  for (const Node& k : n.kids) collect_symbols(k, out);
}

size_t significant_digits(const std::string& literal) {
  size_t count = 0;
  bool leading = true;
  for (char c : literal) {
    if (c == '.') continue;
    if (leading && c == '0') continue;
    leading = false;
    ++count;
  }
  return count;
}

// ---- exact evaluation (no symbols, sqrt or pi) ------------------------------------------------------------

Exact literal_value(const std::string& text) {
  bool decimal = text.find('.') != std::string::npos;
  if (decimal && significant_digits(text) <= 15) return std::strtod(text.c_str(), nullptr);
  i128 num = 0, den = 1;
  bool after_point = false;
  for (char c : text) {
    if (c == '.') {
      after_point = true;
      continue;
    }
    num = checked_add(checked_mul(num, 10), c - '0');
    if (after_point) den = checked_mul(den, 10);
  }
  return make_rational(num, den);
}

Exact exact_eval(const Node& n) {
  auto binary = [&](auto rational_op, auto double_op) -> Exact {
    Exact a = exact_eval(n.kids[0]), b = exact_eval(n.kids[1]);
    if (std::holds_alternative<double>(a) || std::holds_alternative<double>(b))
      return double_op(to_double(a), to_double(b));
    return rational_op(std::get<Rational>(a), std::get<Rational>(b));
  };
  switch (n.kind) {
    case Node::Number: return literal_value(n.text);
    case Node::Neg: {
      Exact a = exact_eval(n.kids[0]);
      if (std::holds_alternative<double>(a)) return -std::get<double>(a);
      Rational r = std::get<Rational>(a);
      return Rational{-r.num, r.den};
    }
    case Node::Add:
      return binary([](Rational a, Rational b) {
        return make_rational(checked_add(checked_mul(a.num, b.den), checked_mul(b.num, a.den)), checked_mul(a.den, b.den));
      }, [](double a, double b) { return a + b; });
    case Node::Sub:
      return binary([](Rational a, Rational b) {
        return make_rational(checked_add(checked_mul(a.num, b.den), -checked_mul(b.num, a.den)), checked_mul(a.den, b.den));
      }, [](double a, double b) { return a - b; });
    case Node::Mul:
      return binary([](Rational a, Rational b) {
        return make_rational(checked_mul(a.num, b.num), checked_mul(a.den, b.den));
      }, [](double a, double b) { return a * b; });
    case Node::Div:
      return binary([](Rational a, Rational b) {
        return make_rational(checked_mul(a.num, b.den), checked_mul(a.den, b.num));
      }, [](double a, double b) {
        if (b == 0) throw Unsupported{};
        return a / b;
      });
    case Node::Pow: {
      Exact base = exact_eval(n.kids[0]), exponent = exact_eval(n.kids[1]);
      if (!std::holds_alternative<Rational>(exponent) || std::get<Rational>(exponent).den != 1) throw Unsupported{};
      i128 e = std::get<Rational>(exponent).num;
      if (e > 256 || e < -256) throw Unsupported{};
      if (std::holds_alternative<double>(base)) return std::pow(std::get<double>(base), static_cast<double>(e));
      Rational b = std::get<Rational>(base), r{1, 1};
      for (i128 i = 0; i < (e < 0 ? -e : e); ++i) r = make_rational(checked_mul(r.num, b.num), checked_mul(r.den, b.den));
      return e < 0 ? make_rational(r.den, r.num) : r;
    }
    default: throw Unsupported{};
  }
}

// ---- numeric evaluation ----------------------------------------------------------------------------------

long double numeric_eval(const Node& n, const std::map<std::string, long double>& at) {
  switch (n.kind) {
    case Node::Number: return std::strtold(n.text.c_str(), nullptr);
    case Node::Symbol: return at.at(n.text);
    case Node::Pi: return 3.141592653589793238462643383279502884L;
    case Node::Sqrt: return std::sqrt(numeric_eval(n.kids[0], at));
    case Node::Neg: return -numeric_eval(n.kids[0], at);
    case Node::Add: return numeric_eval(n.kids[0], at) + numeric_eval(n.kids[1], at);
    case Node::Sub: return numeric_eval(n.kids[0], at) - numeric_eval(n.kids[1], at);
    case Node::Mul: return numeric_eval(n.kids[0], at) * numeric_eval(n.kids[1], at);
    case Node::Div: return numeric_eval(n.kids[0], at) / numeric_eval(n.kids[1], at);
    case Node::Pow: return std::pow(numeric_eval(n.kids[0], at), numeric_eval(n.kids[1], at));
  }
  return NAN;
}

bool numerically_equal(const Node& gt, const Node& given) {
  std::set<std::string> symbols;
  collect_symbols(gt, symbols);
  collect_symbols(given, symbols);
  static const long double kPoints[3] = {0.5772156649015328606L, 1.6180339887498948482L, 2.7182818284590452354L};
  for (int point = 0; point < 3; ++point) {
    std::map<std::string, long double> at;
    int j = 0;
    for (const std::string& s : symbols) at[s] = kPoints[point] + 0.3141592653589793L * j++;
    long double a = numeric_eval(gt, at), b = numeric_eval(given, at);
    if (!std::isfinite(a) || !std::isfinite(b)) return false;
    long double scale = std::max({1.0L, std::fabs(a), std::fabs(b)});
    if (std::fabs(a - b) > 1e-17L * scale) return false;
  }
  return true;
}

std::optional<Node> parse(const std::string& s) {
  auto tokens = tokenize(s);
  if (!tokens) return std::nullopt;
  return Parser(std::move(*tokens)).parse();
}

}  // namespace

bool sympy_eval_allowed(const std::string& expression) {
  std::string stripped = replace_all(replace_all(expression, "sqrt", ""), "frac", "");
  std::set<uint32_t> letters;
  for (size_t pos = 0; pos < stripped.size();) {
    uint32_t cp = text::next_code_point(stripped, pos);
    const char* category = utf8proc_category_string(static_cast<utf8proc_int32_t>(cp));
    if (category && category[0] == 'L') letters.insert(cp);
  }
  if (letters.size() > 2) return false;
  if (expression.find("^{") != std::string::npos || expression.find("^(") != std::string::npos) return false;
  static const text::Regex chained(R"(\^[0-9]+\^)"), long_exponent(R"(\^[0-9][0-9]+)");
  return !chained.search(expression) && !long_exponent.search(expression);
}

bool symbolically_equal(const std::string& ground_truth, const std::string& given) {
  if (!sympy_eval_allowed("(" + ground_truth + ")-(" + given + ")")) return false;
  auto to_python = [](std::string s) {
    for (size_t at; (at = s.find('^')) != std::string::npos;) s.replace(at, 1, "**");
    return s;
  };
  auto gt = parse(to_python(ground_truth));
  auto g = parse(to_python(given));
  if (!gt || !g) return false;
  if (!needs_numeric(*gt) && !needs_numeric(*g)) {
    try {
      Exact a = exact_eval(*gt), b = exact_eval(*g);
      if (std::holds_alternative<double>(a) || std::holds_alternative<double>(b)) return to_double(a) - to_double(b) == 0.0;
      const Rational &x = std::get<Rational>(a), &y = std::get<Rational>(b);
      return x.num == y.num && x.den == y.den;
    } catch (const Unsupported&) {
      // fall through to the numeric check
    }
  }
  return numerically_equal(*gt, *g);
}

}  // namespace drllm::tasks
