//===- tokenizer_decode.cpp - decoder steps: token strings -> text --------===//

#include "tokenizer_decode.h"

#include "tokenizer_unicode.h"

namespace mk::runtime::detail {
namespace {

const char kReplacementChar[] = "\xEF\xBF\xBD"; // U+FFFD

int hexDigit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// The characters of `text`; an invalid byte counts as one character of its own.
template <typename F> void forEachChar(std::string_view text, F &&f) {
  for (size_t pos = 0; pos < text.size();) {
    char32_t cp = 0xFFFFFFFF;
    size_t len = decodeUtf8(text, pos, cp);
    if (len == 0)
      len = 1;
    f(text.substr(pos, len), cp);
    pos += len;
  }
}

/// tokenizers' Strip on one token. Where its two cuts would cross it panics;
/// here nothing is left.
std::string stripToken(const DecoderStep &step, std::string_view token) {
  std::vector<std::pair<size_t, char32_t>> chars; // (byte offset, code point)
  forEachChar(token, [&](std::string_view ch, char32_t cp) {
    chars.emplace_back(size_t(ch.data() - token.data()), cp);
  });
  size_t startCut = 0;
  while (startCut < step.start && startCut < chars.size() &&
         chars[startCut].second == step.stripChar)
    ++startCut;
  size_t stopCut = chars.size();
  while (chars.size() - stopCut < step.stop && stopCut > 0 &&
         chars[stopCut - 1].second == step.stripChar)
    --stopCut;
  if (stopCut <= startCut)
    return {};
  size_t begin = chars[startCut].first;
  size_t end = stopCut == chars.size() ? token.size() : chars[stopCut].first;
  return std::string(token.substr(begin, end - begin));
}

std::string replaceAll(std::string_view token, std::string_view pattern,
                       std::string_view content) {
  std::string out;
  size_t previous = 0;
  for (size_t at = token.find(pattern); at != std::string_view::npos;
       at = token.find(pattern, at + pattern.size())) {
    out += token.substr(previous, at - previous);
    out += content;
    previous = at + pattern.size();
  }
  out += token.substr(previous);
  return out;
}

} // namespace

int byteFallbackValue(std::string_view token) {
  if (token.size() != 6 || token.substr(0, 3) != "<0x" || token[5] != '>')
    return -1;
  // tokenizers parses the two characters with u8::from_str_radix(_, 16), which
  // also takes a '+' sign before a single digit.
  int hi = hexDigit(token[3]), lo = hexDigit(token[4]);
  if (token[3] == '+' && lo >= 0)
    return lo;
  return hi >= 0 && lo >= 0 ? hi * 16 + lo : -1;
}

DecodeState::DecodeState(const Decoder &decoder, bool streaming)
    : decoder_(&decoder), streaming_(streaming), tokenState_(decoder.tokenSteps.size()),
      textState_(decoder.textSteps.size()) {}

void DecodeState::push(std::string_view token, bool added, std::string &out) {
  if (!decoder_->byteLevel) {
    feed(0, std::string(token), out);
    return;
  }
  if (added) {
    out += token;
    return;
  }
  // tokenizers' ByteLevel decoder: every character back to its byte, or, if one
  // is outside the byte-level alphabet, the token's own UTF-8 unchanged.
  size_t mark = out.size();
  char32_t cp;
  for (size_t pos = 0; pos < token.size();) {
    size_t len = decodeUtf8(token, pos, cp);
    int byte = len ? charToByte(cp) : -1;
    if (byte < 0) {
      out.resize(mark);
      out += token;
      return;
    }
    out += char(byte);
    pos += len;
  }
}

void DecodeState::feed(size_t step, std::string token, std::string &out) {
  const std::vector<DecoderStep> &steps = decoder_->tokenSteps;
  if (step == steps.size()) {
    feedText(0, token, out);
    return;
  }
  const DecoderStep &s = steps[step];
  StepState &state = tokenState_[step];
  switch (s.kind) {
  case DecoderStep::Kind::Replace:
    feed(step + 1, replaceAll(token, s.pattern, s.text), out);
    return;
  case DecoderStep::Kind::Strip:
    feed(step + 1, stripToken(s, token), out);
    return;
  case DecoderStep::Kind::Metaspace:
    feed(step + 1, replaceAll(token, s.text, s.dropFirst && state.tokens == 0 ? "" : " "),
         out);
    ++state.tokens;
    return;
  case DecoderStep::Kind::ByteFallback:
    feedByteFallback(step, std::move(token), out);
    return;
  }
}

void DecodeState::feedByteFallback(size_t step, std::string token, std::string &out) {
  StepState &state = tokenState_[step];
  int byte = byteFallbackValue(token);
  if (byte < 0) {
    endRun(step, out);
    feed(step + 1, std::move(token), out);
    return;
  }
  state.bytes += char(byte);
  ++state.runLength;
  // Streaming, with only Fuse (or nothing) after this step, token boundaries no
  // longer matter: each character goes on once its bytes are complete.
  if (!streaming_ || step + 1 != decoder_->tokenSteps.size())
    return;
  size_t complete = 0;
  char32_t cp;
  while (size_t len = decodeUtf8(state.bytes, complete, cp))
    complete += len;
  std::string_view rest = std::string_view(state.bytes).substr(complete);
  if (rest.empty() || isUtf8Prefix(rest)) {
    if (complete > 0)
      feed(step + 1, state.bytes.substr(0, complete), out);
    state.bytes.erase(0, complete);
  } else {
    std::string replaced;
    for (size_t i = 0; i < state.bytes.size(); ++i)
      replaced += kReplacementChar;
    state.bytes.clear();
    feed(step + 1, std::move(replaced), out);
  }
}

void DecodeState::endRun(size_t step, std::string &out) {
  StepState &state = tokenState_[step];
  if (state.runLength == 0)
    return;
  std::string bytes = std::move(state.bytes);
  // tokenizers keeps a run that is valid UTF-8 as one token and gives one U+FFFD
  // token per byte token otherwise. Streamed, `bytes` is only the unsent tail.
  size_t replaced = streaming_ && step + 1 == decoder_->tokenSteps.size()
                        ? bytes.size()
                        : state.runLength;
  size_t valid = 0;
  char32_t cp;
  while (size_t len = decodeUtf8(bytes, valid, cp))
    valid += len;
  state.bytes.clear();
  state.runLength = 0;
  if (valid == bytes.size()) {
    if (!bytes.empty())
      feed(step + 1, std::move(bytes), out);
    return;
  }
  for (size_t i = 0; i < replaced; ++i)
    feed(step + 1, kReplacementChar, out);
}

void DecodeState::feedText(size_t step, std::string_view text, std::string &out) {
  const std::vector<DecoderStep> &steps = decoder_->textSteps;
  if (step == steps.size()) {
    out += text;
    return;
  }
  const DecoderStep &s = steps[step];
  StepState &state = textState_[step];
  std::string passed;
  forEachChar(text, [&](std::string_view ch, char32_t cp) {
    bool isStripChar = cp == s.stripChar;
    if (state.stripping) {
      if (isStripChar && state.leading < s.start) {
        ++state.leading;
        return;
      }
      state.stripping = false;
    }
    if (!isStripChar) {
      passed += state.trailing;
      state.trailing.clear();
      passed += ch;
    } else if (s.stop > 0) {
      // Only the end of the text says whether the last `stop` copies go.
      state.trailing += ch;
      if (state.trailing.size() > s.stop * ch.size()) {
        passed += ch;
        state.trailing.erase(0, ch.size());
      }
    } else {
      passed += ch;
    }
  });
  if (!passed.empty())
    feedText(step + 1, passed, out);
}

void DecodeState::finish(std::string &out) {
  for (size_t step = 0; step < tokenState_.size(); ++step)
    if (decoder_->tokenSteps[step].kind == DecoderStep::Kind::ByteFallback)
      endRun(step, out);
  // Held trailing copies end the text: they are stripped.
  for (StepState &state : textState_)
    state.trailing.clear();
}

size_t DecodeState::heldBytes() const {
  size_t n = 0;
  for (const StepState &s : tokenState_)
    n += s.bytes.size();
  for (const StepState &s : textState_)
    n += s.trailing.size();
  return n;
}

} // namespace mk::runtime::detail
