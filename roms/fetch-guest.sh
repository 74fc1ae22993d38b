#!/bin/sh
# `make guest`: fetches Debian's i386 kernel (linux-image-686) and busybox-static with a private apt
# state (no multiarch set-up on the host: the i386 lists live under the cache directory), then
# builds an initramfs whose init mounts proc, sys and dev and starts a shell on ttyS0.
# Usage: roms/fetch-guest.sh CACHE_DIR [INIT_SCRIPT [INITRD_NAME]]. Outputs CACHE_DIR/vmlinuz and
# CACHE_DIR/INITRD_NAME (default initrd.gz) with INIT_SCRIPT (default roms/initramfs-init) as /init.
set -eu
CACHE=$(mkdir -p "$1" && cd "$1" && pwd)
INIT=${2:-$(dirname "$0")/initramfs-init}
OUT=${3:-initrd.gz}
if [ -s "$CACHE/vmlinuz" ] && [ -s "$CACHE/$OUT" ] && [ "$CACHE/$OUT" -nt "$INIT" ]; then
    echo "guest: $CACHE/$OUT is up to date"
    exit 0
fi
if [ -s "$CACHE/vmlinuz" ] && ls "$CACHE"/debs/busybox-static_*.deb >/dev/null 2>&1; then
    SKIP_DOWNLOAD=1 # the packages are here: only the initramfs needs building
else
    SKIP_DOWNLOAD=0
fi
APT="$CACHE/apt"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$CACHE/debs"
set -- -o APT::Architecture=i386 -o APT::Architectures=i386 -o Dir::State::Lists="$APT/lists" \
    -o Dir::Cache="$APT/cache" -o Dir::State::status=/dev/null -o APT::Sandbox::User=root -q
# A mirror in mid-sync can fail one index (security updates, say); what matters is whether the two
# packages resolve afterwards, which the next commands check.
if [ "$SKIP_DOWNLOAD" = 0 ]; then
apt-get "$@" update || echo "guest: some package lists failed to download; trying with what arrived"
KPKG=$(apt-cache "$@" depends linux-image-686 | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
if [ -z "$KPKG" ]; then
    echo "guest: cannot resolve linux-image-686 for i386" >&2
    exit 1
fi
rm -f "$CACHE"/debs/*.deb
(cd "$CACHE/debs" && apt-get "$@" download "$KPKG" busybox-static)
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
if [ "$SKIP_DOWNLOAD" = 0 ]; then
    dpkg-deb -x "$CACHE"/debs/linux-image-*.deb "$WORK/kernel"
    cp "$WORK"/kernel/boot/vmlinuz-* "$CACHE/vmlinuz"
fi
dpkg-deb -x "$CACHE"/debs/busybox-static_*.deb "$WORK/bb"

ROOT="$WORK/root"
mkdir -p "$ROOT/bin" "$ROOT/sbin" "$ROOT/proc" "$ROOT/sys" "$ROOT/dev" "$ROOT/tmp" "$ROOT/etc"
cp "$WORK/bb/bin/busybox" "$ROOT/bin/busybox"
cp "$INIT" "$ROOT/init"
chmod 755 "$ROOT/init" "$ROOT/bin/busybox"
ln -s busybox "$ROOT/bin/sh"
(cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -9 > "$CACHE/$OUT.tmp"
mv "$CACHE/$OUT.tmp" "$CACHE/$OUT"
echo "guest: kernel in $CACHE/vmlinuz, busybox initramfs with $INIT as init in $CACHE/$OUT"
