#!/usr/bin/env bash
# Seeds every fuzz target's corpus from fixtures/ and runs each for SECONDS (default 60).
# Needs cargo-fuzz (`cargo install cargo-fuzz`); the stable toolchain is used with
# RUSTC_BOOTSTRAP=1, since cargo-fuzz passes nightly-only sanitizer flags.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
seed() { mkdir -p "corpus/$1"; shift; for f in "$@"; do cp "$f" "corpus/$(basename "$(dirname "$f")")-$(basename "$f")" 2>/dev/null || true; done; }
mkdir -p corpus/{pack,evidence,assess,scenario,directions,decisions,verify,sheets}
cp ../fixtures/rotherham/2016-*.json ../fixtures/evidence/*.json ../fixtures/invalid/evidence/*.json corpus/evidence/ 2>/dev/null || true
cp corpus/evidence/* corpus/assess/
for f in ../rules/rotherham/rules/*.json ../rules/rotherham/*.json; do printf '\001' | cat - "$f" > "corpus/pack/$(basename "$f")"; done
cp ../fixtures/scenarios/*.json corpus/scenario/
cp ../fixtures/rotherham/directions.json ../fixtures/invalid/directions/*.json corpus/directions/
cp ../fixtures/audit/*.csv ../fixtures/invalid/decisions/*.csv corpus/decisions/
cp ../fixtures/reports/2016-08-progress-letter.assess.json corpus/verify/
cp ../fixtures/invalid/sheets/*.csv ../fixtures/invalid/sheets/*.xlsx ../fixtures/packs/northmoor-children/tests/evidence/*.json corpus/sheets/ 2>/dev/null || true
for target in pack evidence assess scenario directions decisions verify sheets; do
  echo "== $target"
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=4096 2>&1 | grep -E "^#[0-9]+.*(DONE|pulse)|Done|ERROR|panicked" | tail -3
done
