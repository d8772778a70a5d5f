#!/usr/bin/env python3
"""Regenerate the interop fixtures in this folder (run from anywhere):
    pip install numpy safetensors && python3 make_fixtures.py
Made with Python 3.11, numpy 2.4, safetensors 0.8, zlib from CPython. Outputs are
deterministic (gzip mtime 0). The Swift tests regenerate the same payloads with the
formulas below (`text_payload`, `lcg_bytes`), so no uncompressed copies are stored.
"""
import gzip
import os
import struct
import zlib

import numpy as np
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo"]


def path(name):
    return os.path.join(HERE, name)


def text_payload(lines):
    """Compressible text; Swift: InflateTests.textPayload."""
    return "".join(f"{i:06d} {WORDS[(i * 7) % len(WORDS)]} {(i * i) % 9973}\n" for i in range(lines)).encode()


def lcg_bytes(n, seed=12345):
    """Incompressible bytes; Swift: InflateTests.lcgBytes."""
    out = bytearray(n)
    x = seed
    for i in range(n):
        x = (x * 1103515245 + 12345) % (1 << 31)
        out[i] = (x >> 16) & 0xFF
    return bytes(out)


def raw_deflate(data, level=9, strategy=zlib.Z_DEFAULT_STRATEGY):
    c = zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy)
    return c.compress(data) + c.flush()


def gzip_all_fields(data, deflated):
    """A gzip member with FEXTRA, FNAME, FCOMMENT and FHCRC set (Python's gzip writes only FNAME)."""
    flags = 0x04 | 0x08 | 0x10 | 0x02
    header = bytes([0x1F, 0x8B, 8, flags]) + struct.pack("<I", 0) + bytes([2, 3])
    extra = b"GB\x04\x00test"
    header += struct.pack("<H", len(extra)) + extra
    header += b"fixed.txt\x00" + b"made by make_fixtures.py\x00"
    header += struct.pack("<H", zlib.crc32(header) & 0xFFFF)
    return header + deflated + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def gz(data, level=9):
    return gzip.compress(data, compresslevel=level, mtime=0)


def make_gzip():
    open(path("text_dynamic.txt.gz"), "wb").write(gz(text_payload(6000)))          # ~150 KB of text
    open(path("stored.bin.gz"), "wb").write(gz(lcg_bytes(70_000), level=0))        # two stored blocks
    fixed = text_payload(200)
    open(path("fixed_allfields.gz"), "wb").write(gzip_all_fields(fixed, raw_deflate(fixed, strategy=zlib.Z_FIXED)))
    runs = b"a" * 1000 + b"ab" * 500 + bytes(range(256)) * 4 + b"z" * 3000
    open(path("runs.bin.gz"), "wb").write(gzip_all_fields(runs, raw_deflate(runs, strategy=zlib.Z_RLE)))
    open(path("multi_member.gz"), "wb").write(gz(b"first member\n") + gz(b"second member\n"))
    open(path("empty.gz"), "wb").write(gz(b""))
    # Raw DEFLATE whose matches reach into a preset dictionary the decoder does not have.
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict=b"the quick brown fox jumps")
    open(path("needs_dictionary.deflate"), "wb").write(c.compress(b"the quick brown fox jumps over the lazy dog") + c.flush())


def make_safetensors():
    tensors = {
        "weight": (np.arange(6, dtype=np.float32).reshape(2, 3) * 0.25 - 0.5),
        "f64": np.array([1.5, -2.25, 1e-3], dtype=np.float64),
        "f16": np.array([1.0, -0.5, 65504.0, 2.0 ** -24, -0.0, np.inf], dtype=np.float16),
        "i64": np.array([[-3, 0], [7, 1 << 20]], dtype=np.int64),
        "i32": np.array([-2147483648, 5, 2147483647], dtype=np.int32),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "scalar": np.array(42.0, dtype=np.float32),
    }
    save_file(tensors, path("py_mixed.safetensors"), metadata={"format": "np", "source": "glassbox fixture"})
    # BF16 is not a numpy dtype: write its header by hand in the reference layout.
    bf16 = np.array([1.0, -2.5, 3.140625], dtype=np.float32).view(np.uint32) >> 16
    raw = bf16.astype("<u2").tobytes()
    header = b'{"b":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]}}'
    header += b" " * ((8 - len(header) % 8) % 8)
    open(path("py_bf16.safetensors"), "wb").write(struct.pack("<Q", len(header)) + header + raw)
    # For byte-for-byte comparison with Swift's writer: float32 only, one metadata key.
    ref = {"weight": np.arange(6, dtype=np.float32).reshape(2, 3) * 0.25, "bias": np.array([0.5, -1.0], dtype=np.float32)}
    save_file(ref, path("py_f32_reference.safetensors"), metadata={"format": "pt"})


def make_npy():
    np.save(path("f32_2x3.npy"), (np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1))
    for name, arr in {
        "f8": np.array([1.5, -2.0, 1e10], dtype=np.float64),
        "i1": np.array([-128, 0, 127], dtype=np.int8),
        "u1": np.array([0, 200, 255], dtype=np.uint8),
        "i2": np.array([-32768, 12, 32767], dtype=np.int16),
        "i4": np.array([[-7, 8], [9, 2147483647]], dtype=np.int32),
        "i8": np.array([-1, 16777216], dtype=np.int64),
    }.items():
        np.save(path(f"dtype_{name}.npy"), arr)
    np.save(path("scalar.npy"), np.array(3.5, dtype=np.float32))
    np.save(path("empty_0x3.npy"), np.zeros((0, 3), dtype=np.float32))
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    for version in ((2, 0), (3, 0)):
        with open(path(f"v{version[0]}.npy"), "wb") as f:
            np.lib.format.write_array(f, arr, version=version)
    np.save(path("fortran.npy"), np.asfortranarray(arr))
    np.save(path("bigendian.npy"), arr.astype(">f4"))
    np.save(path("complex.npy"), np.zeros(2, dtype=np.complex64))


if __name__ == "__main__":
    make_gzip()
    make_safetensors()
    make_npy()
