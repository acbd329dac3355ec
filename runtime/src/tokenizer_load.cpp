//===- tokenizer_load.cpp - tokenizer.json -> TokenizerData ---------------===//
//
// Reads the sections in this order; the first problem is reported as
// "<file>: <json path>: <what is wrong>":
//   model (type, vocab, merges, options) -> added_tokens -> normalizer ->
//   pre_tokenizer -> post_processor -> decoder.
// Nothing here throws: every JSON value's type is checked before it is read.
//===----------------------------------------------------------------------===//

#include "tokenizer_data.h"

#include "mk/isa/message_text.h"
#include "mk/runtime/json_text.h"

#include "tokenizer_unicode.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace mk::runtime::detail {
namespace {

using Json = nlohmann::json;

std::string kindOf(const Json &v) {
  switch (v.type()) {
  case Json::value_t::null:
    return "null";
  case Json::value_t::boolean:
    return "a boolean";
  case Json::value_t::string:
    return "a string";
  case Json::value_t::array:
    return "an array";
  case Json::value_t::object:
    return "an object";
  case Json::value_t::number_float:
    return "a non-integer number";
  case Json::value_t::number_integer:
  case Json::value_t::number_unsigned:
    return "an integer";
  default:
    return "an unsupported value";
  }
}

class Loader {
public:
  Loader(const std::string &source, TokenizerData &out) : source_(source), out_(out) {}

  Status load(std::string_view text);

private:
  Status fail(const std::string &path, const std::string &what) const {
    return Status::error(source_ + ": " + path + ": " + what);
  }
  Status expected(const std::string &path, const char *what, const Json &got) const {
    return fail(path, std::string("expected ") + what + ", got " + kindOf(got));
  }
  /// Absent and null read alike: as nullptr.
  static const Json *member(const Json &object, const char *key) {
    auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
  }
  Status readBool(const Json &object, const char *key, const std::string &path,
                  bool &out) const;
  Status readId(const Json &value, const std::string &path, int32_t &out) const;
  Status readType(const Json &object, const std::string &path, std::string &type) const;

  Status loadModel(const Json &model);
  Status loadMerges(const Json &merges,
                    std::vector<std::pair<std::string, std::string>> &out) const;
  Status loadAddedTokens(const Json *tokens);
  Status loadNormalizer(const Json &normalizer, const std::string &path);
  Status loadPreTokenizer(const Json &step, const std::string &path);
  Status loadPostProcessor(const Json &processor, const std::string &path);
  Status checkDecoder(const Json &decoder, const std::string &path) const;

