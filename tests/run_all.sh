#!/bin/sh
# Runs every test suite that `make test` builds and ends with one line "N passed, N failed".
# Suites: cmocka unit tests, guest programs (nasm, self-checking through isa-debug-exit),
# command-line behaviour, the SingleStepTests conformance vectors and the host-CPU oracle.
BUILD=${BUILD:-build}
SSTS_DIR=${SSTS_DIR:-../shared/ssts}
JITPC=$BUILD/jitpc
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() { # suite-name passed failed
    printf '%-28s %6d passed, %d failed\n' "$1" "$2" "$3"
    passed=$((passed + $2))
    failed=$((failed + $3))
}

# The last "N passed, N failed" line a suite printed.
summary_of() {
    sed -n 's/^\([A-Za-z-]*: \)\{0,1\}\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\2 \3/p' "$1" | tail -n 1
}

# cmocka unit tests: one count per test case.
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    "$t" >"$log" 2>&1
    rc=$?
    p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' "$log" | head -n 1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test.*/\1/p' "$log" | head -n 1)
    p=${p:-0}
    f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1 # crashed or aborted before cmocka could report
    fi
    [ "$f" -ne 0 ] && { echo "--- $(basename "$t") ---"; grep -v '^\[ *\(RUN\|OK\) *\]' "$log" | tail -n 40; }
    count "unit/$(basename "$t")" "$p" "$f"
done

