//===- json_fields.cpp - Typed, error-reporting access to JSON objects ----===//

#include "json_fields.h"

#include "mk/runtime/json_text.h"

#include <cmath>
#include <cstdio>

namespace mk::models::detail {

mk::Status parseJsonText(std::string_view text, const std::string &source, Json &out) {
  if (std::optional<runtime::JsonTextError> e = runtime::parseJsonText(text, out))
    return mk::Status::error(source + ": invalid JSON: " + e->message);
  return mk::Status::ok();
}

namespace {

constexpr size_t kMaxDescribedLength = 48;

/// Json::dump recurses once per nesting level, so a hostile file's 100000-deep
/// array would overflow the stack; show at most two levels and a few dozen
/// characters instead.
void appendBrief(const Json &value, int depth, std::string &out) {
  auto scalar = [](const Json &v) {
    return v.dump(-1, ' ', /*ensure_ascii=*/true, Json::error_handler_t::replace);
  };
  if (!value.is_structured()) {
    out += scalar(value);
    return;
  }
  bool array = value.is_array();
  out += array ? '[' : '{';
  if (depth >= 2 && !value.empty())
    out += "...";
  else
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (out.size() > kMaxDescribedLength) {
        out += "...";
        break;
      }
      if (it != value.begin())
        out += ',';
      if (!array)
        out += scalar(Json(it.key())) + ':';
      appendBrief(it.value(), depth + 1, out);
    }
  out += array ? ']' : '}';
}

} // namespace

std::string describeJson(const Json &value) {
  std::string text;
  appendBrief(value, 0, text);
  if (text.size() > kMaxDescribedLength)
    text = text.substr(0, kMaxDescribedLength) + "...";
  switch (value.type()) {
  case Json::value_t::null:
    return "null";
  case Json::value_t::boolean:
    return "boolean " + text;
  case Json::value_t::string:
    return "string " + text;
  case Json::value_t::number_float:
    return "number " + text;
  case Json::value_t::number_integer:
  case Json::value_t::number_unsigned:
    return text;
  case Json::value_t::array:
    return "array " + text;
  case Json::value_t::object:
    return "object " + text;
  default:
    return "a value of unexpected type";
  }
}

std::string formatNumber(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", value);
  return buf;
}

mk::Status integerValue(const Json &value, const std::string &name, uint64_t min,
                        uint64_t max, uint64_t &out) {
  const char *kind = min > 0 ? "a positive integer" : "a non-negative integer";
  auto wrongValue = [&] {
    return mk::Status::error(name + " must be " + kind + ", got " + describeJson(value));
  };
  // Floats are refused even when integral: HF writes counts as integers.
  if (!value.is_number_integer())
    return wrongValue();
  uint64_t v = 0;
  if (value.is_number_unsigned()) {
    v = value.get<uint64_t>();
  } else {
    int64_t i = value.get<int64_t>();
    if (i < 0)
      return wrongValue();
    v = static_cast<uint64_t>(i);
  }
  if (v < min)
    return wrongValue();
  if (v > max)
    return mk::Status::error(name + " " + std::to_string(v) +
                             " is out of range (at most " + std::to_string(max) + ")");
  out = v;
  return mk::Status::ok();
}

const Json *FieldReader::get(std::string_view key) const {
  auto it = object_.find(std::string(key));
  if (it == object_.end() || it->is_null())
    return nullptr;
  return &*it;
}

bool FieldReader::hasKey(std::string_view key) const {
  return object_.contains(std::string(key));
}

std::string FieldReader::name(std::string_view key) const {
  return "'" + prefix_ + std::string(key) + "'";
}

mk::Status FieldReader::error(const std::string &message) const {
  return mk::Status::error(source_ + ": " + message);
}

mk::Status FieldReader::requireString(std::string_view key, std::string &out) const {
  if (!get(key))
    return error(hasKey(key) ? name(key) + " must be a string, got null"
                             : "missing key " + name(key));
  return optionalString(key, out);
}

mk::Status FieldReader::optionalString(std::string_view key, std::string &out) const {
  const Json *v = get(key);
  if (!v)
    return mk::Status::ok();
  if (!v->is_string())
    return error(name(key) + " must be a string, got " + describeJson(*v));
  out = v->get<std::string>();
  return mk::Status::ok();
}

mk::Status FieldReader::countAt(std::string_view key, const Json &value, uint64_t min,
                                uint32_t max, uint32_t &out) const {
  uint64_t v = 0;
  if (mk::Status s = integerValue(value, name(key), min, max, v); !s)
    return error(s.message());
  out = static_cast<uint32_t>(v);
  return mk::Status::ok();
}

mk::Status FieldReader::requireCount(std::string_view key, uint32_t max,
                                     uint32_t &out) const {
  const Json *v = get(key);
  if (!v)
    return error(hasKey(key) ? name(key) + " must be a positive integer, got null"
                             : "missing key " + name(key));
  return countAt(key, *v, 1, max, out);
}

mk::Status FieldReader::optionalCount(std::string_view key, uint32_t max,
                                      uint32_t &out) const {
  const Json *v = get(key);
  return v ? countAt(key, *v, 1, max, out) : mk::Status::ok();
}

mk::Status FieldReader::optionalIndex(std::string_view key, uint32_t max,
                                      uint32_t &out) const {
  const Json *v = get(key);
  return v ? countAt(key, *v, 0, max, out) : mk::Status::ok();
}

mk::Status FieldReader::numberAt(std::string_view key, const Json &value,
                                 double &out) const {
  if (!value.is_number())
    return error(name(key) + " must be a number, got " + describeJson(value));
  double v = value.get<double>();
  if (!std::isfinite(v)) // "1e999" parses to infinity
    return error(name(key) + " must be a finite number, got one out of range");
  out = v;
  return mk::Status::ok();
}

mk::Status FieldReader::requireNumber(std::string_view key, double &out) const {
  const Json *v = get(key);
  if (!v)
    return error(hasKey(key) ? name(key) + " must be a number, got null"
                             : "missing key " + name(key));
  return numberAt(key, *v, out);
}

mk::Status FieldReader::optionalNumber(std::string_view key, double &out) const {
  const Json *v = get(key);
  return v ? numberAt(key, *v, out) : mk::Status::ok();
}

mk::Status FieldReader::optionalBool(std::string_view key, bool &out) const {
  const Json *v = get(key);
  if (!v)
    return mk::Status::ok();
  if (!v->is_boolean())
    return error(name(key) + " must be true or false, got " + describeJson(*v));
  out = v->get<bool>();
  return mk::Status::ok();
}

} // namespace mk::models::detail
