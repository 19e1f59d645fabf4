#!/bin/sh
# Run each cmocka test binary from the project's top folder (tests read menus/ and tests/data/),
# each bounded in time so that a hang fails the run instead of stalling CI. The bound is for
# hangs, not speed: 600 s, where the slowest binary (test_kiosk under ASan) took 214 s beside
# stress-ng --cpu 4 --io 2, so that a busy machine does not trip it.
#
# A test that cmocka reports as SKIPPED fails the run: the machine the suite runs on is built
# by scripts/deps.sh, so a test that cannot run there is a missing install step (or a test
# that cannot tell), and a green run must mean every test ran. Tests that depend on the
# hardware (a processor feature, a sound card) pass and say so instead of skipping.
set -u
failed=0
passed=0
out=$(mktemp "${TMPDIR:-/tmp}/run-suite.XXXXXX") || exit 1
trap 'rm -f "$out" "$out.rc"' EXIT INT TERM
for t in "$@"; do
    start=$(date +%s)
    # The output goes to the terminal as it comes, and to a file to look for skips in; the
    # test's own status comes back through a file (a pipeline's status is tee's).
    { timeout 600 "$t"; echo $? >"$out.rc"; } 2>&1 | tee "$out"
    rc=$(cat "$out.rc" 2>/dev/null || echo 1)
    # Each binary's time, so that a slow one shows (the limit above is 600 s).
    echo "$t: $(($(date +%s) - start)) s"
    if [ "$rc" -ne 0 ]; then
        echo "FAILED: $t" >&2
        failed=$((failed + 1))
    elif grep -q '^\[  SKIPPED \]' "$out"; then
        echo "FAILED: $t skipped a test (a missing install step? see above)" >&2
        failed=$((failed + 1))
    else
        passed=$((passed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
