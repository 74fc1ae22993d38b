#!/bin/sh
# Boot acceptance test: Debian's stock i386 kernel with a busybox initramfs whose init
# (tests/linux/test-init) runs commands, checks their output against values computed here, and
# powers off. Fails on a kernel oops, BUG or warning. Boots under --icount with the JIT and with the
# interpreter: the two console logs must be byte-identical. Then runs two windows of the boot under
# --verify (JIT and interpreter in lockstep). Usage:
# boot_test.sh JITPC GUEST_CACHE [LOG_DIR].
# Ends with "N passed, N failed", or "skipped: ..." when the guest cannot be fetched (no network).
JITPC=$1
CACHE=$2
LOGS=${3:-$(mktemp -d)}
HERE=$(dirname "$0")
TIMEOUT=${BOOT_TIMEOUT:-1200}
mkdir -p "$LOGS"
if ! sh "$HERE/../../roms/fetch-guest.sh" "$CACHE" "$HERE/test-init" test-initrd.gz >"$LOGS/fetch.log" 2>&1; then
    echo "skipped: cannot fetch the Debian guest (see $LOGS/fetch.log)"
    tail -n 5 "$LOGS/fetch.log"
    exit 0
fi
passed=0
failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }

md5zero=$(dd if=/dev/zero bs=1024 count=1024 2>/dev/null | md5sum | cut -d' ' -f1)
md5seq=$(seq 1 20000 | md5sum | cut -d' ' -f1)
arith=$(( (123456789 * 987) % 1000003 ))
APPEND="console=ttyS0 panic=-1 jitpc.md5zero=$md5zero jitpc.md5seq=$md5seq jitpc.arith=$arith"

for run in 1 2; do
    log=$LOGS/boot$run.log
    engine=--interp
    [ "$run" -eq 1 ] && engine=--jit-stats
    start=$(date +%s)
    timeout "$TIMEOUT" "$JITPC" $engine -m 256 --icount --no-reboot --serial "file:$log" \
        --kernel "$CACHE/vmlinuz" --initrd "$CACHE/test-initrd.gz" --append "$APPEND" \
        </dev/null >"$LOGS/jitpc$run.out" 2>&1
    rc=$?
    echo "boot $run ($engine): status $rc after $(( $(date +%s) - start )) s; $(grep -c . "$log") console lines in $log"
    [ "$rc" -eq 0 ] && ok "boot $run: jitpc ended with status 0 (guest powered off)" ||
        { bad "boot $run: jitpc status $rc"; tail -n 3 "$LOGS/jitpc$run.out"; }
    if grep -q '^jitpc-test: 0 failed' "$log"; then
        ok "boot $run: every in-guest check passed ($(grep -c '^jitpc-test: ok' "$log") checks)"
    else
        bad "boot $run: in-guest checks"
        grep -E '^jitpc-test: (FAIL|[0-9]+ failed)' "$log"
        tail -n 15 "$log"
    fi
    # Kernel complaints that emulation can cause: oops, BUG, WARNING, panics, an unstable clock.
    if grep -E 'Oops|BUG:|WARNING:|Call Trace|Kernel panic|general protection fault|invalid opcode:|unstable|soft lockup|hung task' "$log" >"$LOGS/warnings$run.txt"; then
        bad "boot $run: the kernel complained"
        head -n 10 "$LOGS/warnings$run.txt"
    else
        ok "boot $run: no oops, BUG, warning or unstable clock in the kernel log"
    fi
done
if cmp -s "$LOGS/boot1.log" "$LOGS/boot2.log"; then
    ok "JIT and interpreter --icount boots gave byte-identical console logs"
else
    bad "JIT and interpreter --icount boots differ"
    diff "$LOGS/boot1.log" "$LOGS/boot2.log" | head -n 10
fi
# Lockstep: every block the JIT runs is rerun in the interpreter and compared (status 4 is the
# budget running out; 5 is a divergence, with both states in the output). Two windows: the first
# 50 million instructions (real-mode entry, the decompressor), and 250 million from 2.3 billion
# on, where the decompressed kernel starts (turns paging on, sets up its IDT, runs the first
# initcalls) in Debian's 6.1 kernels.
verify_window() { # name from max
    start=$(date +%s)
    timeout "$TIMEOUT" "$JITPC" --verify-from "$2" --max-insns "$3" -m 256 --icount --no-reboot --serial none \
        --kernel "$CACHE/vmlinuz" --initrd "$CACHE/test-initrd.gz" --append "$APPEND" \
        </dev/null >"$LOGS/verify-$1.out" 2>&1
    rc=$?
    echo "verify: $1: status $rc after $(( $(date +%s) - start )) s"
    if [ "$rc" -eq 4 ] && grep -q 'instruction budget used up' "$LOGS/verify-$1.out"; then
        ok "--verify: JIT and interpreter agree over $1"
    else
        bad "--verify over $1: status $rc"
        tail -n 40 "$LOGS/verify-$1.out"
    fi
}
verify_window "the first 50M instructions" 0 50000000
verify_window "instructions 2300M-2550M" 2300000000 2550000000
echo "$passed passed, $failed failed"
