#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) from its committed corpus (fuzz/corpus/TARGET),
# adding what the run learns to it. Needs cargo-fuzz (`cargo install cargo-fuzz`); the stable
# toolchain is used with RUSTC_BOOTSTRAP=1, since cargo-fuzz passes nightly-only sanitizer flags.
# Afterwards: minimise with `cargo fuzz cmin TARGET`, keep any crash in regressions/TARGET/ once
# fixed, and commit both; `cargo test` replays them all (crates/handback/tests/fuzz_replay.rs).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
for target in pack evidence assess scenario directions decisions verify sheets api; do
  echo "== $target"
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "corpus/$target" -- -max_total_time="$seconds" -rss_limit_mb=4096 2>&1 | grep -E "^#[0-9]+.*(DONE|pulse)|Done|ERROR|panicked" | tail -3
done
