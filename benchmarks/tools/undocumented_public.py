#!/usr/bin/env python3
"""Lists public Swift declarations that have no `///` doc comment directly above them.

Usage:  python3 benchmarks/tools/undocumented_public.py [--all] [--count] [paths...]
        (default path: Sources; exit status 1 when anything is listed)

A declaration counts as documented when the nearest non-attribute line above it is a `///` line
(or the end of a `/** */` block). Attribute lines (`@discardableResult`, `@inlinable`, …) between
the comment and the declaration are skipped. Not listed, because DocC shows the documentation of
the requirement they implement (use --all to list them too):
  - Codable, Equatable, Hashable, CustomStringConvertible and LocalizedError witnesses
    (init(from:), encode(to:), ==, hash(into:), description, errorDescription);
  - the `Layer` protocol's requirements implemented by layers (forward(_:context:), parameters,
    buffers, children, spec) and `init(spec:rng:)`, documented once in Layer and LayerRegistry.
`public extension` lines and enum cases are not declarations of their own and are skipped.
"""
import os
import re
import sys

DECL = re.compile(
    r"^\s*(?:@[\w.]+(?:\([^)]*\))?\s+)*(?:public|open)\s+"
    r"(?:(?:static|class|final|override|mutating|nonmutating|nonisolated|convenience|required|indirect|lazy|dynamic)\s+)*"
    r"(func|var|let|init|struct|enum|class|actor|protocol|typealias|subscript|extension|associatedtype)\b")
ATTRIBUTE = re.compile(r"^\s*@[\w.]+(?:\(.*\))?\s*$")
WITNESSES = [
    re.compile(r"\binit\(from decoder"), re.compile(r"\bfunc encode\(to encoder"), re.compile(r"\bstatic func ==\s*\("),
    re.compile(r"\bfunc hash\(into"), re.compile(r"\bvar description\s*:"), re.compile(r"\bvar errorDescription\s*:"),
    re.compile(r"\bvar debugDescription\s*:"),
]
LAYER_REQUIREMENTS = [
    re.compile(r"\bfunc forward\(_ \w+: Variable, context: ForwardContext\)"),
    re.compile(r"\bvar (parameters|buffers)\s*:\s*\[\(name: String, variable: Variable\)\]"),
    re.compile(r"\bvar children\s*:\s*\[\(name: String, layer: any Layer\)\]"),
    re.compile(r"\bvar spec\s*:\s*LayerSpec\s*\{"),
    re.compile(r"\binit\(spec: LayerSpec, rng: inout SeededGenerator\)"),
]


def undocumented(path, include_all):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out = []
    in_block_comment = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if in_block_comment:
            if "*/" in stripped:
                in_block_comment = False
            continue
        if stripped.startswith("/*") and not stripped.startswith("/**") and "*/" not in stripped:
            in_block_comment = True
            continue
        m = DECL.match(line)
        if not m or m.group(1) == "extension":
            continue
        if not include_all and any(p.search(line) for p in WITNESSES + LAYER_REQUIREMENTS):
            continue
        j = i - 1
        while j >= 0 and ATTRIBUTE.match(lines[j]):
            j -= 1
        above = lines[j].strip() if j >= 0 else ""
        if above.startswith("///") or above.endswith("*/"):
            continue
        out.append((i + 1, stripped))
    return out


def main(argv):
    include_all = "--all" in argv
    count_only = "--count" in argv
    roots = [a for a in argv if not a.startswith("--")] or ["Sources"]
    files = []
    for root in roots:
        if os.path.isfile(root):
            files.append(root)
            continue
        for directory, _, names in os.walk(root):
            files += [os.path.join(directory, n) for n in names if n.endswith(".swift")]
    total = 0
    for path in sorted(files):
        found = undocumented(path, include_all)
        total += len(found)
        if count_only and found:
            print(f"{len(found):4d}  {path}")
        elif not count_only:
            for line, text in found:
                print(f"{path}:{line}: {text}")
    print(f"{total} undocumented public declarations in {len(files)} files", file=sys.stderr)
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
