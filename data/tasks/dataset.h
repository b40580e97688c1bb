// Dataset readers: JSON Lines in the schemas of the Hugging Face dataset cards (ARC, GSM8K, MMLU, PIQA,
// OpenBookQA, DART-Math, TruthfulQA's multiple_choice), the canonical TruthfulQA CSV, and generic JSONL with a
// field mapping. Every row becomes an Example. A malformed
// line or a missing field is reported with file, line and field; the caller chooses between stopping at the
// first bad row and skipping bad rows (the result counts them).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace drllm::tasks {

enum class DatasetFormat { Arc, Gsm8k, Mmlu, Piqa, OpenBookQa, Dart, TruthfulQa, Generic };

DatasetFormat parse_dataset_format(const std::string& name);  // "arc", "gsm8k", "mmlu", ...
std::string to_string(DatasetFormat format);

// Answers with a 0/1 label each (1: true), as the Hugging Face truthful_qa "multiple_choice" rows give them.
struct LabelledChoices {
  std::vector<std::string> choices;
  std::vector<int> labels;
};

struct Example {
  std::string id;                    // the row's id, or "<file stem>:<line>" when the schema has none
  std::string question;
  std::vector<std::string> choices;  // multiple choice only
  int gold_index = -1;               // index of the right choice, or -1
  std::string answer;                // graded answer: the gold letter (A..), GSM8K's final number, DART's gt_ans
  std::string solution;              // GSM8K's whole worked answer (few-shot contexts use it)
  std::string subject;               // MMLU
  int level = 0;                     // DART-Math difficulty (query_metadata.level), 0 when absent
  LabelledChoices mc1_targets;       // TruthfulQA: the one true answer first, then the false ones
  LabelledChoices mc2_targets;       // TruthfulQA: every true answer, then the false ones
};

// For DatasetFormat::Generic: which JSON field holds what ("question" is required).
struct FieldMapping {
  std::string id, question = "question", answer = "answer", choices, gold_index;
  // Parses "question=q,answer=a,choices=opts,gold=label,id=uid".
  static FieldMapping parse(const std::string& text);
};

struct ReadOptions {
  DatasetFormat format = DatasetFormat::Generic;
  FieldMapping mapping;
  bool skip_bad_rows = false;  // false: the first bad row is an error
  size_t limit = 0;            // 0: every row
};

struct DatasetReadResult {
  std::vector<Example> examples;
  size_t skipped = 0;
  std::vector<std::string> skip_reasons;  // the first few, "file:line: why"
};

DatasetReadResult read_dataset(const std::string& path, const ReadOptions& options);

}  // namespace drllm::tasks
