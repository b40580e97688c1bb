// Chat templates of the supported families, implemented natively and rendered exactly as transformers'
// apply_chat_template renders their Jinja (system / user / assistant messages; no tools):
//   llama3   Llama-3 (<|start_header_id|> blocks, contents trimmed, BOS first)
//   llama3.1 Llama-3.1/3.2 Instruct: a system block with "Cutting Knowledge Date" and "Today Date" (26 Jul 2024
//            for 3.1; today, as transformers' strftime_now gives, for 3.2's template; --date overrides)
//   qwen2.5  ChatML with Qwen2.5's default system message
//   qwen3    ChatML with Qwen3's <think> handling; enable_thinking=false adds the empty think block
//   smollm2  ChatML with SmolLM2's default system message
//   chatml   plain ChatML, no default system message
// A tokenizer_config.json template is recognised by its distinctive text; an unknown one is an error that
// says how to name a template instead.
#pragma once

#include <string>
#include <vector>

namespace drllm::text {

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

class ChatTemplate {
 public:
  enum class Family { Llama3, Llama31, Qwen25, Qwen3, SmolLM2, ChatML };

  static ChatTemplate by_name(const std::string& name, const std::string& bos_token = "");
  // Reads chat_template and bos_token from a tokenizer_config.json.
  static ChatTemplate from_tokenizer_config(const std::string& path);
  // Recognises the Jinja text of a supported family; `source` names it in errors.
  static ChatTemplate recognise(const std::string& jinja, const std::string& bos_token, const std::string& source);
  static std::vector<std::string> names();

  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                     bool enable_thinking = false) const;
  // The "Today Date" of the llama3.1 family ("26 Jul 2024" style).
  void set_date_string(std::string date) { date_string_ = std::move(date); }
  Family family() const { return family_; }
  std::string name() const;

 private:
  ChatTemplate(Family family, std::string bos) : family_(family), bos_token_(std::move(bos)) {}
  Family family_;
  std::string bos_token_;
  std::string date_string_ = "26 Jul 2024";
};

}  // namespace drllm::text
