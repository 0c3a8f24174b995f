#!/bin/sh
# Install the Debian packages Mica's build, run and test targets need.
# Idempotent: when every program is already present it does nothing and
# prints nothing, so every make target can call it first.
set -eu

# program-or-file -> package that provides it
need="
qemu-system-x86_64:qemu-system-x86
qemu-img:qemu-utils
nasm:nasm
grub-mkrescue:grub-common
/usr/lib/grub/i386-pc/multiboot2.mod:grub-pc-bin
/usr/lib/grub/x86_64-efi/multiboot2.mod:grub-efi-amd64-bin
xorriso:xorriso
mformat:mtools
/usr/lib/crt0-efi-x86_64.o:gnu-efi
/usr/share/OVMF/OVMF_CODE_4M.fd:ovmf
gdb:gdb
gcc:gcc
python3:python3
"

missing=""
for pair in $need; do
    what=${pair%%:*}
    pkg=${pair#*:}
    case $what in
        /*) [ -e "$what" ] && continue ;;
        *)  command -v "$what" >/dev/null 2>&1 && continue ;;
    esac
    case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
done

[ -z "$missing" ] && exit 0

echo "install-deps: missing packages:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=sudo
    else
        echo "install-deps: run as root, or: sudo apt-get install$missing" >&2
        exit 1
    fi
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
