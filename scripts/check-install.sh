#!/bin/sh
# The installed library, as a program that embeds it sees it (make check-install):
#  1. `make install` into a scratch DESTDIR puts every file where it belongs;
#  2. the shared library exports exactly the functions the public header marks TT_API, and
#     nothing else (no internal tt_ function, no symbol of a library it uses);
#  3. examples/embed/embed.c builds with `pkg-config --cflags --libs tonetree` against the
#     installed copy alone (not the source tree), links the shared library, runs a call
#     through the installed menu and says it ended, with audio;
#  4. the man pages format with no warning from groff.
# Every step is bounded in time; the scratch folder is removed at the end.
set -eu
BUILD=${BUILD:-build}
dest=$(mktemp -d "${TMPDIR:-/tmp}/tonetree-install.XXXXXX")
trap 'rm -rf "$dest"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
prefix=/usr/local
fail() { echo "check-install: $*" >&2; exit 1; }

# every folder given, so that none set on the outer make's command line leads elsewhere
"${MAKE:-make}" -s install DESTDIR="$dest" PREFIX="$prefix" LIBDIR="$prefix/lib" \
    DATADIR="$prefix/share/tonetree" MANDIR="$prefix/share/man" BUILD="$BUILD" >/dev/null
root=$dest$prefix
version=$(sed -n 's/^#define TT_VERSION "\(.*\)"/\1/p' include/tonetree.h)
for f in bin/tonetree lib/libtonetree.a "lib/libtonetree.so.$version" lib/libtonetree.so \
    lib/pkgconfig/tonetree.pc include/tonetree.h share/man/man1/tonetree.1 \
    share/man/man5/tonetree-menu.5 share/tonetree/menus/no-contact-order.ini \
    share/tonetree/prompts/en/phrases.ini share/tonetree/keymaps/usb-numpad.ini; do
    [ -e "$root/$f" ] || fail "make install did not install $f"
done
"$root/bin/tonetree" --version | grep -qx "tonetree $version" || fail "the installed tonetree is not $version"

# 2. exports: the TT_API functions of the header, exactly
want=$(sed -n 's/^TT_API [^(]*[ *]\(tt_[a-z0-9_]*\)(.*/\1/p' include/tonetree.h | sort)
got=$(nm -D --defined-only "$root/lib/libtonetree.so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sort)
if [ "$want" != "$got" ]; then
    echo "check-install: the shared library's exports differ from the header's TT_API functions:" >&2
    printf '%s\n' "$want" >"$dest/want"
    printf '%s\n' "$got" >"$dest/got"
    diff "$dest/want" "$dest/got" | sed 's/^/  /' >&2 || true
    exit 1
fi
nwant=$(printf '%s\n' "$want" | grep -c .)

# 3. the embedding example, built against the installed copy only
export PKG_CONFIG_PATH="$root/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest"
flags=$(pkg-config --cflags --libs tonetree) || fail "pkg-config does not know tonetree"
${CC:-cc} -std=c11 -Wall -Wextra -Werror -o "$dest/embed" examples/embed/embed.c $flags ||
    fail "examples/embed/embed.c does not build against the installed library"
somajor=${version%%.*}
LD_LIBRARY_PATH="$root/lib" ldd "$dest/embed" | grep -q "libtonetree.so.$somajor => $root/lib/" ||
    fail "embed does not link the installed shared library"
out=$(cd "$dest" && LD_LIBRARY_PATH="$root/lib" timeout -k 5 120 ./embed \
    "$root/share/tonetree/menus/no-contact-order.ini" "3 9" 2>&1) || {
    printf '%s\n' "$out" >&2
    fail "embed did not run a call to its end"
}
printf '%s\n' "$out" | grep -q "^0.000 say " || { printf '%s\n' "$out" >&2; fail "no first prompt at 0.000"; }
printf '%s\n' "$out" | grep -q " key 9$\| key 9 " || { printf '%s\n' "$out" >&2; fail "the end key was not pressed"; }
secs=$(printf '%s\n' "$out" | sed -n 's/^audio: \([0-9.]*\) s at 16000 Hz; the call ended$/\1/p')
[ -n "$secs" ] || { printf '%s\n' "$out" >&2; fail "embed did not say the call ended"; }
awk -v s="$secs" 'BEGIN { exit !(s > 3) }' || fail "only $secs s of audio"

# 4. the man pages
for page in "$root/share/man/man1/tonetree.1" "$root/share/man/man5/tonetree-menu.5"; do
    warn=$(groff -man -ww -z "$page" 2>&1) || fail "groff cannot format $page"
    [ -z "$warn" ] || { printf '%s\n' "$warn" >&2; fail "groff warns about $page"; }
done
echo "check-install: installed, $nwant exported functions as in the header, embed ran a call (${secs} s of audio), man pages clean"
