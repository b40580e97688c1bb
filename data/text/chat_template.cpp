#include "data/text/chat_template.h"

#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "common/input_file.h"
#include "data/text/unicode.h"

namespace drllm::text {
namespace {

const char* kQwen25System = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
const char* kSmolLM2System = "You are a helpful AI assistant named SmolLM, trained by Hugging Face";

std::string strip_chars(const std::string& s, char c, bool left, bool right) {
  size_t b = 0, e = s.size();
  if (left)
    while (b < e && s[b] == c) ++b;
  if (right)
    while (e > b && s[e - 1] == c) --e;
  return s.substr(b, e - b);
}

void check_roles(const std::vector<ChatMessage>& messages, const std::string& family) {
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& r = messages[i].role;
    DRLLM_CHECK(r == "system" || r == "user" || r == "assistant", family, " chat template: message ", i,
                " has role '", r, "'; supported roles: system, user, assistant");
  }
}

std::string chatml_turn(const ChatMessage& m) { return "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n"; }

// Qwen3's template: reasoning between <think> tags is kept only for assistant turns after the last user query.
std::string render_qwen3(const std::vector<ChatMessage>& messages, bool add_generation_prompt, bool enable_thinking) {
  std::string out;
  if (!messages.empty() && messages[0].role == "system") out += chatml_turn(messages[0]);
  long last_query = static_cast<long>(messages.size()) - 1;
  for (long i = last_query; i >= 0; --i) {
    const std::string& c = messages[i].content;
    bool tool_response = c.rfind("<tool_response>", 0) == 0 && c.size() >= 16 &&
                         c.compare(c.size() - 16, 16, "</tool_response>") == 0;
    if (messages[i].role == "user" && !tool_response) {
      last_query = i;
      break;
    }
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if (m.role == "user" || (m.role == "system" && i != 0)) {
      out += chatml_turn(m);
    } else if (m.role == "assistant") {
      std::string content = m.content, reasoning;
      size_t close = content.find("</think>");
      if (close != std::string::npos) {
        size_t last_close = content.rfind("</think>");
        std::string before = content.substr(0, close);
        size_t open = before.rfind("<think>");
        reasoning = strip_chars(open == std::string::npos ? before : before.substr(open + 7), '\n', false, true);
        reasoning = strip_chars(reasoning, '\n', true, false);
        content = strip_chars(content.substr(last_close + 8), '\n', true, false);
      }
      bool last = i + 1 == messages.size();
      if (static_cast<long>(i) > last_query && (last || !reasoning.empty()))
        out += "<|im_start|>assistant\n<think>\n" + strip_chars(reasoning, '\n', true, true) + "\n</think>\n\n" +
               strip_chars(content, '\n', true, false);
      else
        out += "<|im_start|>assistant\n" + content;
      out += "<|im_end|>\n";
    }
  }
  if (add_generation_prompt) {
    out += "<|im_start|>assistant\n";
    if (!enable_thinking) out += "<think>\n\n</think>\n\n";
  }
  return out;
}

}  // namespace

std::vector<std::string> ChatTemplate::names() {
  return {"llama3", "llama3.1", "llama3.2", "qwen2.5", "qwen3", "smollm2", "chatml"};
}

// Today's date as strftime("%d %b %Y") in the C locale, as transformers' strftime_now gives it.
static std::string today_string() {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%d %b %Y", &local);
  return buffer;
}

ChatTemplate ChatTemplate::by_name(const std::string& name, const std::string& bos_token) {
  if (name == "llama3") return ChatTemplate(Family::Llama3, bos_token.empty() ? "<|begin_of_text|>" : bos_token);
  if (name == "llama3.1" || name == "llama3.2") {
    ChatTemplate t(Family::Llama31, bos_token.empty() ? "<|begin_of_text|>" : bos_token);
    if (name == "llama3.2") t.date_string_ = today_string();
    return t;
  }
  if (name == "qwen2.5") return ChatTemplate(Family::Qwen25, "");
  if (name == "qwen3") return ChatTemplate(Family::Qwen3, "");
  if (name == "smollm2") return ChatTemplate(Family::SmolLM2, "");
  if (name == "chatml") return ChatTemplate(Family::ChatML, "");
  throw Error(cat("chat template '", name,
                  "' is not known; known: llama3, llama3.1, llama3.2, qwen2.5, qwen3, smollm2, chatml"));
}

