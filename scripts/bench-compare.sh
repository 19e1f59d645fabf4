#!/bin/sh
# Before and after, in one run: build an older commit of tonetree (BASE, 87980a9 by default:
# the commit before issue 11's restructuring) beside this tree, run both ALTERNATING for
# several rounds, and print one table: each measure's median over the rounds before and after,
# their ratio, and the spread of the rounds. Figures from different days or machines cannot be
# compared on a shared machine; figures from the same minutes, taken in turn, can.
#
#   scripts/bench-compare.sh [BASE]      (or: make bench-compare BASE=<commit>)
#   ROUNDS=15  rounds (each runs both sides once, the order swapped every round)
#   BUILD=build  this tree's build folder; everything of the comparison goes in BUILD/bench-compare
#
# Both sides run bench/compare_driver.c (built against each tree's library, so only the
# library differs), the same guide (this tree's menus/no-contact-order.ini, so the same voice
# and prompts) and one speech cache, warmed before the first round, so synthesis stays out of
# every warm figure. The whole-program figure is `tonetree render` of the guide with the key
# script of `make demo`: wall time every round, and instructions once per side with
# callgrind when valgrind is installed (scripts/bench-deps.sh installs it).
# Benchmarks report, they never fail on a figure: the exit status is 0 unless something could
# not be built or run.
set -eu

