#include "data/tasks/latex_to_text.h"

#include <cctype>
#include <map>

#include "data/text/unicode.h"

namespace drllm::tasks {
namespace {

const std::map<std::string, std::string>& symbol_macros() {
  static const std::map<std::string, std::string> table = {
      {"le", "≤"}, {"leq", "≤"}, {"ge", "≥"}, {"geq", "≥"}, {"neq", "≠"}, {"ne", "≠"}, {"pm", "±"}, {"mp", "∓"},
      {"in", "∈"}, {"notin", "∉"}, {"circ", "∘"}, {"dots", "…"}, {"ldots", "…"}, {"cdots", "⋯"}, {"cdot", "·"},
      {"times", "×"}, {"div", "÷"}, {"pi", "π"}, {"infty", "∞"}, {"cup", "∪"}, {"cap", "∩"}, {"approx", "≈"},
      {"sim", "~"}, {"to", "→"}, {"rightarrow", "→"}, {"Rightarrow", "⇒"}, {"leftarrow", "←"}, {"angle", "∠"},
      {"triangle", "△"}, {"degree", "°"}, {"prime", "′"}, {"emptyset", "∅"}, {"varnothing", "∅"},
      {"subset", "⊂"}, {"subseteq", "⊆"}, {"perp", "⊥"}, {"parallel", "∥"}, {"equiv", "≡"},
      {"alpha", "α"}, {"beta", "β"}, {"gamma", "γ"}, {"delta", "δ"}, {"epsilon", "ϵ"}, {"varepsilon", "ε"},
      {"zeta", "ζ"}, {"eta", "η"}, {"theta", "θ"}, {"vartheta", "ϑ"}, {"iota", "ι"}, {"kappa", "κ"},
      {"lambda", "λ"}, {"mu", "μ"}, {"nu", "ν"}, {"xi", "ξ"}, {"rho", "ρ"}, {"sigma", "σ"}, {"tau", "τ"},
      {"upsilon", "υ"}, {"phi", "ϕ"}, {"varphi", "φ"}, {"chi", "χ"}, {"psi", "ψ"}, {"omega", "ω"},
      {"Gamma", "Γ"}, {"Delta", "Δ"}, {"Theta", "Θ"}, {"Lambda", "Λ"}, {"Xi", "Ξ"}, {"Pi", "Π"}, {"Sigma", "Σ"},
      {"Phi", "Φ"}, {"Psi", "Ψ"}, {"Omega", "Ω"},
      // spacing: \, \; \: are thin/medium spaces, \quad two spaces, \! nothing
      {",", " "}, {";", " "}, {":", " "}, {" ", " "}, {"quad", "  "}, {"qquad", "    "}, {"!", ""},
      // escaped characters
      {"{", "{"}, {"}", "}"}, {"%", "%"}, {"$", "$"}, {"&", "&"}, {"#", "#"}, {"_", "_"},
      // delimiters that only size what follows
      {"left", ""}, {"right", ""}, {"big", ""}, {"Big", ""}, {"bigg", ""}, {"Bigg", ""}, {"displaystyle", ""},
      {"\\", "\n"}};
  return table;
}

// Math bold for \mathbf: letters and digits to U+1D400..; anything else unchanged.
std::string math_bold(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 'A' && c <= 'Z') text::append_utf8(out, 0x1D400 + (c - 'A'));
    else if (c >= 'a' && c <= 'z') text::append_utf8(out, 0x1D41A + (c - 'a'));
    else if (c >= '0' && c <= '9') text::append_utf8(out, 0x1D7CE + (c - '0'));
    else out.push_back(static_cast<char>(c));
  }
  return out;
}

class Converter {
 public:
  explicit Converter(const std::string& s) : s_(s) {}

  std::string run() { return sequence(false); }

 private:
  // Text until the end, or until the '}' that closes the current group.
  std::string sequence(bool in_group) {
    std::string out;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '}') {
        if (in_group) {
          ++pos_;
          return out;
        }
        out.push_back(c);
        ++pos_;
      } else if (c == '{') {
        ++pos_;
        out += sequence(true);
      } else if (c == '\\') {
        out += macro();
      } else if (c == '~') {
        out += "\xC2\xA0";  // non-breaking space
        ++pos_;
      } else {
        out.push_back(c);
        ++pos_;
      }
    }
    return out;
  }

  // One argument: a {group}, a macro, or a single character (spaces before it skipped).
  std::string argument() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
    if (pos_ >= s_.size()) return "";
    if (s_[pos_] == '{') {
      ++pos_;
      return sequence(true);
    }
    if (s_[pos_] == '\\') return macro();
    size_t len = text::utf8_char_length(static_cast<unsigned char>(s_[pos_]));
    std::string one = s_.substr(pos_, len);
    pos_ += len;
    return one;
  }

  std::string macro() {
    ++pos_;  // the backslash
    if (pos_ >= s_.size()) return "";
    std::string name;
    if (std::isalpha(static_cast<unsigned char>(s_[pos_]))) {
      while (pos_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[pos_]))) name.push_back(s_[pos_++]);
    } else {
      name = std::string(1, s_[pos_++]);
    }
    if (name == "frac" || name == "dfrac" || name == "tfrac") {
      std::string a = argument();
      std::string b = argument();
      return a + "/" + b;
    }
    if (name == "sqrt") {
      while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
      if (pos_ < s_.size() && s_[pos_] == '[') {  // the root index is dropped
        size_t close = s_.find(']', pos_);
        pos_ = close == std::string::npos ? s_.size() : close + 1;
      }
      return "√(" + argument() + ")";
    }
    if (name == "mathbf" || name == "boldsymbol") return math_bold(argument());
    auto it = symbol_macros().find(name);
    if (it != symbol_macros().end()) return it->second;
    // \text, \mathrm, \textbf, \mbox, \overline, \boxed and unknown macros: the macro itself prints nothing;
    // a group after it is then printed as ordinary text.
    return "";
  }

  const std::string& s_;
  size_t pos_ = 0;
};

}  // namespace

std::string latex_to_text(const std::string& latex) { return Converter(latex).run(); }

}  // namespace drllm::tasks
