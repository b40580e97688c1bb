#include "data/tasks/dataset.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "common/input_file.h"
#include "data/tasks/csv.h"
#include "common/strings.h"
#include "data/text/regex.h"
#include "data/text/unicode.h"

namespace drllm::tasks {
namespace {

using nlohmann::json;

// A bad row: the message is completed with file and line by the reader loop.
struct RowError {
  std::string why;
};

const json& field(const json& row, const std::string& name) {
  auto it = row.find(name);
  if (it == row.end() || it->is_null()) throw RowError{"missing field '" + name + "'"};
  return *it;
}

std::string string_field(const json& row, const std::string& name) {
  const json& v = field(row, name);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  throw RowError{"field '" + name + "' must be a string, found " + v.dump()};
}

int int_field(const json& row, const std::string& name) {
  const json& v = field(row, name);
  if (v.is_number_integer()) return v.get<int>();
  if (v.is_string()) {
    try {
      size_t used = 0;
      int x = std::stoi(v.get<std::string>(), &used);
      if (used == v.get<std::string>().size()) return x;
    } catch (const std::exception&) {
    }
  }
  throw RowError{"field '" + name + "' must be an integer, found " + v.dump()};
}

std::vector<std::string> string_list(const json& v, const std::string& name) {
  if (!v.is_array()) throw RowError{"field '" + name + "' must be a list"};
  std::vector<std::string> out;
  for (const auto& x : v) {
    if (!x.is_string()) throw RowError{"field '" + name + "' holds a non-string: " + x.dump()};
    out.push_back(x.get<std::string>());
  }
  return out;
}

std::string letter(int index) { return std::string(1, static_cast<char>('A' + index)); }

int index_of(const std::vector<std::string>& labels, const std::string& key, const std::string& what) {
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] == key) return static_cast<int>(i);
  throw RowError{what + " '" + key + "' is not among the choice labels"};
}

// {choices: [...], labels: [0/1, ...]} (the truthful_qa multiple_choice targets).
LabelledChoices labelled_choices(const json& v, const std::string& name) {
  LabelledChoices out;
  out.choices = string_list(field(v, "choices"), name + ".choices");
  const json& labels = field(v, "labels");
  if (!labels.is_array()) throw RowError{"field '" + name + ".labels' must be a list"};
  for (const json& l : labels) {
    if (!l.is_number_integer() || (l.get<int64_t>() != 0 && l.get<int64_t>() != 1))
      throw RowError{"field '" + name + ".labels' holds " + l.dump() + "; labels are 0 or 1"};
    out.labels.push_back(l.get<int>());
  }
  if (out.labels.size() != out.choices.size()) throw RowError{name + ": choices and labels differ in length"};
  if (out.choices.empty()) throw RowError{name + " has no choices"};
  return out;
}

// The TruthfulQA authors' own reading of their CSV (truthfulqa/utilities.py): answers split at ';', stripped, and
// closed with a period; the best answer closed the same way. mc1 = the best answer, then the incorrect ones; mc2 =
// the correct answers, then the incorrect ones.
std::vector<std::string> split_multi_answer(const std::string& answers) {
  std::vector<std::string> out;
  for (std::string a : split_string(answers, ";")) {
    a = text::python_strip(a);
    if (a.empty()) continue;
    out.push_back(a.back() == '.' ? a : a + ".");
  }
  return out;
}

json truthfulqa_row_from_csv(const CsvRecord& record, const std::vector<std::string>& header) {
  if (record.fields.size() != header.size())
    throw RowError{"has " + std::to_string(record.fields.size()) + " fields, the header " +
                   std::to_string(header.size())};
  auto column = [&](const std::string& name) -> const std::string& {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return record.fields[i];
    throw RowError{"the header has no column '" + name + "'"};
  };
  std::string best = text::python_strip(column("Best Answer"));
  if (best.empty()) throw RowError{"column 'Best Answer' is empty"};
  if (best.back() != '.') best += ".";
  std::vector<std::string> right = split_multi_answer(column("Correct Answers"));
  std::vector<std::string> wrong = split_multi_answer(column("Incorrect Answers"));
  if (wrong.empty()) throw RowError{"column 'Incorrect Answers' is empty"};
  json mc1 = {{"choices", json::array({best})}, {"labels", json::array({1})}};
  json mc2 = {{"choices", right}, {"labels", std::vector<int>(right.size(), 1)}};
  for (const std::string& w : wrong) {
    mc1["choices"].push_back(w);
    mc1["labels"].push_back(0);
    mc2["choices"].push_back(w);
    mc2["labels"].push_back(0);
  }
  return {{"question", column("Question")}, {"mc1_targets", mc1}, {"mc2_targets", mc2}};
}

