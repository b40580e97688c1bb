// One pass of an evaluation over a data set, across the job's ranks: rank r scores examples r, r + n, ...; rank 0
// gathers the records (in example order) and the counts, and sums them up. Unrouted and routed passes alike.
#pragma once

#include <vector>

#include "data/tasks/dataset.h"
#include "dist/runtime.h"
#include "eval/evaluator.h"
#include "eval/report.h"

namespace drllm::eval {

// `label` prefixes the progress lines ("", "unrouted ", "routed   "). The result is filled on rank 0 only.
EvalPass run_eval_pass(Evaluator& evaluator, const std::vector<tasks::Example>& examples,
                       const dist::Runtime& runtime, bool routed, const std::string& label);

}  // namespace drllm::eval
