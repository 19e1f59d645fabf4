#!/bin/sh
# Issue 12's benchmark: how many calls does `tonetree sip` carry on this machine, with the load
# generator beside it, and how close does it come to what the kernel allows? For each N (100,
# 500, 1000, 2000 concurrent calls) it starts the engine afresh, reads its idle memory, has SIPp
# place calls that last about 30 s and press 1 (tests/data/sipp/dtmf_call.xml: two pauses of
# HOLD_MS around an RFC 2833 key), and once N calls are up measures a steady window of
# WINDOW_S seconds: the engine's CPU and memory from /proc, its metrics page, and its RTP send
# times from outside with bench/rtp_capture (the kernel's timestamps on lo). When SIPp is done
# (all its calls, so failed calls count the ramp and the tail too) and the engine stopped, the
# floor runs at the same N for the same window: bench/udp_floor sends and receives the same
# packet rate on bare UDP sockets, watched by the same capture. One table comes out (markdown,
# docs/benchmarks.md says what each column means), and every raw file stays in the run folder.
#
#   scripts/bench-sip.sh             (or: make bench-sip)     about 10 minutes on a quiet machine
#   NS="100 500"  the calls at once to measure (default 100 500 1000 2000)
#   HOLD_MS=15000  each of the call's two pauses; WINDOW_S=20 the steady window; RAMP_S=10 how
#   long SIPp takes to reach N; LOAD_MAX=1.5, LOAD_WAIT_S=600: before each N, wait (at most
#   that long) for the 1-minute load average to fall under LOAD_MAX; PERF=1: after the window,
#   `perf record` the engine for 10 s while the calls are still up (its report, perf.txt, beside
#   the rest; the sampling slows the engine while the last calls are set up, so the set-up
#   times and failed calls of such a run are not the figures)
#
# Runs on a busy machine are not the figures: the load average before each N is in the table,
# marked when the wait ran out, and so is the CPU the rest of the machine took meanwhile.
# Everything is on 127.0.0.1, below the ports the tests take (16384 and up): SIP 5570, metrics
# 5571, SIPp 5572 and its media 5580, RTP 6000-15999 (the floor sends from the same ports once
# the engine is gone). Every process it starts is stopped by its PID, and every wait is
# bounded. Needs root (the capture's AF_PACKET socket), SIPp (sip-tester) and curl.
# Benchmarks report, they never fail on a figure.
set -eu

top=$(git rev-parse --show-toplevel)
cd "$top"
build=${BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
make=${MAKE:-make}
ns=${NS:-100 500 1000 2000}
hold_ms=${HOLD_MS:-15000}
window_s=${WINDOW_S:-20}
ramp_s=${RAMP_S:-10}
load_max=${LOAD_MAX:-1.5}
load_wait_s=${LOAD_WAIT_S:-600}
perf_on=${PERF:-0}
sip_port=5570
metrics_port=5571
sipp_port=5572
sipp_media=5580
rtp_lo=6000
rtp_hi=15999
# TT_SIP_PHASES in src/sip/sip_int.h: the floor spreads its streams over as many send slots
# as the engine spreads its calls, so both send bursts of the same size.
phases=$(awk '$1 == "#define" && $2 == "TT_SIP_PHASES" { print $3 }' src/sip/sip_int.h)
menu=tests/data/sip.ini
scenario=$top/tests/data/sipp/dtmf_call.xml
cache=$build/sip-test-cache
out=$build/bench-sip/$(date +%Y%m%d-%H%M%S)

for tool in sipp curl; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "bench-sip: $tool is not installed (apt-get install sip-tester curl)" >&2
        exit 2
    }
done
[ "$(id -u)" -eq 0 ] || {
    echo "bench-sip: the capture needs root (an AF_PACKET socket on lo)" >&2
    exit 2
}
nice -n 5 "$make" -s --no-print-directory BUILD="$build" "$build/tonetree" \
    "$build/bench/udp_floor" "$build/bench/rtp_capture" >&2