// GSM8K's extract_answer: the first "#### n", commas removed.
std::string gsm8k_final_number(const std::string& solution) {
  static const text::Regex final_answer(R"(#### (\-?[0-9\.\,]+))");
  auto m = final_answer.search(solution);
  if (!m) throw RowError{"field 'answer' has no '#### <number>' line"};
  std::string n = *m->groups[1];
  size_t b = n.find_first_not_of(" \t\n"), e = n.find_last_not_of(" \t\n");
  n = b == std::string::npos ? "" : n.substr(b, e - b + 1);
  std::string out;
  for (char c : n)
    if (c != ',') out.push_back(c);
  return out;
}

// Choices {text: [...], label: [...]} with answerKey (ARC, OpenBookQA).
void read_labelled_choices(const json& row, Example& ex, bool lstrip_key) {
  const json& choices = field(row, "choices");
  ex.choices = string_list(field(choices, "text"), "choices.text");
  std::vector<std::string> labels = string_list(field(choices, "label"), "choices.label");
  if (labels.size() != ex.choices.size()) throw RowError{"choices.text and choices.label differ in length"};
  std::string key = string_field(row, "answerKey");
  if (lstrip_key) key.erase(0, key.find_first_not_of(" \t\n"));
  ex.gold_index = index_of(labels, key, "answerKey");
  ex.answer = letter(ex.gold_index);
}

Example parse_row(const json& row, const ReadOptions& o, const std::string& fallback_id) {
  if (!row.is_object()) throw RowError{"a row must be a JSON object"};
  Example ex;
  ex.id = row.contains("id") && row["id"].is_string() ? row["id"].get<std::string>() : fallback_id;
  switch (o.format) {
    case DatasetFormat::Arc:
      ex.question = string_field(row, "question");
      read_labelled_choices(row, ex, false);
      break;
    case DatasetFormat::OpenBookQa:
      ex.question = string_field(row, "question_stem");
      read_labelled_choices(row, ex, true);
      break;
    case DatasetFormat::Gsm8k:
      ex.question = string_field(row, "question");
      ex.solution = string_field(row, "answer");
      ex.answer = gsm8k_final_number(ex.solution);
      break;
    case DatasetFormat::Mmlu:
      ex.question = string_field(row, "question");
      ex.subject = row.contains("subject") && row["subject"].is_string() ? row["subject"].get<std::string>() : "";
      ex.choices = string_list(field(row, "choices"), "choices");
      ex.gold_index = int_field(row, "answer");
      if (ex.gold_index < 0 || ex.gold_index >= static_cast<int>(ex.choices.size()))
        throw RowError{"field 'answer' is " + std::to_string(ex.gold_index) + ", outside the choices"};
      ex.answer = letter(ex.gold_index);
      break;
    case DatasetFormat::Piqa:
      ex.question = string_field(row, "goal");
      ex.choices = {string_field(row, "sol1"), string_field(row, "sol2")};
      ex.gold_index = int_field(row, "label");
      if (ex.gold_index != 0 && ex.gold_index != 1) throw RowError{"field 'label' must be 0 or 1"};
      ex.answer = letter(ex.gold_index);
      break;
    case DatasetFormat::Dart:
      ex.question = string_field(row, "query");
      ex.answer = string_field(row, "gt_ans");
      if (row.contains("query_metadata") && row["query_metadata"].is_object() &&
          row["query_metadata"].contains("level") && row["query_metadata"]["level"].is_number_integer())
        ex.level = row["query_metadata"]["level"].get<int>();
      break;
    case DatasetFormat::TruthfulQa:
      ex.question = string_field(row, "question");
      ex.mc1_targets = labelled_choices(field(row, "mc1_targets"), "mc1_targets");
      ex.mc2_targets = labelled_choices(field(row, "mc2_targets"), "mc2_targets");
      if (ex.mc1_targets.labels.empty() || ex.mc1_targets.labels[0] != 1 ||
          std::count(ex.mc1_targets.labels.begin(), ex.mc1_targets.labels.end(), 1) != 1)
        throw RowError{"mc1_targets must hold one true answer (label 1), and first"};
      if (std::count(ex.mc2_targets.labels.begin(), ex.mc2_targets.labels.end(), 1) == 0)
        throw RowError{"mc2_targets holds no true answer (label 1)"};
      ex.choices = ex.mc1_targets.choices;
      ex.gold_index = 0;
      ex.answer = ex.mc1_targets.choices[0];
      break;
    case DatasetFormat::Generic: {
      const FieldMapping& m = o.mapping;
      if (!m.id.empty()) ex.id = string_field(row, m.id);
      ex.question = string_field(row, m.question);
      if (!m.choices.empty()) {
        ex.choices = string_list(field(row, m.choices), m.choices);
        if (!m.gold_index.empty()) {
          ex.gold_index = int_field(row, m.gold_index);
          if (ex.gold_index < 0 || ex.gold_index >= static_cast<int>(ex.choices.size()))
            throw RowError{"field '" + m.gold_index + "' is outside the choices"};
          ex.answer = letter(ex.gold_index);
        }
      }
      if (!m.answer.empty() && ex.answer.empty()) ex.answer = string_field(row, m.answer);
      break;
    }
  }
  return ex;
}

}  // namespace

