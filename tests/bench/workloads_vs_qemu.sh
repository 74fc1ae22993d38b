#!/bin/sh
# Workload benchmark against QEMU: boots Debian's i386 kernel with an initramfs whose init
# (tests/bench/workloads-init) times, inside the guest with /proc/uptime, the boot to init,
# `sha256sum` and `gzip -6` of 16 MiB, an awk program over 100,000 numbers and 300 fork+exec of
# /bin/true, then powers off. Runs jitpc's JIT, jitpc's interpreter and QEMU's TCG (pentium2, the
# CPU jitpc models) in turn, each round alternating the three, and prints the medians of each
# workload and of the host wall time of a run, with the ratios to QEMU. Guest time is real time in
# both emulators (no --icount, no -icount), so the guest's seconds are host seconds.
#
# Usage: tests/bench/workloads_vs_qemu.sh [-n RUNS] [-i INTERP_RUNS] [-j JITPC] [-q QEMU]
#                                         [-c GUEST_CACHE] [-t SECONDS] [-a EXTRA_APPEND] [-k]
#   -n RUNS         runs of jitpc's JIT and of QEMU (default 3)
#   -i RUNS         runs of jitpc's interpreter, in the first rounds (default: as -n; 0 skips it,
#                   which saves most of the time: a run takes some 8 times the JIT's, ~13 min)
#   -j JITPC        the jitpc binary (default build/jitpc)
#   -q QEMU         the QEMU binary (default qemu-system-i386; when missing, jitpc runs alone)
#   -c GUEST_CACHE  where `make guest` put vmlinuz and the Debian packages (default guest-cache);
#                   the bench initramfs is built there as bench-workloads-initrd.gz
#   -t SECONDS      give up on a run after this long (default 3600)
#   -a TEXT         kernel parameters after console=ttyS0 (default "quiet")
#   -k              keep the work directory (each run's serial log and output)
# Exit status: 0 when every run completed every workload with the same results, 1 when one did not,
# 2 for bad usage or missing files.
# Not part of `make test`: it takes from minutes (JIT and QEMU) to an hour or more (interpreter).
set -eu

. "$(dirname "$0")/bench_lib.sh"

RUNS=3
IRUNS=
JITPC=build/jitpc
QEMU=qemu-system-i386
CACHE=guest-cache
TIMEOUT=3600
EXTRA=quiet
KEEP=0
while getopts n:i:j:q:c:t:a:kh opt; do
    case $opt in
    n) RUNS=$OPTARG ;;
    i) IRUNS=$OPTARG ;;
    j) JITPC=$OPTARG ;;
    q) QEMU=$OPTARG ;;
    c) CACHE=$OPTARG ;;
    t) TIMEOUT=$OPTARG ;;
    a) EXTRA=$OPTARG ;;
    k) KEEP=1 ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
[ -n "$IRUNS" ] || IRUNS=$RUNS
case $RUNS in '' | *[!0-9]* | 0) echo "workloads_vs_qemu: -n wants a positive number" >&2; exit 2 ;; esac
case $IRUNS in *[!0-9]*) echo "workloads_vs_qemu: -i wants a number" >&2; exit 2 ;; esac
HERE=$(dirname "$0")
KERNEL=$CACHE/vmlinuz
INITRD=$CACHE/bench-workloads-initrd.gz
[ -x "$JITPC" ] || { echo "workloads_vs_qemu: $JITPC is missing: run 'make' first" >&2; exit 2; }
# fetch-guest.sh reuses the packages `make guest` downloaded, and the initramfs while it is newer
# than the init script.
if ! sh "$HERE/../../roms/fetch-guest.sh" "$CACHE" "$HERE/workloads-init" bench-workloads-initrd.gz >/dev/null; then
    echo "workloads_vs_qemu: cannot build $INITRD (does 'make guest' work?)" >&2
    exit 2
fi
for f in "$KERNEL" "$INITRD"; do
    [ -s "$f" ] || { echo "workloads_vs_qemu: $f is missing" >&2; exit 2; }
done
HAVE_QEMU=1
if ! command -v "$QEMU" >/dev/null 2>&1; then
    echo "workloads_vs_qemu: $QEMU not found (Debian: apt-get install qemu-system-x86); running jitpc alone"
    HAVE_QEMU=0
fi

WORK=$(mktemp -d)
if [ "$KEEP" -eq 1 ]; then echo "workloads_vs_qemu: work directory $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi
APPEND="console=ttyS0 $EXTRA"
WORKLOADS="boot sha256 gzip awk forkexec"


