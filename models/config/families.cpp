//===- families.cpp - Tensor names from the family table's paths ----------===//

#include "mk/models/families.h"

namespace mk::models {

std::string tensorName(std::string_view path, uint32_t layer, std::string_view suffix) {
  constexpr std::string_view kLayer = "{layer}";
  std::string name(path);
  if (size_t at = name.find(kLayer); at != std::string::npos)
    name.replace(at, kLayer.size(), std::to_string(layer));
  name += suffix;
  return name;
}

} // namespace mk::models