base=${1:-87980a9}
rounds=${ROUNDS:-15}
top=$(git rev-parse --show-toplevel)
cd "$top"
build=${BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
make=${MAKE:-make}
sha=$(git rev-parse --verify --quiet "$base^{commit}") || {
    echo "bench-compare: $base is not a commit of this repository" >&2
    exit 2
}
out=$build/bench-compare
old=$out/base-$(echo "$sha" | cut -c1-12)
guide=$top/menus/no-contact-order.ini
cache=$out/cache
bigmenu=$out/menu-10000.ini
keys='3 # # 0 1 9'
mkdir -p "$out"

# A Makefile beside each tree's own, to read the flags it builds with (both trees name them
# alike): the driver is compiled as that tree compiles its benchmarks.
cat >"$out/flags.mk" <<'EOF'
bc-cflags: ; @echo '$(CPPFLAGS_ALL) $(PKG_CFLAGS) $(WARN) $(CFLAGS)'
bc-libs: ; @echo '$(LIBS)'
EOF

# The older tree, from git archive: a plain folder, no worktree left registered. Kept between
# runs (its name carries the commit), so a second comparison does not build it again.
if [ ! -f "$old/Makefile" ]; then
    echo "bench-compare: unpacking $base ($sha) into $old" >&2
    rm -rf "$old" && mkdir -p "$old"
    git archive --format=tar "$sha" | tar -x -C "$old"
fi

# build_side TREE BUILD SIDE: the library and the program by the tree's own Makefile, then
# the driver, compiled with that Makefile's flags. The builds give way to other work on the
# machine (nice); the runs do not.
build_side() {
    nice -n 5 "$make" -s --no-print-directory -C "$1" -j2 BUILD="$2" "$2/libtonetree.a" \
        "$2/tonetree" >&2
    flags() {
        "$make" -s --no-print-directory -C "$1" -f Makefile -f "$out/flags.mk" BUILD="$2" "$3"
    }
    cflags=$(flags "$1" "$2" bc-cflags)
    libs=$(flags "$1" "$2" bc-libs)
    has_call=0
    grep -q 'tt_call_new' "$1/include/tonetree.h" && has_call=1
    # shellcheck disable=SC2086
    (cd "$1" && nice -n 5 ${CC:-cc} $cflags -DBC_HAS_CALL=$has_call -o "$out/driver-$3" \
        "$top/bench/compare_driver.c" "$2/libtonetree.a" $libs)
    ln -sf "$2/tonetree" "$out/tonetree-$3"
}
build_side "$top" "$build" after
build_side "$old" "$old/build" before

"$out/driver-after" gen-menu "$bigmenu" 10000

# render SIDE: one whole `tonetree render`, its wall time in ms on stdout.
render() {
    t0=$(date +%s%N)
    "$out/tonetree-$1" render "$guide" --cache "$cache" --keys "$keys" \
        -o "$out/render-$1.wav" >/dev/null
    t1=$(date +%s%N)
    echo "$(((t1 - t0) / 1000)) 1000" | awk '{ printf "%.3f\n", $1 / $2 }'
}

# Warm the shared cache with both sides (each may ask for a clip the other does not), and
# check that the two renders are the same audio: the comparison is of the same work.
for side in before after; do
    "$out/driver-$side" run "$guide" "$cache" "$bigmenu" >/dev/null
    render "$side" >/dev/null
done
if cmp -s "$out/render-before.wav" "$out/render-after.wav"; then
    same_audio="the same bytes"
else
    same_audio="NOT the same bytes (the comparison is of different work)"
fi

results=$out/results.txt
: >"$results"
# one SIDE ROUND: a round of one side, as "side round measure value" lines.
one() {
    "$out/driver-$1" run "$guide" "$cache" "$bigmenu" | sed "s/^/$1 $2 /" >>"$results"
    echo "$1 $2 render_wall_ms $(render "$1")" >>"$results"
}
echo "bench-compare: $rounds rounds, before = $base, after = $(git rev-parse --short HEAD)" \
     "$(git diff --quiet HEAD -- src include || echo '+ uncommitted changes')" >&2
r=1
while [ "$r" -le "$rounds" ]; do
    # Swapping the order every round keeps a drift of the machine (a neighbour's build
    # starting) from falling on one side only.
    if [ $((r % 2)) -eq 1 ]; then one before "$r"; one after "$r"
    else one after "$r"; one before "$r"; fi
    printf '.' >&2
    r=$((r + 1))
done
echo >&2

# Instructions, once per side: callgrind counts are all but the same from run to run, so one
# is enough (it runs some 50 times slower than the program). The whole render; then each of
# the driver's steps alone, which sees through the clock's resolution and a busy machine
# alike (--toggle-collect counts only what runs inside that function; the "*" takes in the
# copies the compiler may make of it, such as instr_key.isra.0).
if command -v valgrind >/dev/null 2>&1; then
    ir() { sed -n 's/^\(totals\|summary\): *\([0-9]*\).*/\2/p' "$1" | head -n 1; }
    for side in before after; do
        valgrind --tool=callgrind --callgrind-out-file="$out/callgrind-$side.out" \
            "$out/tonetree-$side" render "$guide" --cache "$cache" --keys "$keys" \
            -o "$out/render-cg-$side.wav" >/dev/null 2>"$out/callgrind-$side.log"
        echo "$side 1 render_instructions $(ir "$out/callgrind-$side.out")" >>"$results"
        for step in first_audio key menu_load; do
            valgrind --tool=callgrind --toggle-collect="instr_$step*" \
                --callgrind-out-file="$out/callgrind-$side-$step.out" \
                "$out/driver-$side" instr "$guide" "$cache" "$bigmenu" \
                2>"$out/callgrind-$side-$step.log"
            echo "$side 1 ${step}_instructions $(ir "$out/callgrind-$side-$step.out")" \
                >>"$results"
        done
    done
else
    echo "bench-compare: no valgrind, so no instruction counts (scripts/bench-deps.sh)" >&2
fi

echo "before: $base ($sha)"
echo "after:  $(git rev-parse HEAD)$(git diff --quiet HEAD -- src include || echo ' + changes')"
echo "rounds: $rounds, alternating; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "the two renders' audio: $same_audio"
echo
# The table: medians over the rounds, the ratio after/before (above 1 is slower after), and
# each side's spread (lowest and highest round), which says how far the ratio can be trusted.
awk '
function median(a, n,    i, j, t) {
    for (i = 2; i <= n; i++)
        for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
    k = $1 SUBSEP $3
    v[k, ++n[k]] = $4
    if (!($3 in seen)) { seen[$3] = 1; order[++m] = $3 }
}
END {
    name["first_audio_warm_ms"] = "time to first audio, warm cache (ms)"
    name["first_audio_cold_ms"] = "time to first audio, cold cache (ms)"
    name["key_render_us"] = "barge-in, key handled, render path (us)"
    name["key_session_player_us"] = "barge-in, session + player only (us)"
    name["fade_ms"] = "barge-in, audio until silent (ms)"
    name["menu_load_ms"] = "menu load 10,000 nodes, tt_menu_load (ms)"
    name["menu_share_ms"] = "menu load, our share (ms)"
    name["render_wall_ms"] = "tonetree render, wall (ms)"
    name["render_instructions"] = "tonetree render, instructions (callgrind)"
    name["first_audio_instructions"] = "time to first audio, warm, instructions"
    name["key_instructions"] = "barge-in, render path, instructions"
    name["menu_load_instructions"] = "menu load 10,000 nodes, instructions"
    name["timer_us"] = "(reference) two clock readings (us)"
    name["warm_synthesized"] = "(check) clips synthesized in warm runs"
    printf "%-43s %12s %12s %7s   %-23s %-23s\n", "measure", "before", "after", "ratio",
           "before: rounds min-max", "after: rounds min-max"
    for (i = 1; i <= m; i++) {
        x = order[i]
        for (s = 0; s < 2; s++) {
            side = s ? "after" : "before"
            k = side SUBSEP x
            c = n[k]
            delete a
            for (j = 1; j <= c; j++) a[j] = v[k, j] + 0
            med[s] = c ? median(a, c) : 0
            spread[s] = c > 1 ? sprintf("%.4g-%.4g", a[1], a[c]) : "(one run)"
        }
        ratio = med[0] > 0 ? sprintf("%.3f", med[1] / med[0]) : "-"
        printf "%-43s %12.6g %12.6g %7s   %-23s %-23s\n", (x in name ? name[x] : x),
               med[0], med[1], ratio, spread[0], spread[1]
    }
}' "$results"
