//===- tokenizer_load_pipeline.cpp - normalizer, pre_tokenizer, decoder ---===//
//
// The text-processing sections of tokenizer.json. What is supported:
//   normalizer     NFC, Prepend, Replace (String or Regex), Sequence
//   pre_tokenizer  ByteLevel, Split, Digits, Metaspace, Sequence
//   decoder        ByteLevel alone, or Replace (String), ByteFallback, Strip and
//                  Metaspace, then at most Fuse followed by Strip (see
//                  tokenizer_decode.h); null only with a ByteLevel pre_tokenizer
// Anything else is refused, naming the section and its JSON path.
//===----------------------------------------------------------------------===//

#include "tokenizer_load.h"

#include "mk/isa/message_text.h"

#include "tokenizer_unicode.h"

#include <algorithm>
#include <iterator>

namespace mk::runtime::detail {

Status TokenizerLoader::readPrependScheme(const Json &object, const std::string &path,
                                          PrependScheme &out) const {
  // Files from before prepend_scheme say add_prefix_space. tokenizers refuses
  // add_prefix_space false without prepend_scheme "never"; here it means "never".
  bool addPrefixSpace = true;
  if (Status s = readBool(object, "add_prefix_space", path, addPrefixSpace); !s)
    return s;
  const Json *scheme = member(object, "prepend_scheme");
  if (!scheme) {
    out = addPrefixSpace ? PrependScheme::Always : PrependScheme::Never;
    return Status::ok();
  }
  if (!scheme->is_string())
    return expected(path + ".prepend_scheme", "a string", *scheme);
  const std::string &name = scheme->get_ref<const std::string &>();
  if (name == "always")
    out = PrependScheme::Always;
  else if (name == "first")
    out = PrependScheme::First;
  else if (name == "never")
    out = PrependScheme::Never;
  else
    return fail(path + ".prepend_scheme",
                quote(name) + " is not one of always, first, never");
  if (!addPrefixSpace && out != PrependScheme::Never)
    return fail(path, "add_prefix_space false contradicts prepend_scheme " + quote(name));
  return Status::ok();
}

Status TokenizerLoader::loadNormalizer(const Json &normalizer, const std::string &path) {
  std::string type;
  if (Status s = readType(normalizer, path, type); !s)
    return s;
  NormalizerStep step;
  if (type == "NFC") {
    step.kind = NormalizerStep::Kind::Nfc;
  } else if (type == "Prepend") {
    step.kind = NormalizerStep::Kind::Prepend;
    if (Status s = readString(normalizer, "prepend", path, step.text); !s)
      return s;
  } else if (type == "Replace") {
    step.kind = NormalizerStep::Kind::Replace;
    std::string pattern, error;
    bool literal = false;
    if (Status s = readPattern(normalizer, path, pattern, literal); !s)
      return s;
    if (Status s = readString(normalizer, "content", path, step.text); !s)
      return s;
    if (!Regex::compile(pattern, literal, step.pattern, error))
      return fail(path + ".pattern",
                  "PCRE2 cannot compile " + quote(pattern) + ": " + error);
  } else if (type == "Sequence") {
    const Json *list = member(normalizer, "normalizers");
    if (!list || !list->is_array())
      return expected(path + ".normalizers", "an array", list ? *list : Json());
    for (size_t i = 0; i < list->size(); ++i)
      if (Status s = loadNormalizer((*list)[i],
                                    path + ".normalizers[" + std::to_string(i) + "]");
          !s)
        return s;
    return Status::ok();
  } else {
    return fail(path, "normalizer " + quote(type) +
                          " is not supported (mk supports NFC, Prepend, Replace and "
                          "Sequence)");
  }
  out_.normalizer.steps.push_back(std::move(step));
  return Status::ok();
}

Status TokenizerLoader::loadPreTokenizer(const Json &step, const std::string &path) {
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
    std::string text;
    bool literal = false;
    if (Status s = readPattern(step, path, text, literal); !s)
      return s;
    if (!Regex::compile(text, literal, out.regex, regexError))
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
  } else if (type == "Metaspace") {
    out.kind = PreTokenizerStep::Kind::Metaspace;
    char32_t cp;
    if (Status s = readChar(step, "replacement", path, out.replacement, cp); !s)
      return s;
    if (Status s = readPrependScheme(step, path, out.prependScheme); !s)
      return s;
    if (Status s = readBool(step, "split", path, out.split); !s)
      return s;
  } else {
    return fail(path, "pre_tokenizer " + quote(type) +
                          " is not supported (mk supports ByteLevel, Split, Digits, "
                          "Metaspace and Sequence)");
  }
  out_.preTokenizer.steps.push_back(std::move(out));
  return Status::ok();
}

