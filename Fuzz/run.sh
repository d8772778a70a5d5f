#!/usr/bin/env bash
# Builds the libFuzzer harnesses and runs each for a while, seeded with the test fixtures.
#   Fuzz/run.sh [seconds per harness, default 600] [harness …]
# Crashing inputs are written to Fuzz/crashes/<harness>/; fix the loader, then move each input
# into the test fixtures so the suite keeps checking it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"; shift || true
harnesses=("${@:-csv npy idx gzip pnm safetensors modelfile}")
# shellcheck disable=SC2206
harnesses=(${harnesses[*]})
for h in "${harnesses[@]}"; do
  GLASSBOX_FUZZ=1 swift build -c release -Xswiftc -sanitize=fuzzer -Xswiftc -use-ld=lld \
    --product "fuzz-$h" --scratch-path .build-fuzz >/dev/null
done
fixtures=Tests/GlassboxDataTests/Fixtures
for h in "${harnesses[@]}"; do
  corpus=".build-fuzz/corpus/$h"; crashes="Fuzz/crashes/$h"
  mkdir -p "$corpus" "$crashes"
  case "$h" in
    csv) cp "$fixtures"/*.csv "$corpus"/ 2>/dev/null || true; cp Sources/GlassboxData/Resources/iris.csv "$corpus"/ ;;
    npy) cp "$fixtures"/*.npy "$corpus"/ 2>/dev/null || true ;;
    pnm) printf "P5\n2 2\n255\n\x00\x10\x20\x30" >"$corpus/seed.pgm" ;;
    idx|gzip) cp "$fixtures"/*.gz "$fixtures"/*idx* "$corpus"/ 2>/dev/null || true ;;
    safetensors|modelfile) cp "$fixtures"/*.safetensors "$corpus"/ 2>/dev/null || true ;;
  esac
  echo "== fuzz-$h for ${seconds}s"
  ".build-fuzz/release/fuzz-$h" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=2048 \
    -artifact_prefix="$crashes/" "$corpus" 2>&1 | grep -E "^(#[0-9]+ +DONE|Done|==[0-9]+==|SUMMARY)" || true
  ls "$crashes" | sed "s|^|crash: $crashes/|" || true
done
