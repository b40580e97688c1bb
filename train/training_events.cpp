#include "train/training_events.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/tensorboard.h"

namespace drllm::train {

std::string training_events_path(const std::string& run_dir) {
  return (std::filesystem::path(run_dir) / "tensorboard" / "events.out.tfevents.drllm-train").string();
}

void write_training_events(const std::string& run_dir, const std::vector<std::string>& lines,
                           const std::vector<double>& wall_times) {
  std::vector<ScalarEvent> events;
  for (size_t i = 0; i < lines.size(); ++i) {
    const nlohmann::json line = nlohmann::json::parse(lines[i]);
    ScalarEvent event;
    event.step = line.value("step", int64_t{0});
    event.wall_time = i < wall_times.size() ? wall_times[i] : wall_time_now();
    for (const auto& [key, value] : line.items()) {
      if (key == "epoch" || key == "step") continue;
      const std::string tag = key == "train_loss" ? "train/loss" : "held_out/" + key;
      if (value.is_number()) {
        event.values.emplace_back(tag, value.get<float>());
      } else if (value.is_array()) {
        for (size_t k = 0; k < value.size(); ++k)
          if (value[k].is_number()) event.values.emplace_back(tag + "/" + std::to_string(k), value[k].get<float>());
      }
    }
    events.push_back(std::move(event));
  }
  const std::string path = training_events_path(run_dir);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const double created = wall_times.empty() ? wall_time_now() : wall_times.front();
  write_file_atomically(path, [&](std::ostream& out) { out << tensorboard_event_file(events, created); });
}

}  // namespace drllm::train
