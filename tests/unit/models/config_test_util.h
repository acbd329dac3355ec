//===- config_test_util.h - Helpers for the models/config tests -----------===//
#pragma once

#include "mk/isa/plan_file.h"
#include "mk/models/config.h"
#include "mk/models/presets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string>

namespace mk::models::testing {

using Json = nlohmann::ordered_json;

/// The raw bytes of a bundled preset's config.json ("" and a test failure when
/// the preset cannot be found).
inline std::string presetText(const std::string &name) {
  std::optional<std::string> dir = findPresetDir(name);
  EXPECT_TRUE(dir.has_value()) << "preset " << name << " not found";
  if (!dir)
    return {};
  std::ifstream in(*dir + "/config.json", std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline Json presetJson(const std::string &name) { return Json::parse(presetText(name)); }

/// The name the error tests give their configs; messages must start with it.
inline const std::string kSource = "llama-3.1-8b/config.json";

inline mk::Status parseJson(const Json &json, ModelConfig &out) {
  return parseHfConfig(json.dump(2), kSource, out);
}

/// The error message of parsing `json`, or "<ok>".
inline std::string errorOf(const Json &json) {
  ModelConfig cfg;
  mk::Status s = parseJson(json, cfg);
  return s ? std::string("<ok>") : s.message();
}

/// Parses `json` and expects success.
inline ModelConfig parseOk(const Json &json) {
  ModelConfig cfg;
  mk::Status s = parseJson(json, cfg);
  EXPECT_TRUE(s.isOk()) << s.message();
  return cfg;
}

} // namespace mk::models::testing
