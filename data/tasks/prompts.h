// Prompt templates: the Dr.LLM ones (official prompts.py: ARC and math, instruct and base variants) and
// templates users write themselves, in Python str.format syntax: {question}, {choices_text}, {answer}, with
// {{ and }} for literal braces. Choices are listed "A. text" (instruct) or "(A) text" (base), one a line.
#pragma once

#include <string>
#include <vector>

#include "data/text/chat_template.h"
#include "data/tasks/dataset.h"

namespace drllm::tasks {

enum class ChoiceStyle { Dotted, Parenthesised };  // "A. x" / "(A) x"

std::string format_choices(const std::vector<std::string>& choices, ChoiceStyle style);

class PromptTemplate {
 public:
  // Checks the placeholders: unknown names and unbalanced braces are errors.
  PromptTemplate(std::string text, ChoiceStyle style, std::string name = "custom");
  static PromptTemplate from_file(const std::string& path, ChoiceStyle style);

  // The official Dr.LLM prompts: task "arc" or "math", instruct or base model.
  static PromptTemplate drllm(const std::string& task, bool instruct);

  std::string render(const Example& example) const;
  const std::string& name() const { return name_; }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  ChoiceStyle style_;
  std::string name_;
};

// Dr.LLM's instruct test on a model name (docs/graders.md): "instruct" in it, or "qwen3" without "base".
bool is_instruct_model_name(const std::string& name);

// The text the model reads for one example in Dr.LLM's setting: the task's prompt, wrapped as one user message
// in the chat template for instruct models (pass `chat` = nullptr for base models).
std::string drllm_model_input(const PromptTemplate& prompt, const Example& example, const text::ChatTemplate* chat);

}  // namespace drllm::tasks
