#!/usr/bin/env bash
# Regenerates Sources/GlassboxONNX/onnx.pb.swift from Sources/GlassboxONNX/Proto/onnx.proto.
#
# Needs protoc (Debian: apt-get install protobuf-compiler) and the protoc-gen-swift plugin of the
# same swift-protobuf version Package.swift names (1.39.x), built once outside the tree:
#   git clone https://github.com/apple/swift-protobuf /tmp/swift-protobuf && cd /tmp/swift-protobuf
#   git checkout 1.39.0 && swift build -c release --product protoc-gen-swift   # ~10–15 min
# Then: PROTOC_GEN_SWIFT=/tmp/swift-protobuf/.build/release/protoc-gen-swift scripts/generate-onnx-proto.sh
# onnx.proto itself comes from the onnx Python package (pip install onnx; onnx/onnx.proto).
set -euo pipefail
cd "$(dirname "$0")/.."
plugin="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}"
[ -x "$plugin" ] || { echo "protoc-gen-swift not found: set PROTOC_GEN_SWIFT" >&2; exit 1; }
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Internal \
    --proto_path=Sources/GlassboxONNX/Proto --swift_out=Sources/GlassboxONNX Sources/GlassboxONNX/Proto/onnx.proto
echo "wrote Sources/GlassboxONNX/onnx.pb.swift"
