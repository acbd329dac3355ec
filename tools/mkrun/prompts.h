//===- prompts.h - mkrun's prompts: text, a prompts file or token ids ------===//
#pragma once

#include "mk/isa/status.h"
#include "mk/runtime/tokenizer.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mk::mkrun {

struct RunOptions;

struct Prompts {
  /// The weights directory's tokenizer.json, when it has one.
  std::optional<runtime::Tokenizer> tokenizer;
  std::vector<std::vector<int32_t>> ids; // [prompt][token]
  std::vector<std::string> texts;        // [prompt], as given (text or "1,2,3")
};

/// Loads the tokenizer (if any) and reads the prompts --prompt, --prompt-ids or
/// --prompts-file give; refuses --dump-logits with more than one prompt.
Status readPrompts(const RunOptions &options, Prompts &out);

} // namespace mk::mkrun
