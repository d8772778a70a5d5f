#!/usr/bin/env bash
# Builds the libFuzzer harnesses and runs each for a while, seeded with the test fixtures.
#   Fuzz/run.sh [seconds per harness, default 600] [harness …]
# Crashing inputs are written to Fuzz/crashes/<harness>/; fix the loader, then move each input
# into the test fixtures so the suite keeps checking it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"; shift || true
harnesses=("${@:-csv npy idx gzip pnm safetensors modelfile layerspec onnx png jpeg}")
# shellcheck disable=SC2206
harnesses=(${harnesses[*]})
for h in "${harnesses[@]}"; do
  GLASSBOX_FUZZ=1 swift build -c release -Xswiftc -sanitize=fuzzer -Xswiftc -use-ld=lld \
    --product "fuzz-$h" --scratch-path .build-fuzz >/dev/null
done
fixtures=Tests/GlassboxDataTests/Fixtures
malformed=$fixtures/Malformed
for h in "${harnesses[@]}"; do
  corpus=".build-fuzz/corpus/$h"; crashes="Fuzz/crashes/$h"
  mkdir -p "$corpus" "$crashes"
  case "$h" in
    csv) cp "$fixtures"/*.csv "$malformed"/csv/*.csv "$corpus"/ 2>/dev/null || true; cp Sources/GlassboxData/Resources/iris.csv "$corpus"/ ;;
    npy) cp "$fixtures"/*.npy "$malformed"/npy/*.npy "$corpus"/ 2>/dev/null || true ;;
    pnm) printf "P5\n2 2\n255\n\x00\x10\x20\x30" >"$corpus/seed.pgm"
         printf "P3\n# comment\n2 1\n65535\n0 1 2 65535 4 5\n" >"$corpus/seed.ppm"
         cp "$malformed"/pnm/* "$corpus"/ ;;
    png) cp "$fixtures"/images/*.png "$corpus"/ ;;
    jpeg) cp "$fixtures"/images/jpeg_*.jpg "$corpus"/ ;;
    idx|gzip) cp "$fixtures"/*.gz "$fixtures"/*idx* "$malformed"/idx/* "$corpus"/ 2>/dev/null || true ;;
    onnx) cp Tests/GlassboxONNXTests/Fixtures/*.onnx "$corpus"/ ;;
    safetensors|modelfile) cp "$fixtures"/*.safetensors "$malformed"/safetensors/* "$malformed"/architecture/* "$corpus"/ 2>/dev/null || true ;;
    layerspec) # architecture JSON texts: the Linear(3 → 2) the harness's weights match, and richer specs
      printf '{"type":"Sequential","layers":[{"type":"Linear","in_features":3,"out_features":2}]}' >"$corpus/linear.json"
      printf '%s' '{"type":"Sequential","layers":[{"type":"Conv2d","in_channels":1,"out_channels":4,"kernel_size":[3,3],"padding":1},{"type":"BatchNorm2d","num_features":4},{"type":"ReLU"},{"type":"MaxPool2d","kernel_size":2},{"type":"Residual","layers":[{"type":"Sequential","layers":[{"type":"Conv2d","in_channels":4,"out_channels":4,"kernel_size":3,"padding":1,"bias":false}]}],"names":["body"],"relu":true},{"type":"GlobalAvgPool"},{"type":"Flatten","start_dim":1},{"type":"Dropout","p":0.1},{"type":"Linear","in_features":4,"out_features":2}]}' >"$corpus/cnn.json"
      printf '%s' '{"type":"Sequential","layers":[{"type":"ScoresActivation","num_features":3,"temperature":1.0},{"type":"FeatureTokenizer","num_features":3,"embed_dim":4,"cls_token":true},{"type":"TransformerBlock","d_model":4,"nhead":2,"dim_feedforward":8,"activation":"gelu","dropout":0.0},{"type":"SelectToken","index":0},{"type":"LayerNorm","normalized_shape":[4]},{"type":"MultiheadSelfAttention","embed_dim":4,"num_heads":2},{"type":"Embedding","num_embeddings":5,"embedding_dim":2},{"type":"BatchNorm1d","num_features":2,"affine":false},{"type":"LeakyReLU","negative_slope":0.1},{"type":"GELU","approximate":"tanh"},{"type":"Softmax","dim":1},{"type":"Sigmoid"},{"type":"Tanh"},{"type":"AvgPool2d","kernel_size":2}]}' >"$corpus/transformer.json" ;;
  esac
  echo "== fuzz-$h for ${seconds}s"
  ".build-fuzz/release/fuzz-$h" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=2048 \
    -artifact_prefix="$crashes/" "$corpus" 2>&1 | grep -E "^(#[0-9]+ +DONE|Done|==[0-9]+==|SUMMARY)" || true
  ls "$crashes" | sed "s|^|crash: $crashes/|" || true
done
