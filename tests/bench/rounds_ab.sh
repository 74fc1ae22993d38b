#!/bin/sh
# A against B on one workload, round by round: boots Debian's i386 kernel with an initramfs whose
# init (tests/bench/rounds-init) runs the workload ROUNDS times and prints each round's time from
# the guest's /proc/uptime, under two emulators in turn, pinned to one host core. A run's figure
# is the median of its rounds after the first SKIP (translation and page cache warm up there);
# the script prints each run's figure, then the median of each side's runs and B / A. For changes
# too small for the whole-workload benchmark (workloads_vs_qemu.sh) to show through the host's
# noise: the per-round medians of alternating runs are much steadier than single runs.
#
# Usage: tests/bench/rounds_ab.sh [-w WORKLOAD] [-r ROUNDS] [-s SKIP] [-n RUNS] [-c GUEST_CACHE]
#                                 [-p CORE] A B
#   A, B         a jitpc binary (with options: quote them, "build/jitpc --interp"), or "qemu"
#                for qemu-system-i386 -accel tcg -cpu pentium2
#   -w WORKLOAD  gzip (gzip -6 of the 16 MiB input of workloads_vs_qemu.sh; default) or forkexec
#                (100 fork+exec of /bin/true a round)
#   -r ROUNDS    rounds a run (default 6 for gzip, 30 for forkexec)
#   -s SKIP      rounds left out at the start of a run (default 1 for gzip, 4 for forkexec)
#   -n RUNS      runs of each side, alternating A B A B ... (default 4)
#   -c CACHE     where `make guest` put vmlinuz and the Debian packages (default guest-cache);
#                the initramfs is built there as bench-rounds-initrd.gz
#   -p CORE      the host core both run on (default 0; taskset)
# Exit status: 0 when every run printed every round, 1 when one did not, 2 for bad usage.
# The guest clock ticks in 10 ms steps: a forkexec round (100 fork+exec) is some 15 of them.
set -eu

. "$(dirname "$0")/bench_lib.sh"

WORKLOAD=gzip
ROUNDS=
SKIP=
RUNS=4
CACHE=guest-cache
CORE=0
while getopts w:r:s:n:c:p:h opt; do
    case $opt in
    w) WORKLOAD=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    s) SKIP=$OPTARG ;;
    n) RUNS=$OPTARG ;;
    c) CACHE=$OPTARG ;;
    p) CORE=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || { usage >&2; exit 2; }
A=$1
B=$2
case $WORKLOAD in
gzip) : "${ROUNDS:=6}" "${SKIP:=1}" ;;
forkexec) : "${ROUNDS:=30}" "${SKIP:=4}" ;;
*) echo "rounds_ab: -w wants gzip or forkexec" >&2; exit 2 ;;
esac
for v in "$ROUNDS" "$SKIP" "$RUNS" "$CORE"; do
    case $v in '' | *[!0-9]*) echo "rounds_ab: -r, -s, -n and -p want numbers" >&2; exit 2 ;; esac
done
[ "$SKIP" -lt "$ROUNDS" ] || { echo "rounds_ab: -s must be below -r" >&2; exit 2; }
HERE=$(dirname "$0")
KERNEL=$CACHE/vmlinuz
INITRD=$CACHE/bench-rounds-initrd.gz
if ! sh "$HERE/../../roms/fetch-guest.sh" "$CACHE" "$HERE/rounds-init" bench-rounds-initrd.gz >/dev/null; then
    echo "rounds_ab: cannot build $INITRD (does 'make guest' work?)" >&2
    exit 2
fi
for side in "$A" "$B"; do
    # shellcheck disable=SC2086 # the binary is the first word
    set -- $side
    if [ "$1" = qemu ]; then
        command -v qemu-system-i386 >/dev/null 2>&1 ||
            { echo "rounds_ab: qemu-system-i386 not found (Debian: apt-get install qemu-system-x86)" >&2; exit 2; }
    elif ! command -v "$1" >/dev/null 2>&1; then
        echo "rounds_ab: $1 is not an executable (run 'make' first?)" >&2
        exit 2
    fi
done
APPEND="console=ttyS0 quiet bench_workload=$WORKLOAD bench_rounds=$ROUNDS"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
FAILED=0

# run_one SIDE COMMAND RUN: one boot; appends the run's figure to $WORK/SIDE.
run_one() {
    side=$1
    cmd=$2
    log=$WORK/$side-$3.serial
    status=0
    if [ "$cmd" = qemu ]; then
        timeout 1800 taskset -c "$CORE" qemu-system-i386 -accel tcg -cpu pentium2 -m 256 -nographic -monitor none \
            -no-reboot -kernel "$KERNEL" -initrd "$INITRD" -append "$APPEND" -serial "file:$log" \
            </dev/null >/dev/null 2>&1 || status=$?
    else
        # shellcheck disable=SC2086 # a binary and its options
        timeout 1800 taskset -c "$CORE" $cmd -m 256 -kernel "$KERNEL" -initrd "$INITRD" -append "$APPEND" \
            -serial "file:$log" </dev/null >/dev/null 2>&1 || status=$?
    fi
    if [ -f "$log" ]; then tr -d '\r' <"$log" >"$log.txt"; else : >"$log.txt"; fi
    if [ "$status" -ne 0 ] || ! grep -q 'round: done$' "$log.txt"; then
        echo "  $side run $3: status $status, not every round ran; serial output ends:"
        tail -n 5 "$log.txt" | sed 's/^/    | /'
        FAILED=1
        return
    fi
    fig=$(sed -n 's/.*round: \([0-9]*\) \([0-9.]*\)$/\1 \2/p' "$log.txt" | awk -v s="$SKIP" '$1 > s { print $2 }' |
        median_of 3)
    echo "  $side run $3: $fig s a round (median of rounds $((SKIP + 1))-$ROUNDS)"
    echo "$fig" >>"$WORK/$side"
}

echo "rounds_ab: $WORKLOAD, $ROUNDS rounds a run (the first $SKIP left out), $RUNS runs a side on core $CORE"
echo "  A = $A"
echo "  B = $B"
k=1
while [ "$k" -le "$RUNS" ]; do
    run_one A "$A" "$k"
    run_one B "$B" "$k"
    k=$((k + 1))
done
# Three decimals: two are too coarse for a forkexec round (0.15 s).
a=$(cat "$WORK/A" 2>/dev/null | median_of 3)
b=$(cat "$WORK/B" 2>/dev/null | median_of 3)
echo "median of the runs (seconds a round): A $a, B $b; B / A $(ratio "$b" "$a" 3)"
exit "$FAILED"
