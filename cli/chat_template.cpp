// drllm chat-template: renders conversations with a model's chat template, to see (or test) the exact
// prompt text. Input: one JSON object per line, {"messages": [{"role", "content"}...],
// "add_generation_prompt": bool, "enable_thinking": bool}; output: the rendered text as one JSON string a line.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/error.h"
#include "data/text/chat_template.h"

namespace drllm::cli {
namespace {

struct ChatTemplateOptions {
  std::string tokenizer_config;
  std::string name;
  std::string date;
};

void run_chat_template(const ChatTemplateOptions& o) {
  DRLLM_CHECK(!o.tokenizer_config.empty() || !o.name.empty(), "give --tokenizer-config or --name");
  text::ChatTemplate chat = o.name.empty() ? text::ChatTemplate::from_tokenizer_config(o.tokenizer_config)
                                           : text::ChatTemplate::by_name(o.name);
  if (!o.date.empty()) chat.set_date_string(o.date);
  std::string line;
  for (size_t n = 1; std::getline(std::cin, line); ++n) {
    if (line.empty()) continue;
    std::vector<text::ChatMessage> messages;
    bool add_generation_prompt = false, enable_thinking = true;
    try {
      auto j = nlohmann::json::parse(line);
      for (const auto& m : j.at("messages"))
        messages.push_back({m.at("role").get<std::string>(), m.at("content").get<std::string>()});
      add_generation_prompt = j.value("add_generation_prompt", false);
      enable_thinking = j.value("enable_thinking", true);
    } catch (const nlohmann::json::exception& e) {
      throw Error(cat("stdin line ", n, ": ", e.what()));
    }
    std::cout << nlohmann::json(chat.render(messages, add_generation_prompt, enable_thinking)).dump() << "\n";
  }
}

}  // namespace

void add_chat_template(CLI::App& app) {
  auto* cmd = app.add_subcommand("chat-template", "render conversations (JSON lines on stdin) with a chat template");
  auto o = std::make_shared<ChatTemplateOptions>();
  cmd->add_option("--tokenizer-config", o->tokenizer_config, "tokenizer_config.json whose template to use");
  cmd->add_option("--name", o->name, "a template by name: llama3, llama3.1, llama3.2, qwen2.5, qwen3, smollm2, chatml");
  cmd->add_option("--date", o->date, "llama3.1/3.2: the 'Today Date' line, e.g. \"26 Jul 2024\"");
  cmd->callback([o] { run_chat_template(*o); });
}

}  // namespace drllm::cli
