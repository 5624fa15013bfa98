#!/usr/bin/env bash
# Seeds the corpora from the shared sample files and runs cargo-fuzz targets.
#
#   bash bank-adapters/fuzz/run.sh <target|all> [seconds]   (default: all, 600)
#
# Targets: pain002 camt icbc_payper icbc_qpayper icbc_qhisd pain001_read
# detect_inspect. "all" runs them one after another. Each run's libFuzzer
# output goes to stdout and to $LOG_DIR/fuzz-<target>.log (default /tmp).
#
# Environment:
#   SHARED=dir    where iso20022/samples and cn-bank/samples live
#                 (default: ../shared next to the repository)
#   NO_BUILD=1    run the binaries already built, do not rebuild
#   BIN_DIR=dir   run the binaries in dir (e.g. a copy, so that a rebuild
#                 meanwhile does not swap them; implies NO_BUILD=1)
#   JOBS=n        libFuzzer -jobs/-workers (default 1: one core)
#   FUZZ_ARGS=..  extra libFuzzer flags
#
# The toolchain is stable, so RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its
# -Z flags. Targets build with optimisations, debug assertions and overflow
# checks (-O -a) and AddressSanitizer. Crashes land in artifacts/<target>/;
# reproduce one with `<binary> artifacts/<target>/crash-...`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
crate="$(dirname "$here")"
repo="$(dirname "$crate")"
shared="${SHARED:-$(dirname "$repo")/shared}"
target_arg="${1:-all}"
seconds="${2:-600}"
log_dir="${LOG_DIR:-/tmp}"
jobs="${JOBS:-1}"

all_targets=(pain002 camt icbc_payper icbc_qpayper icbc_qhisd pain001_read detect_inspect)
if [[ "$target_arg" == all ]]; then
    targets=("${all_targets[@]}")
else
    case " ${all_targets[*]} " in
        *" $target_arg "*) targets=("$target_arg") ;;
        *)
            echo "unknown target '$target_arg'; one of: ${all_targets[*]} all" >&2
            exit 2
            ;;
    esac
fi

iso="$shared/iso20022/samples"
cms="$shared/cn-bank/samples"
for dir in "$iso" "$cms"; do
    [[ -d "$dir" ]] || { echo "no sample directory $dir (set SHARED=...)" >&2; exit 2; }
done

# Which samples seed which target, and which dictionary it gets.
seeds_of() {
    case "$1" in
        pain002) echo "$iso"/pain.002.*.xml ;;
        camt) echo "$iso"/camt.*.xml ;;
        icbc_payper) echo "$cms"/icbc.PAYPER.*.xml ;;
        icbc_qpayper) echo "$cms"/icbc.QPAYPER.*.xml "$cms"/icbc.PAYPER.response*.xml ;;
        icbc_qhisd) echo "$cms"/icbc.QHISD.*.xml "$cms"/icbc.QPD.*.xml ;;
        pain001_read) echo "$iso"/pain.001.*.xml "$cms"/icbc.PAYPER.request*.xml ;;
        detect_inspect) echo "$iso"/*.xml "$cms"/*.xml ;;
    esac
}
dict_of() {
    case "$1" in
        pain002 | camt) echo "$here/iso20022.dict" ;;
        icbc_*) echo "$here/cms.dict" ;;
        *)
            # Both dialects: libFuzzer takes one -dict, so join the two.
            cat "$here/iso20022.dict" "$here/cms.dict" >"$here/corpus/both.dict"
            echo "$here/corpus/both.dict"
            ;;
    esac
}

cd "$crate"
if [[ "${NO_BUILD:-0}" != 1 && -z "${BIN_DIR:-}" ]]; then
    RUSTC_BOOTSTRAP=1 cargo fuzz build -O -a
fi
bin_dir="${BIN_DIR:-$here/target/x86_64-unknown-linux-gnu/release}"

mkdir -p "$here/corpus" "$here/artifacts"
failed=()
for target in "${targets[@]}"; do
    corpus="$here/corpus/$target"
    artifacts="$here/artifacts/$target"
    mkdir -p "$corpus" "$artifacts"
    # Seeds are copied at run time (corpus/ is gitignored): only the
    # samples under $SHARED are the seeds, never committed.
    for seed in $(seeds_of "$target"); do
        cp -n "$seed" "$corpus/seed-$(basename "$seed")"
    done
    dict="$(dict_of "$target")"
    log="$log_dir/fuzz-$target.log"
    parallel=()
    if ((jobs > 1)); then
        # libFuzzer then writes each worker's output to fuzz-<n>.log.
        parallel=(-jobs="$jobs" -workers="$jobs")
    fi
    echo "== $target: ${seconds}s, corpus $corpus, log $log"
    # shellcheck disable=SC2086
    if ! "$bin_dir/$target" "$corpus" \
        -dict="$dict" \
        -artifact_prefix="$artifacts/" \
        -max_total_time="$seconds" \
        -timeout=10 \
        -rss_limit_mb=2048 \
        -print_final_stats=1 \
        "${parallel[@]}" \
        ${FUZZ_ARGS:-} 2>&1 | tee "$log"; then
        failed+=("$target")
    fi
done

if ((${#failed[@]} > 0)); then
    echo "FAILED (see artifacts/): ${failed[*]}" >&2
    exit 1
fi
