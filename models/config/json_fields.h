//===- json_fields.h - Typed, error-reporting access to JSON objects ------===//
//
// Private to models/config. Every accessor checks the JSON type and range and
// returns a one-line Status naming the source and the key; none throws. Absent
// keys and keys whose value is null are treated alike by get() and optional*().
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/status.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace mk::models::detail {

using Json = nlohmann::json;

/// Parses `text` without exceptions. On failure the Status says where
/// ("<source>: invalid JSON: parse error at line 3, column 7: ...").
mk::Status parseJsonText(std::string_view text, const std::string &source, Json &out);

/// "string \"32\"", "number 1.5", "-3", "boolean true", "null", "array [1,2]",
/// "object {...}": what a value is, for "expected X, got Y" messages. Long values
/// are shortened.
std::string describeJson(const Json &value);

/// A double as a message shows it ("1e-05", "500000", "0.5").
std::string formatNumber(double value);

/// `value` as a positive (min 1) or non-negative (min 0) integer <= max.
/// `name` is the quoted key used in messages ("'vocab_size'").
mk::Status integerValue(const Json &value, const std::string &name, uint64_t min,
                        uint64_t max, uint64_t &out);

class FieldReader {
public:
  /// `prefix` is prepended to key names in messages ("rope_scaling.").
  FieldReader(const Json &object, const std::string &source, std::string prefix = {})
      : object_(object), source_(source), prefix_(std::move(prefix)) {}

  /// The value of `key`, or nullptr when it is absent or null.
  const Json *get(std::string_view key) const;
  /// True when `key` is in the object, even with a null value.
  bool hasKey(std::string_view key) const;
  /// The key as messages quote it: 'rope_scaling.factor'.
  std::string name(std::string_view key) const;
  /// "<source>: <message>".
  mk::Status error(const std::string &message) const;
  const std::string &source() const { return source_; }
  const std::string &prefix() const { return prefix_; }

  mk::Status requireString(std::string_view key, std::string &out) const;
  mk::Status optionalString(std::string_view key, std::string &out) const;
  /// A positive integer in [1, max].
  mk::Status requireCount(std::string_view key, uint32_t max, uint32_t &out) const;
  mk::Status optionalCount(std::string_view key, uint32_t max, uint32_t &out) const;
  /// A non-negative integer in [0, max].
  mk::Status optionalIndex(std::string_view key, uint32_t max, uint32_t &out) const;
  /// A finite number (integer or float).
  mk::Status requireNumber(std::string_view key, double &out) const;
  mk::Status optionalNumber(std::string_view key, double &out) const;
  mk::Status optionalBool(std::string_view key, bool &out) const;

private:
  mk::Status countAt(std::string_view key, const Json &value, uint64_t min, uint32_t max,
                     uint32_t &out) const;
  mk::Status numberAt(std::string_view key, const Json &value, double &out) const;

  const Json &object_;
  const std::string &source_;
  std::string prefix_;
};

} // namespace mk::models::detail
