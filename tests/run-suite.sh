#!/bin/sh
# Run each cmocka test binary from the project's top folder (tests read menus/ and tests/data/),
# each bounded in time so that a hang fails the run instead of stalling CI.
set -u
failed=0
passed=0
for t in "$@"; do
    if timeout 300 "$t"; then
        passed=$((passed + 1))
    else
        echo "FAILED: $t" >&2
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