std::string ChatTemplate::name() const {
  switch (family_) {
    case Family::Llama3: return "llama3";
    case Family::Llama31: return "llama3.1";
    case Family::Qwen25: return "qwen2.5";
    case Family::Qwen3: return "qwen3";
    case Family::SmolLM2: return "smollm2";
    case Family::ChatML: return "chatml";
  }
  return "?";
}

ChatTemplate ChatTemplate::recognise(const std::string& jinja, const std::string& bos_token,
                                     const std::string& source) {
  auto has = [&](const char* s) { return jinja.find(s) != std::string::npos; };
  if (has("<|start_header_id|>") && !has("Cutting Knowledge Date")) return by_name("llama3", bos_token);
  if (has("<|start_header_id|>") && has("Cutting Knowledge Date: December 2023"))
    return by_name(has("strftime_now") ? "llama3.2" : "llama3.1", bos_token);
  if (has("<|im_start|>")) {
    if (has("enable_thinking") || has("last_query_index")) return by_name("qwen3");
    if (has(kQwen25System)) return by_name("qwen2.5");
    if (has(kSmolLM2System)) return by_name("smollm2");
  }
  throw Error(cat(source, ": this chat template is not one drllm implements; pass one by name with ",
                  "--chat-template (llama3, llama3.1, llama3.2, qwen2.5, qwen3, smollm2, chatml)"));
}

ChatTemplate ChatTemplate::from_tokenizer_config(const std::string& path) {
  check_input_file(path, "tokenizer config", 256 * kMiB);
  std::ifstream in(path);
  DRLLM_CHECK(in, path, ": cannot open tokenizer config");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(cat(path, ": not valid JSON: ", e.what()));
  }
  DRLLM_CHECK(j.contains("chat_template") && j["chat_template"].is_string(), path,
              ": has no chat_template string; pass one by name with --chat-template");
  std::string bos;
  if (j.contains("bos_token") && j["bos_token"].is_string()) bos = j["bos_token"].get<std::string>();
  return recognise(j["chat_template"].get<std::string>(), bos, path);
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                                 bool enable_thinking) const {
  check_roles(messages, name());
  std::string out;
  switch (family_) {
    case Family::Llama3:
      for (size_t i = 0; i < messages.size(); ++i) {
        if (i == 0) out += bos_token_;
        out += "<|start_header_id|>" + messages[i].role + "<|end_header_id|>\n\n" + python_strip(messages[i].content) +
               "<|eot_id|>";
      }
      if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
      return out;
    case Family::Llama31: {
      // The system block always comes first, carrying the dates and the (trimmed) system message if any.
      size_t first = 0;
      std::string system;
      if (!messages.empty() && messages[0].role == "system") {
        system = python_strip(messages[0].content);
        first = 1;
      }
      out = bos_token_ + "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n" +
            "Today Date: " + date_string_ + "\n\n" + system + "<|eot_id|>";
      for (size_t i = first; i < messages.size(); ++i)
        out += "<|start_header_id|>" + messages[i].role + "<|end_header_id|>\n\n" + python_strip(messages[i].content) +
               "<|eot_id|>";
      if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
      return out;
    }
    case Family::Qwen3:
      return render_qwen3(messages, add_generation_prompt, enable_thinking);
    case Family::Qwen25:
      if (messages.empty() || messages[0].role != "system")
        out += std::string("<|im_start|>system\n") + kQwen25System + "<|im_end|>\n";
      for (const ChatMessage& m : messages) out += chatml_turn(m);
      break;
    case Family::SmolLM2:
      if (!messages.empty() && messages[0].role != "system")
        out += std::string("<|im_start|>system\n") + kSmolLM2System + "<|im_end|>\n";
      for (const ChatMessage& m : messages) out += chatml_turn(m);
      break;
    case Family::ChatML:
      for (const ChatMessage& m : messages) out += chatml_turn(m);
      break;
  }
  if (add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

}  // namespace drllm::text
