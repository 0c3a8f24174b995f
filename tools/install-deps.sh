#!/bin/sh
# Install the Debian packages that Mica's build, run, debug, bench and test
# targets need.  Idempotent: when every program is already present it does
# nothing and prints nothing, so every make target can call it first.
# Otherwise it says which packages it installs, keeps apt's chatter in a
# log, and shows that log only if the install fails.
#
# Arguments add PROGRAM:PACKAGE pairs for one target's own needs
# (make compile_commands.json asks for bear:bear).
set -eu

# program-or-file:package.  Programs of Debian's essential packages (bash,
# coreutils' timeout and truncate, diffutils' cmp) are on every system.
# gcc without its recommends lacks the C library's headers and crt files,
# which the host tests need: hence libc6-dev, named by stdio.h.  binutils
# (ld, nm, objcopy, ar) and mtools (mformat, mcopy, mmd, mtype, mdel) are
# checked by each program the build and the tools call.
need="
gcc:gcc
/usr/include/stdio.h:libc6-dev
ld:binutils
nm:binutils
objcopy:binutils
ar:binutils
nasm:nasm
python3:python3
grub-mkrescue:grub-common
/usr/lib/grub/i386-pc/multiboot2.mod:grub-pc-bin
/usr/lib/grub/x86_64-efi/multiboot2.mod:grub-efi-amd64-bin
xorriso:xorriso
mformat:mtools
mcopy:mtools
mmd:mtools
mtype:mtools
mdel:mtools
/usr/lib/crt0-efi-x86_64.o:gnu-efi
qemu-system-x86_64:qemu-system-x86
/usr/share/OVMF/OVMF_CODE_4M.fd:ovmf
gdb:gdb
"

# present WHAT: is the file (an absolute path) or the program there?
present() {
    case $1 in
        /*) [ -e "$1" ] ;;
        *)  command -v "$1" >/dev/null 2>&1 ;;
    esac
}

# missing_packages PAIR...: each package whose program or file is absent, once.
missing_packages() {
    missing=""
    for pair in "$@"; do
        present "${pair%%:*}" && continue
        pkg=${pair#*:}
        case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
    done
    echo "${missing# }"
}

# as_root: the prefix that runs a command as root (empty for root), or fail.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        echo ""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        echo sudo
    else
        return 1
    fi
}

# logged LOG COMMAND...: run COMMAND with its output in LOG; on failure show
# LOG's tail and fail.
logged() {
    log=$1
    shift
    "$@" >>"$log" 2>&1 && return 0
    tail -n 20 "$log" >&2
    echo "install-deps: failed: $* (the whole log: $log)" >&2
    exit 1
}

# $need, $sudo and $packages are lists of words, split on purpose.
# shellcheck disable=SC2086
packages=$(missing_packages $need "$@")
[ -z "$packages" ] && exit 0

if ! sudo=$(as_root); then
    echo "install-deps: missing: $packages; run as root, or: sudo apt-get install $packages" >&2
    exit 1
fi
echo "install-deps: installing: $packages" >&2
log=$(mktemp /tmp/install-deps.XXXXXX.log)
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
logged "$log" $sudo apt-get update
# shellcheck disable=SC2086
logged "$log" $sudo apt-get install -y --no-install-recommends $packages
rm -f "$log"
echo "install-deps: installed" >&2
