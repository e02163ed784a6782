#!/usr/bin/env bash
# Runs fuzz targets from their committed corpora (fuzz/corpus/TARGET), adding what each run
# learns to them:
#
#   fuzz/run.sh [SECONDS] [TARGET...]      # default: 60 seconds, every target
#   SANITIZER=none fuzz/run.sh 600 api     # without AddressSanitizer: several times faster
#
# Each run prints libFuzzer's last status (executions, cov, ft, corpus) and its final stats; the
# whole log, with every new-coverage line and its time, is left in target/logs/TARGET.log.
#
# Each target is held to the input size it needs (-max_len) and given a dictionary of the words
# its format uses (fuzz/dicts/, written by dicts/make.py), from the table below. One target at
# a time, in one process (no -jobs or -workers, which would fork more). Needs cargo-fuzz
# (`cargo install cargo-fuzz`); the stable toolchain is used with RUSTC_BOOTSTRAP=1, since cargo-fuzz passes nightly-only sanitizer flags.
# Afterwards: minimise by edges alone, to stay within the 5 MB the corpora may take
# (`cargo fuzz cmin TARGET corpus/TARGET -- -max_len=N -use_counters=0`, N from the table; a
# merge by features keeps several times as much), keep any crash in regressions/TARGET/ once
# fixed, and commit both; `cargo test` replays them all (crates/handback/tests/fuzz_replay.rs).
# Without a sanitizer, libFuzzer's timeout handler can deadlock: watch for a run that stops
# using CPU (docs/robustness.md). Never pause a run (SIGSTOP, to time something quietly): its
# per-input timeout is wall-clock, so the input it was running "times out" when it resumes and
# the run ends.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
sanitizer=${SANITIZER:-address}

# target      max_len  dictionary   why this size
table=$(cat <<'TABLE'
pack          20000    pack         the largest pack file (17 KB) and its picking byte
evidence      4096     evidence     every kind of observation fits; more is the same shapes again
assess        4096     evidence     as evidence, and each run assesses, plans and searches
scenario      2048     scenario     a scenario is a few changes
directions    8192     directions   the Rotherham Directions (3.9 KB) with room to grow
decisions     2048     csv          a few rows of a decision log or meeting calendar
verify        262144   verify       a whole report: even of no evidence, one is 180 KB (every rule of the pack)
sheets        16384    csv          a CSV of evidence, or a small workbook
api           8192     api          one request line carrying small documents
http          8192     http         one workbench body carrying small documents
differential  512      -            choices, not text: 512 bytes make packs of up to 5 rules
TABLE
)

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(awk '{print $1}' <<<"$table")
fi
for target in "${targets[@]}"; do
  row=$(awk -v t="$target" '$1 == t' <<<"$table")
  if [ -z "$row" ]; then
    echo "no target \`$target\`: the targets are $(awk '{printf "%s ", $1}' <<<"$table")" >&2
    exit 2
  fi
  max_len=$(awk '{print $2}' <<<"$row")
  dict=$(awk '{print $3}' <<<"$row")
  flags=(-max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1)
  # The differential target's bytes are choices: longer inputs are bigger packs, which
  # libFuzzer's slowly growing length limit would hold back (43 of 512 bytes after 121,115 runs).
  if [ "$target" = differential ]; then
    flags+=(-len_control=0)
  fi
  if [ "$dict" != "-" ]; then
    flags+=(-dict="dicts/$dict.dict")
  fi
  mkdir -p "corpus/$target" target/logs
  echo "== $target (max_len $max_len, sanitizer $sanitizer)"
  # Optimised, with debug assertions and overflow checks (-O -a); each sanitizer builds in a
  # target folder of its own, so switching does not rebuild the other.
  RUSTC_BOOTSTRAP=1 nice -n 10 cargo fuzz run -O -a --sanitizer "$sanitizer" --target-dir "target/$sanitizer" \
    "$target" "corpus/$target" -- "${flags[@]}" 2>&1 | tee "target/logs/$target.log" |
    grep -E "^#[0-9]+.*(DONE|pulse)|Done|ERROR|panicked|stat::number_of_executed_units|stat::average_exec_per_sec" | tail -5
done
