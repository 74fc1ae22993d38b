#!/bin/sh
# Installs the Debian packages jitpc's build and tests need, only those that are missing.
# Runs apt-get update once before installing (a fresh machine has no package lists); uses sudo
# only when not root.
set -e
PKGS="gcc make pkg-config nasm libcapstone-dev libsdl2-dev libcmocka-dev zlib1g-dev gcc-multilib cpio seabios"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "deps: all installed"
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing$missing"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
