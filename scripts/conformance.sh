#!/bin/sh
# The accessibility conformance check (`make conformance`): read the table of
# docs/accessibility.md (the rows between its conformance:begin and conformance:end markers),
# run each test binary its rows name once, take each named test's result from cmocka's own
# lines, and print the table with a result per row.
#
# The table is read from the report itself so that the two cannot drift apart. A test counts as
# passed only if its binary printed "[       OK ] name": a failed or skipped test, and one that
# is not in the output at all (renamed, removed, or cut off by a crash), fails its row. A row
# that names no test must say why, starting with **not met**, **hardware** or **n/a**.
#
# usage: scripts/conformance.sh [REPORT [TEST_DIR]]   (from the project's top folder)
# exit status: 0 when no row fails, 1 when one does, 2 when the report cannot be read.
set -u
doc=${1:-docs/accessibility.md}
bin=${2:-build/tests}
[ -r "$doc" ] || { echo "conformance: cannot read $doc" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/tonetree-conformance.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# ---- the rows: clause <TAB> kind <TAB> the tests it names, space-separated <TAB> the reason
# given instead of a test (its first words, for the printed table) ----
awk '
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
/<!-- conformance:begin -->/ { on = 1; next }
/<!-- conformance:end -->/   { on = 0; next }
!on || !/^\|/ { next }
/^\|[-:| ]+\|[ \t]*$/ { next }               # the line under a header
{
    n = split($0, c, "|")                     # c[1] and c[n] are what lies outside the bars
    clause = trim(c[2]); proof = trim(c[n - 1])
    if (clause == "clause") next             # a header
    tests = ""; s = proof
    while (match(s, /test_[a-z0-9_]+:[A-Za-z0-9_]+/)) {
        tests = tests (tests == "" ? "" : " ") substr(s, RSTART, RLENGTH)
        s = substr(s, RSTART + RLENGTH)
    }
    if (tests != "")                    kind = "test"
    else if (proof ~ /^\*\*not met\*\*/)  kind = "notmet"
    else if (proof ~ /^\*\*hardware\*\*/) kind = "hardware"
    else if (proof ~ /^\*\*n\/a\*\*/)     kind = "na"
    else                                  kind = "bad"
    why = proof; gsub(/[*`]/, "", why); sub(/^(not met|hardware|n\/a)[: ]*/, "", why)
    if (length(why) > 60) why = substr(why, 1, 57) "..."
    print clause "\t" kind "\t" tests "\t" (kind == "test" ? "" : why)
}' "$doc" >"$work/rows"
[ -s "$work/rows" ] || { echo "conformance: no table rows between the markers in $doc" >&2; exit 2; }

# ---- each binary once; its tests' results as "binary:test STATUS" ----
start=$(date +%s)
: >"$work/results"
for b in $(cut -f3 "$work/rows" | tr ' ' '\n' | sed -n 's/:.*//p' | sort -u); do
    if [ ! -x "$bin/$b" ]; then
        echo "conformance: $bin/$b is not built" >&2
        echo "$b:* NOT-BUILT" >>"$work/results"
        continue
    fi
    t0=$(date +%s)
    # stdout and stderr apart: cmocka writes OK lines to one and FAILED lines to the other,
    # and a file shared by both could split a line where one buffer ends.
    timeout 600 "$bin/$b" >"$work/$b.out" 2>"$work/$b.err"
    rc=$?
    echo "conformance: $b ran in $(($(date +%s) - t0)) s (status $rc)" >&2
    awk -v b="$b" '
        substr($0, 1, 13) == "[       OK ] " { print b ":" substr($0, 14) " PASS" }
        substr($0, 1, 13) == "[  FAILED  ] " { print b ":" substr($0, 14) " FAILED" }
        substr($0, 1, 13) == "[  SKIPPED ] " { print b ":" substr($0, 14) " SKIPPED" }
    ' "$work/$b.out" "$work/$b.err" >>"$work/results"
done
secs=$(($(date +%s) - start))

# ---- the table, each row with its result ----
awk -F '\t' -v secs="$secs" '
FNR == NR {                                   # results: a failure outweighs a pass
    split($0, r, " "); st = r[2]
    if (!(r[1] in res) || st != "PASS") res[r[1]] = st
    next
}
{
    clause = $1; kind = $2; detail = ""
    if (kind == "test") {
        k = split($3, t, " "); bad = 0
        for (i = 1; i <= k; i++) {
            b = t[i]; sub(/:.*/, "", b)
            if (t[i] in res)           st = res[t[i]]
            else if ((b ":*") in res)  st = "its binary is not built"
            else                       st = "not in its binary'"'"'s output"
            if (st != "PASS") { bad++; detail = detail "\n      " t[i] ": " st }
            ntests[t[i]] = 1
        }
        result = bad ? "FAIL" : "PASS"
        note = k " test" (k == 1 ? "" : "s")
    } else if (kind == "notmet")   { result = "NOT MET";      note = $4 }
    else if (kind == "hardware")   { result = "not testable"; note = "hardware: " $4 }
    else if (kind == "na")         { result = "n/a";          note = $4 }
    else { result = "FAIL"; note = ""; detail = "\n      names no test and gives no reason (**not met**, **hardware**, **n/a**)" }
    count[result]++
    rows++
    printf "%-34s %-13s %s%s\n", clause, result, note, detail
}
BEGIN { printf "%-34s %-13s %s\n", "clause", "result", "proof"
        printf "%-34s %-13s %s\n", "------", "------", "-----" }
END {
    n = 0; for (x in ntests) n++
    printf "\n%d rows: %d PASS, %d FAIL, %d NOT MET, %d not testable (hardware), %d n/a; " \
           "%d tests named, their binaries run in %d s\n", rows, count["PASS"], count["FAIL"], count["NOT MET"],
           count["not testable"], count["n/a"], n, secs
    exit count["FAIL"] > 0
}' "$work/results" "$work/rows"
