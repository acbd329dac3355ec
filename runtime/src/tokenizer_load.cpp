//===- tokenizer_load.cpp - tokenizer.json -> TokenizerData ---------------===//
//
// Reads the sections in this order; the first problem is reported:
//   model (type, vocab, merges, options) -> added_tokens -> normalizer ->
//   pre_tokenizer -> post_processor -> decoder.
// The normalizer, pre_tokenizer and decoder are read in
// tokenizer_load_pipeline.cpp.
//===----------------------------------------------------------------------===//

#include "tokenizer_load.h"

#include "mk/isa/message_text.h"
#include "mk/runtime/json_text.h"

#include "tokenizer_unicode.h"

#include <algorithm>

namespace mk::runtime::detail {

std::string jsonKindOf(const Json &v) {
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

Status TokenizerLoader::readBool(const Json &object, const char *key,
                                 const std::string &path, bool &out) const {
  const Json *v = member(object, key);
  if (!v)
    return Status::ok(); // keep the default
  if (!v->is_boolean())
    return expected(path + "." + key, "a boolean", *v);
  out = v->get<bool>();
  return Status::ok();
}

Status TokenizerLoader::readId(const Json &value, const std::string &path,
                               int32_t &out) const {
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

Status TokenizerLoader::readType(const Json &object, const std::string &path,
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

Status TokenizerLoader::readString(const Json &object, const char *key,
                                   const std::string &path, std::string &out) const {
  const Json *v = member(object, key);
  if (!v || !v->is_string())
    return expected(path + "." + key, "a string", v ? *v : Json());
  out = v->get<std::string>();
  return Status::ok();
}

Status TokenizerLoader::readChar(const Json &object, const char *key,
                                 const std::string &path, std::string &utf8,
                                 char32_t &cp) const {
  if (Status s = readString(object, key, path, utf8); !s)
    return s;
  if (utf8.empty() || decodeUtf8(utf8, 0, cp) != utf8.size())
    return fail(path + "." + key, quote(utf8) + " is not one character");
  return Status::ok();
}

Status TokenizerLoader::readPattern(const Json &object, const std::string &path,
                                    std::string &text, bool &literal) const {
  const Json *pattern = member(object, "pattern");
  if (!pattern || !pattern->is_object() || pattern->size() != 1 ||
      !pattern->begin().value().is_string())
    return expected(path + ".pattern", "{\"Regex\": \"...\"} or {\"String\": \"...\"}",
                    pattern ? *pattern : Json());
  const std::string &kind = pattern->begin().key();
  if (kind != "Regex" && kind != "String")
    return fail(path + ".pattern",
                "pattern kind " + quote(kind) + " is not Regex or String");
  text = pattern->begin().value().get<std::string>();
  literal = kind == "String";
  return Status::ok();
}

Status TokenizerLoader::load(std::string_view text) {
  Json root;
  if (std::optional<JsonTextError> e = parseJsonText(text, root))
    return Status::error(source_ + ": invalid JSON: " + e->message);
  if (!root.is_object())
    return Status::error(source_ + ": expected a JSON object at the top, got " +
                         jsonKindOf(root));

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
  if (Status s = buildAddedTokenMatchers(); !s)
    return s;
  if (const Json *pre = member(root, "pre_tokenizer"))
    if (Status s = loadPreTokenizer(*pre, "pre_tokenizer"); !s)
      return s;
  if (const Json *p = member(root, "post_processor"))
    if (Status s = loadPostProcessor(*p, "post_processor"); !s)
      return s;
  if (Status s = loadDecoder(member(root, "decoder")); !s)
    return s;

  out_.vocabSize = out_.model.idLimit();
  for (const AddedToken &t : out_.added)
    out_.vocabSize = std::max(out_.vocabSize, t.id + 1);
  return Status::ok();
}

Status TokenizerLoader::loadModel(const Json &model) {
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

Status
TokenizerLoader::loadMerges(const Json &merges,
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

Status TokenizerLoader::loadAddedTokens(const Json *tokens) {
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

Status TokenizerLoader::buildAddedTokenMatchers() {
  // Added tokens are found before the normalizer runs (normalized=false) or after
  // it, matched against their own normalized content (normalized=true). The
  // matchers point into out_.added: each gets all of it, with the contents of the
  // other kind blanked (an empty pattern never matches).
  std::vector<std::string> raw, normalized;
  for (size_t i = 0; i < out_.added.size(); ++i) {
    const AddedToken &t = out_.added[i];
    raw.push_back(t.normalized ? std::string() : t.content);
    normalized.emplace_back();
    if (t.normalized)
      if (Status s = out_.normalizer.run(t.content, normalized.back()); !s)
        return fail("added_tokens[" + std::to_string(i) + "]",
                    "normalizing " + quote(t.content) + ": " + s.message());
  }
  out_.rawMatcher.build(out_.added, std::move(raw));
  out_.normalizedMatcher.build(out_.added, std::move(normalized));
  return Status::ok();
}

Status TokenizerLoader::loadPostProcessor(const Json &processor,
                                          const std::string &path) {
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

Status parseTokenizerJson(std::string_view text, const std::string &source,
                          TokenizerData &out) {
  out.source = source;
  return TokenizerLoader(source, out).load(text);
}

} // namespace mk::runtime::detail