mkdir -p "$out" "$cache"
# 2000 calls are 2000 RTP sockets: the soft limit goes up to the hard one (20000 here).
# shellcheck disable=SC3045 # dash, Debian's sh, has -n and -H
ulimit -n "$(ulimit -Hn)"
hz=$(getconf CLK_TCK)

# ---- processes, each stopped by its own PID ----

eng_pid=
sipp_pid=
cap_pid=
floor_pid=
stop_pid() { # PID SECONDS: TERM, wait at most SECONDS, then KILL
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null || return 0
    i=0
    while kill -0 "$1" 2>/dev/null && [ "$i" -lt $(($2 * 10)) ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {
    stop_pid "$cap_pid" 2
    stop_pid "$floor_pid" 2
    stop_pid "$sipp_pid" 5
    # any signal but TERM: the engine hangs up every call and ends
    [ -n "$eng_pid" ] && kill -INT "$eng_pid" 2>/dev/null && sleep 3
    stop_pid "$eng_pid" 10
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- readings ----

metric() { # NAME [PAGE]: one figure of the engine's metrics page
    curl -s --max-time 2 "http://127.0.0.1:$metrics_port/metrics" |
        awk -v k="$1" '$1 == k { print $2; exit }'
}
metric_file() { # FILE NAME
    awk -v k="$2" '$1 == k { print $2; exit }' "$1"
}
cpu_ticks() { # PID: utime + stime, in clock ticks (fields 14 and 15, after the command's name)
    sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'
}
rss_kb() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}
load1() { cut -d' ' -f1 /proc/loadavg; }
machine_ticks() { # "busy steal": the whole machine's CPU (user nice system irq softirq) in ticks
    awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $9; exit }' /proc/stat
}
median() { # numbers on stdin, one a line
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
pcts() { # numbers on stdin: "p50 p99 max", ranks ceil(q n) as bench/udp_floor's
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "nan nan nan"; exit }
        r50 = int(0.5 * NR); if (r50 < 0.5 * NR || r50 == 0) r50++
        r99 = int(0.99 * NR); if (r99 < 0.99 * NR || r99 == 0) r99++
        print v[r50], v[r99], v[NR] }'
}
kv() { # LINE KEY: the value of key=value in a line of rtp_capture or udp_floor
    echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2; exit }'
}

wait_quiet() { # waits for the load average; prints "LOAD" or "LOAD!" when it never fell
    waited=0
    while :; do
        l=$(load1)
        if awk -v l="$l" -v m="$load_max" 'BEGIN { exit !(l < m) }'; then
            echo "$l"
            return
        fi
        if [ "$waited" -ge "$load_wait_s" ]; then
            echo "$l!"
            return
        fi
        sleep 10
        waited=$((waited + 10))
    done
}

start_engine() { # DIR: the engine, ready, its PID in eng_pid
    "$build/tonetree" sip "$menu" --listen "127.0.0.1:$sip_port" --rtp-ports "$rtp_lo-$rtp_hi" \
        --max-calls 2500 --metrics "127.0.0.1:$metrics_port" --cache "$cache" \
        --log "$1/calls.log" >"$1/engine.out" 2>"$1/engine.err" &
    eng_pid=$!
    i=0
    until grep -q "listening on" "$1/engine.err" 2>/dev/null; do
        if ! kill -0 "$eng_pid" 2>/dev/null || [ "$i" -ge 6000 ]; then
            echo "bench-sip: the engine did not start; its messages:" >&2
            cat "$1/engine.err" >&2
            exit 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
}

# ---- the prompt store: prepared once before anything is measured ----

echo "bench-sip: preparing the prompts (the first start synthesizes them), results in $out" >&2
mkdir -p "$out/warm"
start_engine "$out/warm"
stop_pid "$eng_pid" 30
eng_pid=

table=$out/table.md
{
    echo "| N | load | others' CPU, engine / floor | calls up | failed / placed | keys heard | set-up p50 / p99 / max ms | engine CPU | CPU per call-s | SIPp CPU | RSS per call | heap per call | engine send error p50 / p99 / max ms (capture) | (its histogram) | late > 5 ms | floor p50 / p99 / max ms (capture) | (its own clock) | floor CPU per stream-s, send / all |"
    echo "|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---|---:|---|---|---|"
} >"$table"

