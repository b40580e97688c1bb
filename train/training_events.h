// The training curves as TensorBoard scalars (`tensorboard --logdir RUN`): one event per epoch line of
// metrics.jsonl, rewritten whole (write-then-rename) after each epoch, so that a resumed run's file holds exactly
// the epochs of metrics.jsonl, like the run that was not interrupted.
#pragma once

#include <string>
#include <vector>

namespace drllm::train {

// RUN/tensorboard/events.out.tfevents.drllm-train
std::string training_events_path(const std::string& run_dir);

// `lines`: metrics.jsonl's lines; `wall_times`: when each was computed (seconds since the epoch). Tags: train/loss
// from train_loss, held_out/<key> for every other number (held_out/<key>/<i> for each entry of a list of numbers),
// at the line's step.
void write_training_events(const std::string& run_dir, const std::vector<std::string>& lines,
                           const std::vector<double>& wall_times);

}  // namespace drllm::train