Status TokenizerLoader::loadDecoder(const Json *decoder) {
  Decoder &d = out_.decoder;
  if (!decoder) {
    if (!out_.preTokenizer.hasByteLevel())
      return fail("decoder", "missing; a tokenizer without a ByteLevel pre_tokenizer "
                             "needs one (tokenizers would join the tokens with spaces)");
    d.byteLevel = true;
    return Status::ok();
  }
  std::string type;
  if (Status s = readType(*decoder, "decoder", type); !s)
    return s;
  if (type == "ByteLevel") {
    d.byteLevel = true;
    return Status::ok();
  }
  d.byteLevel = false;
  bool fused = false;
  return loadDecoderStep(*decoder, "decoder", false, fused);
}

Status TokenizerLoader::loadDecoderStep(const Json &step, const std::string &path,
                                        bool afterFuse, bool &fused) {
  std::string type;
  if (Status s = readType(step, path, type); !s)
    return s;
  Decoder &d = out_.decoder;
  if (type == "Sequence") {
    const Json *list = member(step, "decoders");
    if (!list || !list->is_array())
      return expected(path + ".decoders", "an array", list ? *list : Json());
    // A Sequence of just ByteLevel is ByteLevel.
    if (list->size() == 1 && path == "decoder" && (*list)[0].is_object()) {
      const Json *only = member((*list)[0], "type");
      if (only && only->is_string() &&
          only->get_ref<const std::string &>() == "ByteLevel") {
        d.byteLevel = true;
        return Status::ok();
      }
    }
    for (size_t i = 0; i < list->size(); ++i)
      if (Status s = loadDecoderStep(
              (*list)[i], path + ".decoders[" + std::to_string(i) + "]", fused, fused);
          !s)
        return s;
    return Status::ok();
  }
  if (type == "Fuse") {
    fused = true; // a second Fuse changes nothing
    return Status::ok();
  }
  DecoderStep out;
  if (type == "Replace") {
    out.kind = DecoderStep::Kind::Replace;
    bool literal = false;
    if (Status s = readPattern(step, path, out.pattern, literal); !s)
      return s;
    if (!literal)
      return fail(path + ".pattern", "a Regex pattern is not supported in a decoder's "
                                     "Replace (mk supports String patterns)");
    if (out.pattern.empty())
      return fail(path + ".pattern", "an empty String is not supported");
    if (Status s = readString(step, "content", path, out.text); !s)
      return s;
  } else if (type == "ByteFallback") {
    out.kind = DecoderStep::Kind::ByteFallback;
  } else if (type == "Strip") {
    out.kind = DecoderStep::Kind::Strip;
    std::string content;
    if (Status s = readChar(step, "content", path, content, out.stripChar); !s)
      return s;
    for (auto [key, field] :
         {std::pair{"start", &out.start}, std::pair{"stop", &out.stop}}) {
      const Json *v = member(step, key);
      if (!v || !v->is_number_unsigned())
        return expected(path + "." + key, "a count (an integer >= 0)", v ? *v : Json());
      *field = v->get<size_t>();
    }
  } else if (type == "Metaspace") {
    out.kind = DecoderStep::Kind::Metaspace;
    char32_t cp;
    if (Status s = readChar(step, "replacement", path, out.text, cp); !s)
      return s;
    PrependScheme scheme;
    if (Status s = readPrependScheme(step, path, scheme); !s)
      return s;
    out.dropFirst = scheme != PrependScheme::Never;
    bool split = true; // only the pre_tokenizer splits
    if (Status s = readBool(step, "split", path, split); !s)
      return s;
  } else if (type == "ByteLevel") {
    return fail(path, "decoder 'ByteLevel' is supported only on its own, not in a "
                      "Sequence with other decoders");
  } else {
    return fail(path, "decoder " + quote(type) +
                          " is not supported (mk supports ByteLevel, Replace, "
                          "ByteFallback, Fuse, Strip, Metaspace and Sequence)");
  }
  if (afterFuse && out.kind != DecoderStep::Kind::Strip)
    return fail(path, "decoder " + quote(type) +
                          " after Fuse is not supported (mk applies only Strip to "
                          "the fused text)");
  (afterFuse ? d.textSteps : d.tokenSteps).push_back(std::move(out));
  return Status::ok();
}

} // namespace mk::runtime::detail
