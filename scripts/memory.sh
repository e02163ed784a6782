#!/bin/sh
# Peak memory, wall time and file size of `handback assess` over generated evidence files of the
# Rotherham pack (issues #13 and #15). Not a test: figures depend on the machine and its load.
#
#   scripts/memory.sh [COUNT ...]        default: 210000 1000000
#
# Needs python3 (scripts/big_evidence.py writes the files) and GNU time (`apt-get install time`)
# for the peak resident set size. Files go to ${TMPDIR:-/tmp}/handback-memory and are kept, so a
# second run only measures. Each count is assessed three times; every run is printed.
set -eu
cd "$(dirname "$0")/.."
cargo build --release -p handback-cli
bin=target/release/handback
dir="${TMPDIR:-/tmp}/handback-memory"
mkdir -p "$dir"
[ $# -gt 0 ] || set -- 210000 1000000
printf '%-12s %-14s %-8s %-12s %s\n' observations "file (bytes)" "wall (s)" "peak RSS (KiB)" "peak / file"
for n in "$@"; do
    file="$dir/evidence-$n.json"
    [ -s "$file" ] || "$bin" evidence template --format json | python3 scripts/big_evidence.py "$n" >"$file"
    size=$(wc -c <"$file")
    for _ in 1 2 3; do
        /usr/bin/time -v "$bin" assess "$file" --max-input-bytes "$((size + 1))" \
            --max-observations "$n" >/dev/null 2>"$dir/time.txt" || {
            cat "$dir/time.txt" >&2
            exit 1
        }
        rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/time.txt")
        wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/time.txt")
        ratio=$(awk -v r="$rss" -v s="$size" 'BEGIN { printf "%.2f", r * 1024 / s }')
        printf '%-12s %-14s %-8s %-12s %s\n' "$n" "$size" "$wall" "$rss" "$ratio"
    done
done
