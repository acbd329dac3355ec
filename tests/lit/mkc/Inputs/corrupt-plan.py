#!/usr/bin/env python3
"""Writes a damaged copy of a plan file, for the tests of mkc inspect / verify.

  corrupt-plan.py IN OUT flip-middle        XOR the middle byte with 0xff
  corrupt-plan.py IN OUT set-u32 OFF VALUE  overwrite the little-endian u32 at OFF
  corrupt-plan.py IN OUT set-byte OFF VALUE overwrite one byte, then fix the checksum

The header layout (megakernel/isa/plan_file.cpp): magic [0, 8), format version at 8,
ISA version at 12, target at 16, tensor parallel at 20, payload bytes at 24, FNV-1a 64
of the payload at 32; the payload starts at 40.
"""
import struct
import sys

HEADER = 40


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def main():
    src, dst, mode, *args = sys.argv[1:]
    data = bytearray(open(src, "rb").read())
    if mode == "flip-middle":
        data[len(data) // 2] ^= 0xFF
    elif mode == "set-u32":
        off, value = int(args[0], 0), int(args[1], 0)
        data[off:off + 4] = struct.pack("<I", value)
    elif mode == "set-byte":
        off, value = int(args[0], 0), int(args[1], 0)
        data[off] = value
        data[32:40] = struct.pack("<Q", fnv1a64(data[HEADER:]))
    else:
        sys.exit(f"corrupt-plan.py: unknown mode {mode!r}")
    open(dst, "wb").write(data)


if __name__ == "__main__":
    main()
