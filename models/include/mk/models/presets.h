//===- presets.h - Bundled config.json files, found by name ---------------===//
//
// A preset is a directory PRESETS/<name>/ holding a Hugging Face config.json
// (models/presets/ in the source tree, share/mk/presets/ when installed). Real
// models are reproduced as published (models/presets/README.md says how); tiny-*
// ones are small random-weight test models of each family.
//===----------------------------------------------------------------------===//
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mk::models {

/// Directories searched for presets, in order: $MK_PRESETS_DIR (if set), the
/// source tree's models/presets (compiled in), <dir of this executable>/../share/
/// mk/presets. Only directories that exist are returned.
std::vector<std::string> presetSearchPath();

/// The directory of preset `name` (holding config.json) from the first search
/// directory that has it, or nullopt. Names are single path components: no '/',
/// no leading '.'.
std::optional<std::string> findPresetDir(std::string_view name);

/// Every preset name on the search path, sorted, without duplicates.
std::vector<std::string> listPresets();

} // namespace mk::models