# run_one NAME RUN: boots once (NAME is jit, interp or qemu); appends "WORKLOAD SECONDS" lines and
# "wall SECONDS" to $WORK/NAME.times and the bench-check lines to $WORK/NAME-RUN.checks, or
# reports what went wrong.
run_one() {
    name=$1
    run=$2
    log=$WORK/$name-$run.serial
    out=$WORK/$name-$run.out
    t0=$(now)
    case $name in
    jit | interp)
        engine=
        [ "$name" = interp ] && engine=--interp
        status=0
        timeout "$TIMEOUT" "$JITPC" $engine -m 256 -nographic -no-reboot -kernel "$KERNEL" -initrd "$INITRD" \
            -append "$APPEND" -serial "file:$log" </dev/null >"$out" 2>&1 || status=$?
        ;;
    qemu)
        status=0
        timeout "$TIMEOUT" "$QEMU" -accel tcg -cpu pentium2 -m 256 -nographic -monitor none -no-reboot \
            -kernel "$KERNEL" -initrd "$INITRD" -append "$APPEND" -serial "file:$log" \
            </dev/null >"$out" 2>&1 || status=$?
        ;;
    esac
    t1=$(now)
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    # Firmware and kernel may leave terminal escapes before a line: match anywhere, up to its end.
    tr -d '\r' <"$log" >"$log.txt" 2>/dev/null || : >"$log.txt"
    line=
    missing=
    for w in $WORKLOADS; do
        v=$(sed -n "s/.*bench: $w \([0-9.]*\)\$/\1/p" "$log.txt" | head -n 1)
        if [ -z "$v" ]; then missing="$missing $w"; else line="$line $w $v"; fi
    done
    grep -q 'bench: done$' "$log.txt" || missing="$missing done"
    sed -n 's/.*bench-check: //p' "$log.txt" >"$WORK/$name-$run.checks"
    if grep -E 'Oops|BUG|WARNING|Call Trace|Kernel panic|unstable|soft lockup|hung task' "$log.txt" >"$WORK/$name-$run.warnings"; then
        printf '  %-6s run %d: the kernel complained (%d lines; with -k, see %s):\n' "$name" "$run" \
            "$(grep -c . "$WORK/$name-$run.warnings")" "$log"
        head -n 5 "$WORK/$name-$run.warnings" | sed 's/^/    | /'
        WARNED=1
    fi
    if [ -n "$missing" ] || [ "$status" -ne 0 ]; then
        printf '  %-6s run %d: status %d after %.1f s; missing:%s; serial output ends:\n' \
            "$name" "$run" "$status" "$wall" "${missing:- none}"
        tail -n 8 "$log.txt" | sed 's/^/    | /'
        tail -n 3 "$out" | sed 's/^/    ! /'
        FAILED=1
        return
    fi
    # shellcheck disable=SC2086 # the pairs split on purpose
    set -- $line
    printf '  %-6s run %d:' "$name" "$run"
    while [ $# -ge 2 ]; do printf ' %s %s' "$1" "$2"; echo "$1 $2" >>"$WORK/$name.times"; shift 2; done
    printf ', wall %s s\n' "$wall"
    echo "wall $wall" >>"$WORK/$name.times"
    # Every run must compute what the first run did (any engine): a wrong result is a bug, not a time.
    if [ -z "${REF:-}" ]; then
        REF=$WORK/$name-$run.checks
    elif ! cmp -s "$REF" "$WORK/$name-$run.checks"; then
        echo "  $name run $run computed something else than $(basename "$REF" .checks):"
        diff "$REF" "$WORK/$name-$run.checks" | sed 's/^/    | /' || true
        FAILED=1
    fi
}

# median NAME KEY: the median of one workload's seconds over NAME's runs, or "-" when there is none.
median() {
    [ -s "$WORK/$1.times" ] || { echo -; return; }
    awk -v k="$2" '$1 == k { print $2 }' "$WORK/$1.times" | median_of
}

FAILED=0
WARNED=0
START=$(now)
echo "workloads_vs_qemu: $RUNS run(s) of the JIT and QEMU, $IRUNS of the interpreter; kernel $KERNEL," \
    "append \"$APPEND\", -m 256, timeout ${TIMEOUT}s"
i=1
while [ "$i" -le "$RUNS" ] || [ "$i" -le "$IRUNS" ]; do
    if [ "$i" -le "$RUNS" ]; then run_one jit "$i"; fi
    if [ "$i" -le "$IRUNS" ]; then run_one interp "$i"; fi
    if [ "$HAVE_QEMU" -eq 1 ] && [ "$i" -le "$RUNS" ]; then run_one qemu "$i"; fi
    i=$((i + 1))
done
if [ -n "${REF:-}" ]; then
    echo "  what the runs computed (bench-check lines of $(basename "$REF" .checks)):"
    sed 's/^/    /' "$REF"
fi

label() {
    case $1 in
    boot) echo "boot to init (uptime)" ;;
    sha256) echo "sha256sum 16 MiB" ;;
    gzip) echo "gzip -6 16 MiB" ;;
    awk) echo "awk, 100,000 numbers" ;;
    forkexec) echo "300 fork+exec true" ;;
    wall) echo "host wall time of a run" ;;
    esac
}
echo
if [ "$HAVE_QEMU" -eq 1 ]; then
    printf '%-24s %10s %12s %9s %9s %12s\n' "median (seconds)" "jitpc JIT" "jitpc interp" QEMU JIT/QEMU interp/QEMU
else
    printf '%-24s %10s %12s\n' "median (seconds)" "jitpc JIT" "jitpc interp"
fi
for w in $WORKLOADS wall; do
    j=$(median jit "$w")
    p=$(median interp "$w")
    if [ "$HAVE_QEMU" -eq 1 ]; then
        q=$(median qemu "$w")
        printf '%-24s %10s %12s %9s %9s %12s\n' "$(label "$w")" "$j" "$p" "$q" "$(ratio "$j" "$q" 2)" "$(ratio "$p" "$q" 2)"
    else
        printf '%-24s %10s %12s\n' "$(label "$w")" "$j" "$p"
    fi
done
echo "whole benchmark: $(awk -v a="$START" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s of host time"
if [ "$WARNED" -eq 1 ]; then echo "workloads_vs_qemu: the kernel complained in some run (see above)"; fi
exit "$FAILED"
