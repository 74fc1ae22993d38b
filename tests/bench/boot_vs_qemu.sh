#!/bin/sh
# Boot benchmark against QEMU: boots Debian's i386 kernel with an initramfs whose init prints
# /proc/uptime and reboots (which -no-reboot turns into an exit), under jitpc and under QEMU's TCG
# (pentium2, the CPU jitpc models), runs alternating, then prints the medians of the guest's
# uptime when init started and of the host wall time of each run, and the ratios jitpc/QEMU.
#
# Usage: tests/bench/boot_vs_qemu.sh [-n RUNS] [-j JITPC] [-q QEMU] [-c GUEST_CACHE] [-t SECONDS]
#                                    [-a EXTRA_APPEND] [-k]
#   -n RUNS         runs of each emulator (default 3)
#   -j JITPC        the jitpc binary (default build/jitpc)
#   -q QEMU         the QEMU binary (default qemu-system-i386; when missing, jitpc runs alone)
#   -c GUEST_CACHE  where `make guest` put vmlinuz and initrd.gz (default guest-cache)
#   -t SECONDS      give up on a run after this long (default 1800)
#   -a TEXT         kernel parameters after console=ttyS0 (default "quiet")
#   -k              keep the work directory (bench initramfs and each run's serial log)
# Exit status: 0 when every run reached init, 1 when one did not, 2 for bad usage or missing files.
# Not part of `make test`: it takes minutes and needs `make guest` (and QEMU, for the comparison).
set -eu

. "$(dirname "$0")/bench_lib.sh"

RUNS=3
JITPC=build/jitpc
QEMU=qemu-system-i386
CACHE=guest-cache
TIMEOUT=1800
EXTRA=quiet
KEEP=0
while getopts n:j:q:c:t:a:kh opt; do
    case $opt in
    n) RUNS=$OPTARG ;;
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
case $RUNS in '' | *[!0-9]* | 0) echo "boot_vs_qemu: -n wants a positive number" >&2; exit 2 ;; esac
KERNEL=$CACHE/vmlinuz
INITRD=$CACHE/initrd.gz
for f in "$KERNEL" "$INITRD"; do
    [ -s "$f" ] || { echo "boot_vs_qemu: $f is missing: run 'make guest' first" >&2; exit 2; }
done
[ -x "$JITPC" ] || { echo "boot_vs_qemu: $JITPC is missing: run 'make' first" >&2; exit 2; }
HAVE_QEMU=1
if ! command -v "$QEMU" >/dev/null 2>&1; then
    echo "boot_vs_qemu: $QEMU not found (Debian: apt-get install qemu-system-x86); running jitpc alone"
    HAVE_QEMU=0
fi

WORK=$(mktemp -d)
if [ "$KEEP" -eq 1 ]; then echo "boot_vs_qemu: work directory $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi

# The bench initramfs: make guest's (busybox) with another /init. A shell builtin reads the uptime,
# so the number is taken before any other program starts; `reboot -f` then resets at once, which
# both emulators end on under -no-reboot.
mkdir "$WORK/root"
gzip -dc "$INITRD" | (cd "$WORK/root" && cpio -id --quiet)
cat >"$WORK/root/init" <<'EOF'
#!/bin/sh
/bin/busybox mount -t proc proc /proc
read up idle </proc/uptime
echo "boot-bench: uptime-at-init $up"
/bin/busybox reboot -f
EOF
chmod 755 "$WORK/root/init"
(cd "$WORK/root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -9 >"$WORK/initrd.gz"
APPEND="console=ttyS0 $EXTRA"


# run_one NAME RUN: boots once; appends "uptime wall" to $WORK/NAME.times, or reports the failure.
run_one() {
    name=$1
    log=$WORK/$name-$2.log
    t0=$(now)
    if [ "$name" = jitpc ]; then
        timeout "$TIMEOUT" "$JITPC" -m 256 -nographic -no-reboot -kernel "$KERNEL" -initrd "$WORK/initrd.gz" \
            -append "$APPEND" -serial stdio </dev/null >"$log" 2>&1 || true
    else
        timeout "$TIMEOUT" "$QEMU" -accel tcg -cpu pentium2 -m 256 -nographic -no-reboot -kernel "$KERNEL" \
            -initrd "$WORK/initrd.gz" -append "$APPEND" </dev/null >"$log" 2>&1 || true
    fi
    t1=$(now)
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    up=$(tr -d '\r' <"$log" | sed -n 's/.*boot-bench: uptime-at-init \([0-9.]*\).*/\1/p' | head -n 1)
    if [ -z "$up" ]; then
        printf '  %-6s run %d: did not reach init (%.1f s); serial output ends:\n' "$name" "$2" "$wall"
        tail -n 8 "$log" | sed 's/^/    | /'
        FAILED=1
        return
    fi
    printf '  %-6s run %d: uptime at init %8.2f s, wall %8.2f s\n' "$name" "$2" "$up" "$wall"
    echo "$up $wall" >>"$WORK/$name.times"
}

# median FILE COLUMN: the median of one column, or "-" when there is none.
median() {
    [ -s "$1" ] || { echo -; return; }
    awk -v c="$2" '{ print $c }' "$1" | median_of
}

FAILED=0
echo "boot_vs_qemu: $RUNS run(s) each; kernel $KERNEL, append \"$APPEND\", -m 256, timeout ${TIMEOUT}s"
i=1
while [ "$i" -le "$RUNS" ]; do
    run_one jitpc "$i"
    [ "$HAVE_QEMU" -eq 1 ] && run_one qemu "$i"
    i=$((i + 1))
done

ju=$(median "$WORK/jitpc.times" 1)
jw=$(median "$WORK/jitpc.times" 2)
echo
if [ "$HAVE_QEMU" -eq 1 ]; then
    qu=$(median "$WORK/qemu.times" 1)
    qw=$(median "$WORK/qemu.times" 2)
    printf '%-22s %10s %10s %12s\n' "median (seconds)" jitpc qemu jitpc/qemu
    printf '%-22s %10s %10s %12s\n' "guest uptime at init" "$ju" "$qu" "$(ratio "$ju" "$qu" 1)"
    printf '%-22s %10s %10s %12s\n' "host wall time" "$jw" "$qw" "$(ratio "$jw" "$qw" 1)"
else
    printf '%-22s %10s\n' "median (seconds)" jitpc
    printf '%-22s %10s\n' "guest uptime at init" "$ju"
    printf '%-22s %10s\n' "host wall time" "$jw"
fi
exit "$FAILED"
