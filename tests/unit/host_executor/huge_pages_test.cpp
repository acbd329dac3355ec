// HugePageBuffer: 2 MiB-aligned, zero-filled, writable anonymous memory that asks for
// transparent huge pages exactly when the system offers them, and moves like a
// unique_ptr.
#include "mk/host/huge_pages.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <utility>

using mk::host::HugePageBuffer;

TEST(HugePageBuffer, IsAlignedZeroFilledAndWritable) {
  const uint64_t bytes = 3 * HugePageBuffer::kHugePage + 12345;
  HugePageBuffer b = HugePageBuffer::allocate(bytes);
  ASSERT_TRUE(b) << "errno " << errno;
  EXPECT_EQ(b.size(), bytes);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % HugePageBuffer::kHugePage, 0u);
  uint64_t nonzero = 0;
  for (uint64_t i = 0; i < bytes; i += 4093)
    nonzero += b.data()[i] != 0;
  EXPECT_EQ(nonzero, 0u);
  b.data()[0] = 1;
  b.data()[bytes - 1] = 2; // the last byte is inside the mapping
  EXPECT_EQ(b.data()[bytes - 1], 2);
}

TEST(HugePageBuffer, AsksForHugePagesWhenTheSystemOffersThem) {
  const bool offered = mk::host::transparentHugePages().available;
  EXPECT_EQ(HugePageBuffer::allocate(HugePageBuffer::kHugePage).hugePages(), offered)
      << "setting " << mk::host::transparentHugePages().setting;
  EXPECT_FALSE(HugePageBuffer::allocate(HugePageBuffer::kHugePage, false).hugePages());
}

TEST(HugePageBuffer, EmptyForZeroBytesAndMovesOwnership) {
  errno = 0;
  HugePageBuffer none = HugePageBuffer::allocate(0);
  EXPECT_FALSE(none);
  EXPECT_EQ(errno, EINVAL);
  HugePageBuffer a = HugePageBuffer::allocate(4096);
  uint8_t *p = a.data();
  HugePageBuffer b = std::move(a);
  EXPECT_FALSE(a); // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(b.data(), p);
  b = HugePageBuffer::allocate(8192);
  EXPECT_NE(b.data(), nullptr);
  EXPECT_EQ(b.size(), 8192u);
}

TEST(HugePageBuffer, AvailableMemoryIsReadOnLinux) {
  // /proc/meminfo has MemAvailable since Linux 3.14.
  EXPECT_GT(mk::host::availableMemoryBytes(), 0u);
}
