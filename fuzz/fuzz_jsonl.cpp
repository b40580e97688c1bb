// The data set readers: JSON Lines in each schema (the first byte picks it) and TruthfulQA's CSV, bad rows both
// refused and skipped.
#include "data/tasks/dataset.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using drllm::tasks::DatasetFormat;
  if (size == 0) return 0;
  static const DatasetFormat formats[] = {DatasetFormat::Arc,        DatasetFormat::Gsm8k, DatasetFormat::Mmlu,
                                          DatasetFormat::Piqa,       DatasetFormat::OpenBookQa, DatasetFormat::Dart,
                                          DatasetFormat::TruthfulQa, DatasetFormat::Generic};
  drllm::tasks::ReadOptions options;
  options.format = formats[data[0] % 8];
  options.skip_bad_rows = (data[0] / 8) % 2 == 1;
  const bool csv = options.format == DatasetFormat::TruthfulQa && (data[0] / 16) % 2 == 1;
  const std::string path = drllm::fuzz::write_input(csv ? "data.csv" : "data.jsonl", data + 1, size - 1);
  return drllm::fuzz::expect_success_or_error([&] { drllm::tasks::read_dataset(path, options); });
}
