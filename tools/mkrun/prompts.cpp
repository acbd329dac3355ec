//===- prompts.cpp - mkrun's prompts ---------------------------------------===//
#include "prompts.h"

#include "options.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace mk::mkrun {
namespace {

bool parseIds(const std::string &text, std::vector<int32_t> &ids, std::string &error) {
  ids.clear();
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string item =
        text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    char *end = nullptr;
    errno = 0;
    long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || errno || v < INT32_MIN || v > INT32_MAX) {
      error = "--prompt-ids: '" + item + "' is not a token id (expected e.g. 1,2,3)";
      return false;
    }
    ids.push_back(int32_t(v));
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
  return true;
}

} // namespace

Status readPrompts(const RunOptions &o, Prompts &out) {
  fs::path tj = fs::path(o.weightsDir) / "tokenizer.json";
  if (fs::exists(tj)) {
    runtime::Tokenizer tok;
    if (Status s = runtime::Tokenizer::load(tj.string(), tok); !s)
      return s;
    out.tokenizer = std::move(tok);
  }
  auto encode = [&](const std::string &text) -> Status {
    if (!out.tokenizer)
      return Status::error(o.weightsDir + ": no tokenizer.json; use --prompt-ids");
    std::vector<int32_t> ids;
    if (Status s = out.tokenizer->encode(text, ids, !o.noBos); !s)
      return s;
    out.ids.push_back(std::move(ids));
    out.texts.push_back(text);
    return Status::ok();
  };
  if (!o.promptIds.empty()) {
    std::vector<int32_t> ids;
    std::string error;
    if (!parseIds(o.promptIds, ids, error))
      return Status::error(error);
    out.ids.push_back(std::move(ids));
    out.texts.push_back(o.promptIds);
  } else if (!o.promptsFile.empty()) {
    std::ifstream in(o.promptsFile);
    if (!in)
      return Status::error(o.promptsFile + ": cannot open");
    std::string line;
    while (std::getline(in, line))
      if (!line.empty())
        if (Status s = encode(line); !s)
          return Status::error(o.promptsFile + ": " + s.message());
    if (out.ids.empty())
      return Status::error(o.promptsFile + ": no prompts (one per line)");
  } else if (!o.promptText.empty()) {
    if (Status s = encode(o.promptText); !s)
      return s;
  } else {
    return Status::error(
        "give a prompt: --prompt TEXT, --prompt-ids 1,2,3 or --prompts-file FILE");
  }
  if (!o.logitsPath.empty() && out.ids.size() != 1)
    return Status::error("--dump-logits needs exactly one prompt");
  return Status::ok();
}

} // namespace mk::mkrun
