#!/usr/bin/env bash
# Packaging: cmake --install into a temporary prefix installs the binary, the
# man page and the shell completions; the man page renders; cpack builds a .deb
# that holds the same files.
. "$(dirname "$0")/lib.sh"

BUILD=$(cd "$(dirname "$LIVEMIG")" && pwd)
[ -f "$BUILD/cmake_install.cmake" ] || fail "$BUILD is not a cmake build directory"

FILES=(bin/livemig share/man/man1/livemig.1 share/bash-completion/completions/livemig
    share/zsh/vendor-completions/_livemig)

log "cmake --install into $WORK/prefix"
cmake --install "$BUILD" --prefix "$WORK/prefix" >"$WORK/install.log" 2>&1 || {
    show_file "install log" "$WORK/install.log"
    fail "cmake --install failed"
}
for f in "${FILES[@]}"; do
    [ -f "$WORK/prefix/$f" ] || fail "cmake --install did not install $f"
done
[ -x "$WORK/prefix/bin/livemig" ] || fail "installed bin/livemig is not executable"
"$WORK/prefix/bin/livemig" --version | grep -q '^livemig [0-9]' || fail "installed livemig --version"
pass "cmake --install installs ${FILES[*]}"

"$WORK/prefix/bin/livemig" --version >"$WORK/version"
for lib in libmariadb libpq libzstd; do
    grep -Eq "^$lib [0-9]+\.[0-9]+" "$WORK/version" || {
        show_file "livemig --version" "$WORK/version"
        fail "livemig --version does not print the $lib version"
    }
done
pass "livemig --version prints the linked library versions"

man_page=$WORK/prefix/share/man/man1/livemig.1
if command -v man >/dev/null && command -v col >/dev/null && man -l "$man_page" >/dev/null 2>&1; then
    MANWIDTH=80 MAN_KEEP_FORMATTING=0 man -l "$man_page" 2>/dev/null | col -b >"$WORK/man.txt" ||
        fail "man -l failed"
    how="man -l"
else
    groff -man -Tutf8 "$man_page" 2>/dev/null | sed 's/.\x08//g' >"$WORK/man.txt" ||
        fail "groff -man failed"
    how="groff -man"
fi
grep -q 'livemig migrate' "$WORK/man.txt" || fail "rendered man page lacks the synopsis"
grep -q -- '--config' "$WORK/man.txt" || fail "rendered man page lacks --config"
pass "$how renders the installed man page"

bash -n "$WORK/prefix/share/bash-completion/completions/livemig" || fail "bash completion syntax"
(
    # shellcheck source=/dev/null
    . "$WORK/prefix/share/bash-completion/completions/livemig"
    COMP_WORDS=(livemig migrate --dr)
    COMP_CWORD=2
    _livemig
    [ "${COMPREPLY[*]}" = "--drop-old" ] || exit 1
) || fail "bash completion of 'livemig migrate --dr' is not --drop-old"
if command -v zsh >/dev/null; then
    zsh -n "$WORK/prefix/share/zsh/vendor-completions/_livemig" || fail "zsh completion syntax"
fi
pass "completions load"

if ! command -v cpack >/dev/null || ! command -v dpkg-deb >/dev/null; then
    log "cpack or dpkg-deb missing: .deb not checked"
    exit 0
fi
log "cpack -G DEB"
t0=$SECONDS
(cd "$WORK" && timeout 120 cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$WORK/pkg") \
    >"$WORK/cpack.log" 2>&1 || {
    show_file "cpack log" "$WORK/cpack.log"
    fail "cpack -G DEB failed"
}
deb=$(find "$WORK/pkg" -maxdepth 1 -name 'livemig_*.deb' | head -n 1)
[ -n "$deb" ] || fail "cpack built no livemig_*.deb"
dpkg -c "$deb" >"$WORK/deb.list" || fail "dpkg -c $deb failed"
for f in "${FILES[@]}"; do
    grep -q " \./usr/$f\$" "$WORK/deb.list" || {
        show_file "dpkg -c" "$WORK/deb.list"
        fail "the .deb lacks /usr/$f"
    }
done
dpkg-deb -f "$deb" Package Version Depends >"$WORK/deb.fields"
grep -q '^Package: livemig$' "$WORK/deb.fields" || fail "the .deb is not named livemig"
grep -q '^Depends: .*libmariadb' "$WORK/deb.fields" || fail "the .deb does not depend on libmariadb"
pass "cpack -G DEB builds $(basename "$deb") with ${FILES[*]} ($((SECONDS - t0)) s)"
