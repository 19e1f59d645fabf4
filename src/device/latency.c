/*
 * The kiosk's output latency policy (see latency.h): double the device buffer after underruns,
 * up to a cap, at a moment when reopening the stream drops nothing anyone would hear.
 */
#include "device/latency.h"

void tt_latency_init(struct tt_latency *l, int ms)
{
    l->ms = ms;
    l->seen = 0;
}

int tt_latency_next_ms(int ms, uint64_t underruns)
{
    /* Doubling for each underrun gets a busy machine to what it needs at the first reopen (on
     * a 2-core machine under stress-ng --cpu 4 --io 2, 40 ms still broke up now and then and
     * 90 ms did not; a prompt that broke up 3 times goes from 10 to 80 ms at once), while a
     * stray underrun on a quiet machine costs one doubling. The 10 ms floor moves a device
     * that reports almost no latency. */
    int next = ms;
    for (uint64_t i = 0; i < underruns && next < TT_LATENCY_MAX_MS; i++)
        next = next * 2 > next + 10 ? next * 2 : next + 10;
    return next < TT_LATENCY_MAX_MS ? next : TT_LATENCY_MAX_MS;
}

int tt_latency_step(struct tt_latency *l, uint64_t underruns, bool playing, tt_ms quiet_ms)
{
    if (underruns <= l->seen)
        return 0;
    if (l->ms >= TT_LATENCY_MAX_MS) {
        /* Nothing more to give: the count still goes to the log, but there is nothing to do. */
        l->seen = underruns;
        return 0;
    }
    bool burst = underruns - l->seen >= TT_LATENCY_BURST;
    bool drained = !playing && quiet_ms >= (tt_ms)l->ms + TT_LATENCY_QUIET_MARGIN_MS;
    return burst || drained ? tt_latency_next_ms(l->ms, underruns - l->seen) : 0;
}

void tt_latency_opened(struct tt_latency *l, int asked, int got, uint64_t underruns)
{
    /* A device may give less than asked (PortAudio reports what ALSA set up). Counting the
     * asked latency as done keeps the policy moving towards the cap instead of asking for the
     * same again at every quiet moment. */
    l->ms = got > asked ? got : asked;
    l->seen = underruns;
}
