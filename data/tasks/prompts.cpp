#include "data/tasks/prompts.h"

#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/input_file.h"
#include "data/text/unicode.h"

namespace drllm::tasks {
namespace {

// parameterlab/dr-llm prompts.py after str.format's brace unescaping. answer_letter_long really begins with
// a double quote (the source has four quote characters); kept for parity (docs/graders.md).
const char* kArcInstruct =
    "\"Question: {question}\n{choices_text}\nAnswer with a single letter (A, B, C, or D) and no explanation. "
    "You answer should start with \"Answer: \" and be followed by the letter of the answer you choose. "
    "Do not include any other text in your response.";
const char* kArcBase = "Question: {question}\n\n{choices_text}\n\nAnswer: The correct answer is ";
const char* kMathInstruct = "Question: {question}\nThe final answer MUST BE put in \\boxed{{}} and no explanation.";
const char* kMathBase =
    "Question: What is $2 + 3$?\nAnswer: \\boxed{{5}}\n\nQuestion: What is $10 \\div 2$?\nAnswer: \\boxed{{5}}\n\n"
    "Question: {question}\nAnswer: \\boxed{{";

// Walks a str.format template, calling `field` for each {name} and `literal` for text.
template <typename Field, typename Literal>
void walk_template(const std::string& text, const std::string& name, Field field, Literal literal) {
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      literal('{');
      ++i;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      literal('}');
      ++i;
    } else if (c == '{') {
      size_t close = text.find('}', i);
      DRLLM_CHECK(close != std::string::npos, "prompt template '", name, "': '{' at offset ", i, " is not closed");
      field(text.substr(i + 1, close - i - 1));
      i = close;
    } else if (c == '}') {
      throw Error(cat("prompt template '", name, "': single '}' at offset ", i, " (write '}}' for a brace)"));
    } else {
      literal(c);
    }
  }
}

}  // namespace

std::string format_choices(const std::vector<std::string>& choices, ChoiceStyle style) {
  std::string out;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i) out += '\n';
    char letter = static_cast<char>('A' + i);
    out += style == ChoiceStyle::Dotted ? std::string(1, letter) + ". " : std::string("(") + letter + ") ";
    out += choices[i];
  }
  return out;
}

PromptTemplate::PromptTemplate(std::string text, ChoiceStyle style, std::string name)
    : text_(std::move(text)), style_(style), name_(std::move(name)) {
  walk_template(
      text_, name_,
      [&](const std::string& f) {
        DRLLM_CHECK(f == "question" || f == "choices_text" || f == "answer", "prompt template '", name_,
                    "': unknown placeholder {", f, "}; known: {question}, {choices_text}, {answer}");
      },
      [](char) {});
}

PromptTemplate PromptTemplate::from_file(const std::string& path, ChoiceStyle style) {
  check_input_file(path, "prompt template", 16 * kMiB);
  std::ifstream in(path);
  DRLLM_CHECK(in, path, ": cannot open prompt template");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return PromptTemplate(buffer.str(), style, path);
}

PromptTemplate PromptTemplate::drllm(const std::string& task, bool instruct) {
  if (task == "arc")
    return instruct ? PromptTemplate(kArcInstruct, ChoiceStyle::Dotted, "drllm-arc-instruct")
                    : PromptTemplate(kArcBase, ChoiceStyle::Parenthesised, "drllm-arc-base");
  if (task == "math")
    return instruct ? PromptTemplate(kMathInstruct, ChoiceStyle::Dotted, "drllm-math-instruct")
                    : PromptTemplate(kMathBase, ChoiceStyle::Dotted, "drllm-math-base");
  throw Error(cat("no Dr.LLM prompt for task '", task, "'; tasks: arc, math"));
}

std::string PromptTemplate::render(const Example& example) const {
  std::string out;
  walk_template(
      text_, name_,
      [&](const std::string& f) {
        if (f == "question") out += example.question;
        else if (f == "choices_text") out += format_choices(example.choices, style_);
        else out += example.answer;
      },
      [&](char c) { out.push_back(c); });
  return out;
}

bool is_instruct_model_name(const std::string& name) {
  std::string lower = text::python_lower(name);
  return lower.find("instruct") != std::string::npos ||
         (lower.find("qwen3") != std::string::npos && lower.find("base") == std::string::npos);
}

std::string drllm_model_input(const PromptTemplate& prompt, const Example& example, const text::ChatTemplate* chat) {
  std::string text = prompt.render(example);
  return chat ? chat->render({{"user", text}}, /*add_generation_prompt=*/true) : text;
}

}  // namespace drllm::tasks