DatasetFormat parse_dataset_format(const std::string& name) {
  if (name == "arc") return DatasetFormat::Arc;
  if (name == "gsm8k") return DatasetFormat::Gsm8k;
  if (name == "mmlu") return DatasetFormat::Mmlu;
  if (name == "piqa") return DatasetFormat::Piqa;
  if (name == "openbookqa") return DatasetFormat::OpenBookQa;
  if (name == "dart") return DatasetFormat::Dart;
  if (name == "truthfulqa") return DatasetFormat::TruthfulQa;
  if (name == "generic") return DatasetFormat::Generic;
  throw Error(cat("dataset format '", name, "' is not known; known: arc, gsm8k, mmlu, piqa, openbookqa, dart, truthfulqa, generic"));
}

std::string to_string(DatasetFormat format) {
  switch (format) {
    case DatasetFormat::Arc: return "arc";
    case DatasetFormat::Gsm8k: return "gsm8k";
    case DatasetFormat::Mmlu: return "mmlu";
    case DatasetFormat::Piqa: return "piqa";
    case DatasetFormat::OpenBookQa: return "openbookqa";
    case DatasetFormat::Dart: return "dart";
    case DatasetFormat::TruthfulQa: return "truthfulqa";
    case DatasetFormat::Generic: return "generic";
  }
  return "?";
}

FieldMapping FieldMapping::parse(const std::string& text) {
  FieldMapping m;
  m.answer.clear();
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t eq = item.find('=');
    DRLLM_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < item.size(), "field mapping '", text, "': item '",
                item, "' is not key=field");
    std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "id") m.id = value;
    else if (key == "question") m.question = value;
    else if (key == "answer") m.answer = value;
    else if (key == "choices") m.choices = value;
    else if (key == "gold") m.gold_index = value;
    else throw Error(cat("field mapping '", text, "': unknown key '", key, "'; keys: id, question, answer, choices, gold"));
  }
  return m;
}

DatasetReadResult read_dataset(const std::string& path, const ReadOptions& options) {
  const std::string stem = std::filesystem::path(path).stem().string();
  DatasetReadResult result;
  // One row: its JSON object from `row()`, which throws RowError for a malformed one. False once the limit is met.
  auto take = [&](size_t line_number, const std::function<json()>& row) {
    try {
      result.examples.push_back(parse_row(row(), options, stem + ":" + std::to_string(line_number)));
    } catch (const RowError& e) {
      std::string message = cat(path, ":", line_number, ": ", e.why, " (format ", to_string(options.format), ")");
      if (!options.skip_bad_rows) throw Error(message + "; pass --skip-bad-rows to skip such rows");
      ++result.skipped;
      if (result.skip_reasons.size() < 10) result.skip_reasons.push_back(message);
    }
    return !(options.limit && result.examples.size() >= options.limit);
  };

  if (options.format == DatasetFormat::TruthfulQa && std::filesystem::path(path).extension() == ".csv") {
    std::vector<CsvRecord> records = read_csv(path);
    DRLLM_CHECK(!records.empty(), path, ": empty CSV file (expected the TruthfulQA header row)");
    for (size_t r = 1; r < records.size(); ++r)
      if (!take(records[r].line, [&] { return truthfulqa_row_from_csv(records[r], records[0].fields); })) break;
    return result;
  }
  check_input_file(path, "data file", 64 * kGiB);
  std::ifstream in(path);
  DRLLM_CHECK(in, path, ": cannot open data file");
  std::string line;
  for (size_t line_number = 1; std::getline(in, line); ++line_number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    bool more = take(line_number, [&] {
      try {
        return json::parse(line);
      } catch (const json::exception& e) {
        throw RowError{std::string("malformed JSON: ") + e.what()};
      }
    });
    if (!more) break;
  }
  return result;
}

}  // namespace drllm::tasks