  const std::string &source_;
  TokenizerData &out_;
};

Status Loader::readBool(const Json &object, const char *key, const std::string &path,
                        bool &out) const {
  const Json *v = member(object, key);
  if (!v)
    return Status::ok(); // keep the default
  if (!v->is_boolean())
    return expected(path + "." + key, "a boolean", *v);
  out = v->get<bool>();
  return Status::ok();
}

Status Loader::readId(const Json &value, const std::string &path, int32_t &out) const {
  if (!value.is_number_integer())
    return expected(path, "a token id (an integer)", value);
  if (value.is_number_unsigned()
          ? value.get<uint64_t>() > uint64_t(kMaxTokenId)
          : value.get<int64_t>() < 0 || value.get<int64_t>() > kMaxTokenId)
    return fail(path, "token id " + value.dump() + " is outside [0, " +
                          std::to_string(kMaxTokenId) + "]");
  out = int32_t(value.get<int64_t>());
  return Status::ok();
}

Status Loader::readType(const Json &object, const std::string &path,
                        std::string &type) const {
  if (!object.is_object())
    return expected(path, "an object", object);
  const Json *t = member(object, "type");
  if (!t)
    return fail(path, "missing \"type\"");
  if (!t->is_string())
    return expected(path + ".type", "a string", *t);
  type = t->get_ref<const std::string &>();
  return Status::ok();
}

Status Loader::load(std::string_view text) {
  Json root;
  if (std::optional<JsonTextError> e = parseJsonText(text, root))
    return Status::error(source_ + ": invalid JSON: " + e->message);
  if (!root.is_object())
    return Status::error(source_ + ": expected a JSON object at the top, got " +
                         kindOf(root));

  const Json *model = member(root, "model");
  if (!model)
    return fail("model", "missing");
  if (Status s = loadModel(*model); !s)
    return s;
  if (Status s = loadAddedTokens(member(root, "added_tokens")); !s)
    return s;
  if (const Json *n = member(root, "normalizer"))
    if (Status s = loadNormalizer(*n, "normalizer"); !s)
      return s;
  // Added tokens are found before the normalizer runs (normalized=false) or after
  // it, matched against their own normalized content (normalized=true).
  {
    // The matchers point into out_.added: each gets all of it, with the contents
    // of the other kind blanked (an empty pattern never matches).
    std::vector<std::string> raw, normalized;
    for (const AddedToken &t : out_.added) {
      raw.push_back(t.normalized ? std::string() : t.content);
      normalized.push_back(!t.normalized ? std::string()
                           : out_.nfc    ? toNfc(t.content)
                                         : t.content);
    }
    out_.rawMatcher.build(out_.added, std::move(raw));
    out_.normalizedMatcher.build(out_.added, std::move(normalized));
  }

  const Json *pre = member(root, "pre_tokenizer");
  if (!pre)
    return fail("pre_tokenizer", "missing; mk supports byte-level BPE tokenizers, "
                                 "whose pre_tokenizer has a ByteLevel step");
  if (Status s = loadPreTokenizer(*pre, "pre_tokenizer"); !s)
    return s;
  if (!out_.preTokenizer.hasByteLevel())
    return fail("pre_tokenizer", "has no ByteLevel step; mk supports byte-level BPE "
                                 "tokenizers only");
  if (const Json *p = member(root, "post_processor"))
    if (Status s = loadPostProcessor(*p, "post_processor"); !s)
      return s;
  if (const Json *d = member(root, "decoder"))
    if (Status s = checkDecoder(*d, "decoder"); !s)
      return s;

  out_.vocabSize = out_.model.idLimit();
  for (const AddedToken &t : out_.added)
    out_.vocabSize = std::max(out_.vocabSize, t.id + 1);
  return Status::ok();
}

Status Loader::loadModel(const Json &model) {
  if (!model.is_object())
    return expected("model", "an object", model);
  // tokenizers infers BPE for a model without "type" that has merges.
  if (const Json *t = member(model, "type")) {
    if (!t->is_string())
      return expected("model.type", "a string", *t);
    const std::string &type = t->get_ref<const std::string &>();
    if (type != "BPE")
      return fail("model.type", quote(type) + " is not supported; mk reads BPE "
                                              "tokenizers only");
  } else if (!member(model, "merges")) {
    return fail("model", "missing \"type\" (and no \"merges\" to infer BPE from)");
  }

  const Json *vocab = member(model, "vocab");
  if (!vocab)
    return fail("model.vocab", "missing");
  if (!vocab->is_object())
    return expected("model.vocab", "an object of token -> id", *vocab);
  TokenMap map;
  map.reserve(vocab->size());
  for (auto it = vocab->begin(); it != vocab->end(); ++it) {
    const Json &value = it.value();
    int32_t id;
    if (value.is_number_unsigned() && value.get<uint64_t>() <= uint64_t(kMaxTokenId)) {
      id = int32_t(value.get<uint64_t>()); // the common case, without building a path
    } else if (Status s = readId(value, "model.vocab[" + quote(it.key()) + "]", id); !s) {
      return s;
    }
    map.emplace(it.key(), id);
  }

  std::vector<std::pair<std::string, std::string>> merges;
  if (const Json *m = member(model, "merges"))
    if (Status s = loadMerges(*m, merges); !s)
      return s;

  BpeOptions options;
  if (Status s = readBool(model, "ignore_merges", "model", options.ignoreMerges); !s)
    return s;
  if (Status s = readBool(model, "fuse_unk", "model", options.fuseUnk); !s)
    return s;
  if (Status s = readBool(model, "byte_fallback", "model", options.byteFallback); !s)
    return s;
  if (const Json *unk = member(model, "unk_token")) {
    if (!unk->is_string())
      return expected("model.unk_token", "a string or null", *unk);
    options.unkToken = unk->get<std::string>();
  }
  for (const char *key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const Json *v = member(model, key);
    if (!v)
      continue;
    if (!v->is_string())
      return expected(std::string("model.") + key, "a string or null", *v);
    if (!v->get_ref<const std::string &>().empty())
      return fail(std::string("model.") + key,
                  quote(v->get_ref<const std::string &>()) +
                      " is not supported (byte-level BPE uses none)");
  }
  // "dropout" is ignored: encoding stays deterministic.

  if (Status s = BpeModel::build(std::move(map), merges, options, out_.model); !s)
    return fail("model.merges", s.message());
  return Status::ok();
}

Status Loader::loadMerges(const Json &merges,
                          std::vector<std::pair<std::string, std::string>> &out) const {
  if (!merges.is_array())
    return expected("model.merges", "an array", merges);
  out.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const Json &m = merges[i];
    std::string path = "model.merges[" + std::to_string(i) + "]";
    if (m.is_string()) {
      // "a b": exactly one space (tokenizers' convert_merges_to_hashmap).
      const std::string &line = m.get_ref<const std::string &>();
      size_t space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
        return fail(path, quote(line) + " is not two tokens separated by one space");
      out.emplace_back(line.substr(0, space), line.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      out.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      return expected(path, "\"a b\" or [\"a\", \"b\"]", m);
    }
  }
  return Status::ok();
}

Status Loader::loadAddedTokens(const Json *tokens) {
  if (!tokens)
    return Status::ok();
  if (!tokens->is_array())
    return expected("added_tokens", "an array", *tokens);
  for (size_t i = 0; i < tokens->size(); ++i) {
    const Json &t = (*tokens)[i];
    std::string path = "added_tokens[" + std::to_string(i) + "]";
    if (!t.is_object())
      return expected(path, "an object", t);
    AddedToken token;
    const Json *id = member(t, "id");
    if (!id)
      return fail(path + ".id", "missing");
    if (Status s = readId(*id, path + ".id", token.id); !s)
      return s;
    const Json *content = member(t, "content");
    if (!content)
      return fail(path + ".content", "missing");
    if (!content->is_string())
      return expected(path + ".content", "a string", *content);
    token.content = content->get<std::string>();
    if (Status s = readBool(t, "special", path, token.special); !s)
      return s;
    token.normalized = !token.special; // tokenizers' default
    for (auto [key, field] :
         {std::pair{"normalized", &token.normalized},
          std::pair{"single_word", &token.singleWord}, std::pair{"lstrip", &token.lstrip},
          std::pair{"rstrip", &token.rstrip}})
      if (Status s = readBool(t, key, path, *field); !s)
        return s;
    if (token.content.empty())
      continue; // tokenizers ignores these too
    if (out_.addedByContent.count(token.content))
      continue; // the first of two with the same content wins
    out_.addedByContent.emplace(token.content, token.id);
    out_.addedById[token.id] = out_.added.size();
    out_.added.push_back(std::move(token));
  }
  return Status::ok();
}

Status Loader::loadNormalizer(const Json &normalizer, const std::string &path) {
  std::string type;
  if (Status s = readType(normalizer, path, type); !s)
    return s;
  if (type == "NFC") {
    out_.nfc = true;
    return Status::ok();
  }
  if (type == "Sequence") {
    const Json *list = member(normalizer, "normalizers");
    if (!list || !list->is_array())
      return expected(path + ".normalizers", "an array", list ? *list : Json());
    for (size_t i = 0; i < list->size(); ++i)
      if (Status s = loadNormalizer((*list)[i],
                                    path + ".normalizers[" + std::to_string(i) + "]");
          !s)
        return s;
    return Status::ok();
  }
  return fail(path, "normalizer " + quote(type) +
                        " is not supported (mk supports none, or NFC)");
}

Status Loader::loadPreTokenizer(const Json &step, const std::string &path) {
  std::string type;
  if (Status s = readType(step, path, type); !s)
    return s;
  PreTokenizerStep out;
  std::string regexError;
  if (type == "Sequence") {
    const Json *list = member(step, "pretokenizers");
    if (!list || !list->is_array())
      return expected(path + ".pretokenizers", "an array", list ? *list : Json());
    for (size_t i = 0; i < list->size(); ++i)
      if (Status s = loadPreTokenizer((*list)[i],
                                      path + ".pretokenizers[" + std::to_string(i) + "]");
          !s)
        return s;
    return Status::ok();
  }
  if (type == "ByteLevel") {
    out.kind = PreTokenizerStep::Kind::ByteLevel;
    if (Status s = readBool(step, "add_prefix_space", path, out.addPrefixSpace); !s)
      return s;
    if (Status s = readBool(step, "use_regex", path, out.useRegex); !s)
      return s;
    if (out.useRegex && !Regex::compile(kGpt2SplitPattern, false, out.regex, regexError))
      return fail(path, "GPT-2 pattern: " + regexError); // only without Unicode support
  } else if (type == "Split") {
    const Json *pattern = member(step, "pattern");
    if (!pattern || !pattern->is_object() || pattern->size() != 1 ||
        !pattern->begin().value().is_string())
      return expected(path + ".pattern", "{\"Regex\": \"...\"} or {\"String\": \"...\"}",
                      pattern ? *pattern : Json());
    const std::string &kind = pattern->begin().key();
    if (kind != "Regex" && kind != "String")
      return fail(path + ".pattern",
                  "pattern kind " + quote(kind) + " is not Regex or String");
    const std::string &text = pattern->begin().value().get_ref<const std::string &>();
    if (!Regex::compile(text, kind == "String", out.regex, regexError))
      return fail(path + ".pattern",
                  "PCRE2 cannot compile " + quote(text) + ": " + regexError);
    const Json *behavior = member(step, "behavior");
    if (!behavior || !behavior->is_string())
      return expected(path + ".behavior", "a string", behavior ? *behavior : Json());
    static const std::pair<const char *, SplitBehavior> kBehaviors[] = {
        {"Removed", SplitBehavior::Removed},
        {"Isolated", SplitBehavior::Isolated},
        {"MergedWithPrevious", SplitBehavior::MergedWithPrevious},
        {"MergedWithNext", SplitBehavior::MergedWithNext},
        {"Contiguous", SplitBehavior::Contiguous}};
    const std::string &name = behavior->get_ref<const std::string &>();
    auto it = std::find_if(std::begin(kBehaviors), std::end(kBehaviors),
                           [&](const auto &b) { return name == b.first; });
    if (it == std::end(kBehaviors))
      return fail(path + ".behavior", quote(name) + " is not one of Removed, Isolated, "
                                                    "MergedWithPrevious, "
                                                    "MergedWithNext, Contiguous");
    out.behavior = it->second;
    if (Status s = readBool(step, "invert", path, out.invert); !s)
      return s;
  } else if (type == "Digits") {
    // tokenizers splits on char::is_numeric (\p{N}): each digit alone, or runs.
    bool individual = false;
    if (Status s = readBool(step, "individual_digits", path, individual); !s)
      return s;
    if (!Regex::compile(R"(\p{N})", false, out.regex, regexError))
      return fail(path, "\\p{N}: " + regexError);
    out.behavior = individual ? SplitBehavior::Isolated : SplitBehavior::Contiguous;
  } else {
    return fail(path, "pre_tokenizer " + quote(type) +
                          " is not supported (mk supports ByteLevel, Split, Digits "
                          "and Sequence)");
  }
  out_.preTokenizer.steps.push_back(std::move(out));
  return Status::ok();
}

Status Loader::loadPostProcessor(const Json &processor, const std::string &path) {
  std::string type;
  if (Status s = readType(processor, path, type); !s)
    return s;
  std::vector<int32_t> prefix; // what this processor puts before the sequence
  if (type == "ByteLevel") {
    return Status::ok(); // offsets only
  } else if (type == "Sequence") {
    const Json *list = member(processor, "processors");
    if (!list || !list->is_array())
      return expected(path + ".processors", "an array", list ? *list : Json());
    for (size_t i = 0; i < list->size(); ++i)
      if (Status s = loadPostProcessor((*list)[i],
                                       path + ".processors[" + std::to_string(i) + "]");
          !s)
        return s;
    return Status::ok();
  } else if (type == "TemplateProcessing") {
    const Json *single = member(processor, "single");
    if (!single || !single->is_array())
      return expected(path + ".single", "an array", single ? *single : Json());
    const Json *specials = member(processor, "special_tokens");
    if (specials && !specials->is_object())
      return expected(path + ".special_tokens", "an object", *specials);
    for (size_t i = 0; i < single->size(); ++i) {
      const Json &piece = (*single)[i];
      std::string where = path + ".single[" + std::to_string(i) + "]";
      if (!piece.is_object() || piece.size() != 1)
        return expected(where, "{\"SpecialToken\": ...} or {\"Sequence\": ...}", piece);
      if (piece.contains("Sequence"))
        break; // tokens after $A (an EOS) are not added to prompts
      const Json *special = member(piece, "SpecialToken");
      if (!special || !special->is_object())
        return expected(where, "{\"SpecialToken\": ...} or {\"Sequence\": ...}", piece);
      const Json *name = member(*special, "id");
      if (!name || !name->is_string())
        return expected(where + ".SpecialToken.id", "a string", name ? *name : Json());
      const std::string &key = name->get_ref<const std::string &>();
      const Json *entry = nullptr;
      if (specials)
        if (auto it = specials->find(key); it != specials->end() && !it->is_null())
          entry = &*it;
      if (!entry)
        return fail(where, "special token " + quote(key) + " is not in " + path +
                               ".special_tokens");
      const Json *ids = member(*entry, "ids");
      std::string idsPath = path + ".special_tokens[" + quote(key) + "].ids";
      if (!entry->is_object() || !ids || !ids->is_array())
        return expected(idsPath, "an array", ids ? *ids : *entry);
      for (size_t k = 0; k < ids->size(); ++k) {
        int32_t id;
        if (Status s = readId((*ids)[k], idsPath + "[" + std::to_string(k) + "]", id); !s)
          return s;
        prefix.push_back(id);
      }
    }
  } else if (type == "RobertaProcessing" || type == "BertProcessing") {
    const Json *cls = member(processor, "cls");
    if (!cls || !cls->is_array() || cls->size() != 2 || !(*cls)[0].is_string())
      return expected(path + ".cls", "[\"token\", id]", cls ? *cls : Json());
    int32_t id;
    if (Status s = readId((*cls)[1], path + ".cls[1]", id); !s)
      return s;
    prefix.push_back(id);
  } else {
    return fail(path, "post_processor " + quote(type) +
                          " is not supported (mk supports TemplateProcessing, "
                          "ByteLevel, RobertaProcessing, BertProcessing, Sequence)");
  }
  // In a Sequence, a later processor's tokens go in front of an earlier one's.
  out_.bosIds.insert(out_.bosIds.begin(), prefix.begin(), prefix.end());
  return Status::ok();
}

Status Loader::checkDecoder(const Json &decoder, const std::string &path) const {
  std::string type;
  if (Status s = readType(decoder, path, type); !s)
    return s;
  if (type == "ByteLevel")
    return Status::ok();
  if (type == "Sequence") {
    const Json *list = member(decoder, "decoders");
    if (!list || !list->is_array())
      return expected(path + ".decoders", "an array", list ? *list : Json());
    for (size_t i = 0; i < list->size(); ++i)
      if (Status s =
              checkDecoder((*list)[i], path + ".decoders[" + std::to_string(i) + "]");
          !s)
        return s;
    return Status::ok();
  }
  return fail(path, "decoder " + quote(type) +
                        " is not supported (mk decodes "
                        "byte-level BPE: ByteLevel)");
}

} // namespace

Status parseTokenizerJson(std::string_view text, const std::string &source,
                          TokenizerData &out) {
  out.source = source;
  return Loader(source, out).load(text);
}

} // namespace mk::runtime::detail
