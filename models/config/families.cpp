//===- families.cpp - Tensor names from the family table's paths ----------===//

#include "mk/models/families.h"

namespace mk::models {

namespace {
void substitute(std::string &name, std::string_view placeholder, uint32_t value) {
  if (size_t at = name.find(placeholder); at != std::string::npos)
    name.replace(at, placeholder.size(), std::to_string(value));
}
} // namespace

std::string tensorName(std::string_view path, uint32_t layer, std::string_view suffix) {
  std::string name(path);
  substitute(name, "{layer}", layer);
  name += suffix;
  return name;
}

std::string tensorName(std::string_view path, uint32_t layer, uint32_t expert,
                       std::string_view suffix) {
  std::string name(path);
  substitute(name, "{layer}", layer);
  substitute(name, "{expert}", expert);
  name += suffix;
  return name;
}

} // namespace mk::models