for n in $ns; do
    d=$out/n$n
    mkdir -p "$d"
    load=$(wait_quiet)
    echo "bench-sip: N=$n, load average $load" >&2
    cat /proc/loadavg >"$d/loadavg.before"

    # -- the engine, idle --
    start_engine "$d"
    sleep 3
    rss_idle=$(rss_kb "$eng_pid")
    heap_idle=$(metric tonetree_heap_bytes)
    echo "rss_kb=$rss_idle heap_bytes=$heap_idle" >"$d/idle.txt"

    # -- SIPp: N calls at once, reached in RAMP_S, 2N calls in all (the first N end after
    # about 30 s and as many take their places, so N stay up well past the window) --
    rate=$(((n + ramp_s - 1) / ramp_s))
    calls=$((2 * n))
    call_s=$((2 * hold_ms / 1000 + 2))
    sipp_limit_s=$((ramp_s + 2 * call_s + 60))
    (cd "$d" && exec sipp -sf "$scenario" -i 127.0.0.1 -p "$sipp_port" -mp "$sipp_media" \
        -d "$hold_ms" -l "$n" -r "$rate" -m "$calls" -nostdin -timeout "${sipp_limit_s}s" \
        -timeout_error -trace_stat -fd 5 -trace_rtt -rtt_freq 1 -trace_screen -trace_err \
        "127.0.0.1:$sip_port" >sipp.out 2>&1) &
    sipp_pid=$!
    t_sipp=$(date +%s)

    # -- wait for N calls up (bounded), then a few seconds more for the ramp to settle --
    up=0
    i=0
    while [ "$i" -lt $((ramp_s * 3 + 20)) ]; do
        up=$(metric tonetree_calls_active)
        [ "${up:-0}" -ge "$n" ] && break
        sleep 1
        i=$((i + 1))
    done
    sleep 3

    # -- the steady window: RSS every second from /proc (the engine does nothing for it); the
    # metrics page only three times, as building it reads /proc/self/fd (a descriptor a call)
    # and walks malloc's arenas, on the same thread that sends the packets --
    cat /proc/loadavg >"$d/loadavg.window"
    "$build/bench/rtp_capture" "$rtp_lo" "$rtp_hi" "$window_s" >"$d/capture.txt" 2>&1 &
    cap_pid=$!
    curl -s --max-time 2 "http://127.0.0.1:$metrics_port/metrics" >"$d/metrics.start"
    c0=$(cpu_ticks "$eng_pid")
    s0=$(cpu_ticks "$sipp_pid")
    m0=$(machine_ticks)
    t0=$(date +%s.%N)
    : >"$d/rss"
    i=0
    while [ "$i" -lt "$window_s" ]; do
        sleep 1
        rss_kb "$eng_pid" >>"$d/rss"
        i=$((i + 1))
        if [ "$i" -eq $((window_s / 2)) ]; then
            curl -s --max-time 2 "http://127.0.0.1:$metrics_port/metrics" >"$d/metrics.mid"
        fi
    done
    c1=$(cpu_ticks "$eng_pid")
    s1=$(cpu_ticks "$sipp_pid")
    m1=$(machine_ticks)
    t1=$(date +%s.%N)
    curl -s --max-time 2 "http://127.0.0.1:$metrics_port/metrics" >"$d/metrics.end"
    wait "$cap_pid" || true
    cap_pid=
    if [ "$perf_on" = 1 ] && command -v perf >/dev/null 2>&1; then
        # (the report is made at the end: unwinding the stacks takes a core for a while)
        perf record -q -F 499 --call-graph dwarf,16384 -p "$eng_pid" -o "$d/perf.data" \
            -- sleep 10 >/dev/null 2>&1 || true
    fi

    # -- SIPp to its end (bounded by its own -timeout, and by this) --
    while kill -0 "$sipp_pid" 2>/dev/null && [ $(($(date +%s) - t_sipp)) -lt $((sipp_limit_s + 30)) ]; do
        sleep 1
    done
    stop_pid "$sipp_pid" 5
    sipp_pid=
    curl -s --max-time 2 "http://127.0.0.1:$metrics_port/metrics" >"$d/metrics.after"
    stop_pid "$eng_pid" 30
    eng_pid=

    # -- the floor: the same streams on bare sockets, watched the same way --
    cat /proc/loadavg >"$d/loadavg.floor"
    "$build/bench/rtp_capture" "$rtp_lo" "$rtp_hi" $((window_s + 2)) >"$d/floor-capture.txt" 2>&1 &
    cap_pid=$!
    sleep 0.5
    f0=$(machine_ticks)
    ft0=$(date +%s.%N)
    "$build/bench/udp_floor" "$n" "$window_s" "$phases" "$rtp_lo" >"$d/floor.txt" 2>&1 || true
    f1=$(machine_ticks)
    ft1=$(date +%s.%N)
    wait "$cap_pid" || true
    cap_pid=

    # -- one row --
    stat=
    for f in "$d"/*_.csv; do stat=$f; done
    failed=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "FailedCall(C)") c = i }
                        END { print $c }' "$stat" 2>/dev/null)
    placed=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "TotalCallCreated") c = i }
                        END { print $c }' "$stat" 2>/dev/null)
    # SIPp counts whole milliseconds: 0 is under 1 ms
    setup=$(tail -n +2 "$d"/*_rtt.csv 2>/dev/null | cut -d';' -f2 | pcts |
        awk '{ for (i = 1; i <= NF; i++) $i = $i == 0 ? "<1" : $i; print }' | tr ' ' '/')
    logged=$(grep -c "call-id=" "$d/calls.log" 2>/dev/null || true)
    heard=$(grep -c "nodes=main>info" "$d/calls.log" 2>/dev/null || true)
    secs=$(echo "$t0 $t1" | awk '{ print $2 - $1 }')
    for w in start mid end; do
        metric_file "$d/metrics.$w" tonetree_calls_active
    done >"$d/calls_up"
    calls_avg=$(awk '{ s += $1 } END { print NR ? s / NR : 0 }' "$d/calls_up")
    calls_min=$(sort -g "$d/calls_up" | head -1)
    rss_n=$(median <"$d/rss")
    heap_n=$(for w in start mid end; do metric_file "$d/metrics.$w" tonetree_heap_bytes; done | median)
    eng_cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" -v s="$secs" 'BEGIN { printf "%.0f%%", 100 * (b - a) / hz / s }')
    per_call=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" -v s="$secs" -v c="$calls_avg" 'BEGIN { printf "%.0f us", c ? 1e6 * (b - a) / hz / (s * c) : 0 }')
    sipp_cpu=$(awk -v a="$s0" -v b="$s1" -v hz="$hz" -v s="$secs" 'BEGIN { printf "%.0f%%", 100 * (b - a) / hz / s }')
    rss_call=$(awk -v a="$rss_idle" -v b="$rss_n" -v c="$calls_avg" 'BEGIN { printf "%.1f KB", c ? (b - a) / c : 0 }')
    heap_call=$(awk -v a="$heap_idle" -v b="$heap_n" -v c="$calls_avg" 'BEGIN { printf "%.1f KB", c ? (b - a) / 1024 / c : 0 }')
    cap=$(cat "$d/capture.txt")
    fcap=$(cat "$d/floor-capture.txt")
    floor=$(cat "$d/floor.txt")
    # The rest of the machine while each was measured: everything busy less what this run's own
    # programs took (the engine, SIPp and the capture; the floor and its capture), in % of a core.
    # The machine's figure is sampled at the timer tick and the programs' are exact, so it is
    # good to about 5% of a core; under 3% reads "~0%". From 30% on it is marked "!": the
    # window shared the machine's second core with someone else's work, and its figures are
    # not the engine's (nor the floor's).
    pct() { awk -v v="$1" 'BEGIN { if (v < 3) print "~0%"; else printf "%.0f%%%s\n", v, (v >= 30 ? "!" : "") }'; }
    others=$(pct "$(echo "$m0 $m1" | awk -v e="$((c1 - c0 + s1 - s0))" -v cap="$(kv "$cap" cpu_s)" \
        -v hz="$hz" -v s="$secs" '{ print 100 * (($3 - $1 - e) / hz - cap) / s }')")
    fsecs=$(echo "$ft0 $ft1" | awk '{ print $2 - $1 }')
    fothers=$(pct "$(echo "$f0 $f1" | awk -v own="$(kv "$floor" cpu_us_per_stream_s)" -v n="$n" \
        -v w="$window_s" -v cap="$(kv "$fcap" cpu_s)" -v hz="$hz" -v s="$fsecs" \
        '{ print 100 * (($3 - $1) / hz - own * n * w / 1e6 - cap) / s }')")
    steal=$(echo "$m0 $m1 $f0 $f1" | awk -v hz="$hz" -v s="$secs" -v fs="$fsecs" \
        '{ printf "%.0f%% / %.0f%%", 100 * ($4 - $2) / hz / s, 100 * ($8 - $6) / hz / fs }')
    echo "others=$others floor_others=$fothers steal=$steal" >"$d/machine.txt"
    q() { awk -v v="$(metric_file "$d/metrics.end" "tonetree_packet_send_late_seconds{quantile=\"$1\"}")" 'BEGIN { printf "%.2f", v * 1000 }'; }
    hist="$(q 0.5) / $(q 0.99) / $(q 1)"
    late=$(awk -v s0="$(metric_file "$d/metrics.start" tonetree_packets_sent_total)" \
               -v s1="$(metric_file "$d/metrics.end" tonetree_packets_sent_total)" \
               -v l0="$(metric_file "$d/metrics.start" tonetree_packets_late_total)" \
               -v l1="$(metric_file "$d/metrics.end" tonetree_packets_late_total)" \
               'BEGIN { printf "%.2f%%", (s1 > s0) ? 100 * (l1 - l0) / (s1 - s0) : 0 }')
    ms3() { printf "%.2f / %.2f / %.2f" "$(kv "$1" "$2"p50_ms)" "$(kv "$1" "$2"p99_ms)" "$(kv "$1" "$2"max_ms)"; }
    drops=$(kv "$cap" kernel_drops)
    [ "${drops:-0}" = 0 ] && dropnote= || dropnote=" ($drops dropped)"
    printf '| %s | %s | %s / %s | %s | %s / %s | %s / %s | %s | %s | %s | %s | %s | %s | %s%s | %s | %s | %s | %s | %s / %s us |\n' \
        "$n" "$load" "$others" "$fothers" "$calls_min" "${failed:-?}" "${placed:-?}" "$heard" "$logged" \
        "$(echo "$setup" | sed 's#/# / #g')" "$eng_cpu" "$per_call" "$sipp_cpu" "$rss_call" \
        "$heap_call" "$(ms3 "$cap" err_)" "$dropnote" "$hist" "$late" "$(ms3 "$fcap" err_)" \
        "$(ms3 "$floor" send_err_)" "$(kv "$floor" cpu_send_us_per_stream_s)" \
        "$(kv "$floor" cpu_us_per_stream_s)" >>"$table"
    tail -1 "$table" >&2
done

for n in $ns; do
    [ -f "$out/n$n/perf.data" ] || continue
    perf report -i "$out/n$n/perf.data" --stdio --no-children --percent-limit 1 \
        >"$out/n$n/perf.txt" 2>/dev/null || true
done

echo
for n in $ns; do
    awk -v n="$n" -F'[= ]' '{ printf "N=%s: the engine idle (every prompt prepared, no call): RSS %.0f MB, heap %.0f MB\n", n, $2 / 1024, $4 / 1048576 }' "$out/n$n/idle.txt"
done
echo
echo "tonetree sip, SIPp beside it on this machine ($(nproc) cores), $(date +%Y-%m-%d); raw files in $out"
echo
cat "$table"
