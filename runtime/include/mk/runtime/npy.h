//===- npy.h - NumPy .npy output for tensor dumps -------------------------===//
//
// Format 1.0: "\x93NUMPY" 1 0, u16 little-endian header length, then the header
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and a final '\n' so the data starts at a multiple of 64 bytes,
// then the elements in C order. Read back with numpy.load(path).
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/status.h"

#include <cstddef>
#include <string>
#include <vector>

namespace mk::runtime {

/// Writes `data` (product(shape) floats, C order; shape {} is a scalar) as a float32
/// .npy file, atomically: to a temporary, then renamed over `path`. Fails, writing
/// nothing, when the element count does not match the shape.
Status writeNpyF32(const std::string &path, const std::vector<float> &data,
                   std::vector<size_t> shape);

/// The complete .npy header (magic through the '\n') for a float32 array of `shape`.
std::string npyHeaderF32(const std::vector<size_t> &shape);

} // namespace mk::runtime