# Guest programs: each must end through isa-debug-exit with code 0 (status 1), under the JIT (the
# default engine), the interpreter, and both in lockstep.
for engine in --jit-stats --interp --verify; do
    gp=0
    gf=0
    for g in "$BUILD"/guest/*.bin "$BUILD"/roms/demo.bin; do
        [ -f "$g" ] || continue
        timeout 60 "$JITPC" $engine --bios "$g" --max-insns 500000000 >"$log" 2>&1
        rc=$?
        if [ "$rc" -eq 1 ]; then
            gp=$((gp + 1))
        else
            gf=$((gf + 1))
            echo "--- guest $(basename "$g") $engine: exit status $rc ---"
            tail -n 20 "$log"
        fi
    done
    case $engine in --jit-stats) name="guest programs (JIT)" ;; *) name="guest programs ($engine)" ;; esac
    count "$name" "$gp" "$gf"
done

# Direct kernel boot: a Multiboot ELF with a module and a minimal bzImage with an initrd check
# what the loader handed them and print it back.
bp=0
bf=0
boot_check() { # description expected-text command...
    d=$1
    want=$2
    shift 2
    timeout 60 "$@" >"$log" 2>&1
    rc=$?
    if [ "$rc" -eq 1 ] && grep -qF "$want" "$log"; then
        bp=$((bp + 1))
    else
        bf=$((bf + 1))
        echo "--- boot: $d: status $rc ---"
        cat "$log"
    fi
}
mod=$(mktemp)
printf 'module-payload' >"$mod"
boot_check "multiboot ELF with module and command line" "module: module-payload | args: $mod two" \
    "$JITPC" --kernel "$BUILD/boot/multiboot_elf.bin" --append "mb-cmdline" --initrd "$mod two"
boot_check "multiboot command line" "cmdline: mb-cmdline" \
    "$JITPC" -kernel "$BUILD/boot/multiboot_elf.bin" -append "mb-cmdline" -initrd "$mod two"
boot_check "bzImage with initrd and command line" "initrd: module-payloadPASS" \
    "$JITPC" --kernel "$BUILD/boot/bzimage_stub.bin" --append "console=ttyS0" --initrd "$mod"
rm -f "$mod"
count "boot protocols" "$bp" "$bf"

# Command line: clear errors, never a crash.
cp=0
cf=0
expect() { # description expected-status command...
    d=$1
    want=$2
    shift 2
    "$@" >"$log" 2>&1
    rc=$?
    if [ "$rc" -eq "$want" ] && [ "$rc" -lt 128 ]; then
        cp=$((cp + 1))
    else
        cf=$((cf + 1))
        echo "--- cli: $d: status $rc, wanted $want ---"
        cat "$log"
    fi
}
expect "help exits 0" 0 "$JITPC" --help
expect "unknown option is a usage error" 2 "$JITPC" --no-such-flag
expect "missing firmware file is an error" 2 "$JITPC" --bios /nonexistent/firmware.bin
expect "empty firmware file is an error" 2 "$JITPC" --bios /dev/null
expect "bad memory size is an error" 2 "$JITPC" -m 12Q --bios "$BUILD/roms/demo.bin"
expect "memory too large is an error" 2 "$JITPC" -m 8G --bios "$BUILD/roms/demo.bin"
expect "QEMU spellings run the demo" 1 "$JITPC" -m 64 -bios "$BUILD/roms/demo.bin"
expect "a file that is no kernel is an error" 2 "$JITPC" --kernel "$BUILD/roms/demo.bin"
expect "--initrd without --kernel is an error" 2 "$JITPC" --bios "$BUILD/roms/demo.bin" --initrd /dev/null
expect "missing initrd is an error" 2 "$JITPC" --kernel "$BUILD/boot/bzimage_stub.bin" --initrd /nonexistent
expect "unsupported -device names the device" 2 "$JITPC" -device e1000 -bios "$BUILD/roms/demo.bin"
expect "unsupported serial backend is an error" 2 "$JITPC" -serial tcp:1234 -bios "$BUILD/roms/demo.bin"
expect "unsupported display is an error" 2 "$JITPC" -display sdl -bios "$BUILD/roms/demo.bin"
expect "unknown isa-debug-exit property is an error" 2 "$JITPC" -device isa-debug-exit,ioport=1 -bios "$BUILD/roms/demo.bin"
expect "debugcon naming a missing chardev is an error" 2 "$JITPC" -device isa-debugcon,chardev=nope -bios "$BUILD/roms/demo.bin"
expect "a QEMU test-runner command line runs the demo" 1 "$JITPC" -nographic -display none -no-reboot -cpu pentium2 \
    -accel tcg -serial none -device isa-debug-exit,iobase=0xf4,iosize=0x04 -m size=64M -bios "$BUILD/roms/demo.bin"
expect "--interp with --verify is a usage error" 2 "$JITPC" --interp --verify -bios "$BUILD/roms/demo.bin"
expect "a bad --verify-from count is a usage error" 2 "$JITPC" --verify-from 12x -bios "$BUILD/roms/demo.bin"
expect "--verify-from runs the demo, verifying from instruction 100" 1 "$JITPC" --verify-from 100 -bios "$BUILD/roms/demo.bin"
expect "--trace with --dump-jit is a usage error" 2 "$JITPC" --trace --dump-jit -bios "$BUILD/roms/demo.bin"
"$JITPC" --bios "$BUILD/roms/demo.bin" --dump-jit --jit-stats >/dev/null 2>"$log"
if grep -q '^block eip' "$log" && grep -q 'guest .*xor' "$log" && grep -q 'host .*call' "$log" && grep -q '^jit: .* blocks' "$log"; then
    cp=$((cp + 1))
else
    cf=$((cf + 1)); echo "--- cli: --dump-jit/--jit-stats output lacks blocks, guest or host code, or statistics ---"; head -n 20 "$log"
fi
expect "--interp with --perf-map is a usage error" 2 "$JITPC" --interp --perf-map -bios "$BUILD/roms/demo.bin"
# --perf-map: perf's map of translated code, named by the process id, one "START SIZE jit:..." per block,
# and the shared code (the inline lookup) by name.
"$JITPC" --bios "$BUILD/roms/demo.bin" --perf-map >/dev/null 2>&1 &
pmpid=$!
wait "$pmpid"
if grep -Eq '^[0-9a-f]+ [0-9a-f]+ jit:[0-9a-f]{8}:[0-9a-f]{8}$' "/tmp/perf-$pmpid.map" 2>/dev/null &&
    grep -Eq '^[0-9a-f]+ [0-9a-f]+ jit-stub:inline-lookup$' "/tmp/perf-$pmpid.map"; then
    cp=$((cp + 1))
else
    cf=$((cf + 1)); echo "--- cli: --perf-map wrote no block lines to /tmp/perf-$pmpid.map ---"; head -n 3 "/tmp/perf-$pmpid.map"
fi
rm -f "/tmp/perf-$pmpid.map"
dcon=$(mktemp)
"$JITPC" -chardev "file,id=dbg,path=$dcon" -device isa-debugcon,iobase=0xe9,chardev=dbg -bios "$BUILD/roms/demo.bin" >"$log" 2>&1
if grep -q 'squares: 1 4 9' "$dcon" && ! grep -q 'squares' "$log"; then cp=$((cp + 1)); else cf=$((cf + 1)); echo "--- cli: isa-debugcon with a file chardev did not get the demo's output ---"; cat "$dcon" "$log"; fi
rm -f "$dcon"
"$JITPC" --bios "$BUILD/roms/demo.bin" --trace --max-insns 40 >/dev/null 2>"$log"
if grep -q 'ljmp' "$log" && grep -q 'eflags=' "$log"; then cp=$((cp + 1)); else cf=$((cf + 1)); echo "--- cli: --trace output lacks disassembly or changed registers ---"; head -n 5 "$log"; fi
count "command line" "$cp" "$cf"

# Debian's stock kernel boots to a test initramfs that checks its commands and powers off
# (tests/linux/boot_test.sh). An ASan build would take the better part of an hour for it, so the
# sanitizer pass leaves it to the plain build, which CI runs as well.
if [ "${SAN:-0}" = 1 ] || [ "${BOOT_TEST:-1}" = 0 ]; then
    echo "linux boot: skipped in this pass (SAN=1 or BOOT_TEST=0); the plain \`make test\` runs it"
else
    sh tests/linux/boot_test.sh "$JITPC" "${GUEST_CACHE:-guest-cache}" "$BUILD/linux-boot" >"$log" 2>&1
    if grep -q '^skipped:' "$log"; then
        echo "linux boot: $(grep '^skipped:' "$log" | head -n 1)"
    else
        s=$(summary_of "$log")
        set -- ${s:-0 1}
        [ "$2" -ne 0 ] && { echo "--- linux boot (logs in $BUILD/linux-boot) ---"; cat "$log"; }
        [ "$2" -eq 0 ] && sed -n 's/^\(boot [0-9] .*\|verify: .*\)/  linux boot: \1/p' "$log"
        count "linux boot" "$1" "$2"
    fi
fi

# Conformance vectors from real chips, then the host CPU as an oracle.
# The vectors run three times: in the interpreter, with each instruction as a one-instruction JIT
# block, and with that block in lockstep with the interpreter.
for suite in sst_run "sst_run --jit" "sst_run --verify" oracle_run; do
    set -- $suite
    bin=$BUILD/tests/$1
    [ -x "$bin" ] || continue
    if [ "$1" = sst_run ]; then "$bin" "$SSTS_DIR" $2 >"$log" 2>&1; else "$bin" >"$log" 2>&1; fi
    rc=$?
    if grep -q '^skipped:' "$log"; then
        echo "$suite: $(grep '^skipped:' "$log" | head -n 1)"
        continue
    fi
    s=$(summary_of "$log")
    if [ -z "$s" ]; then
        echo "--- $suite: no summary (status $rc) ---"
        tail -n 20 "$log"
        count "$suite" 0 1
        continue
    fi
    set -- $s
    [ "$2" -ne 0 ] && { echo "--- $suite ---"; tail -n 60 "$log"; }
    count "$suite" "$1" "$2"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
