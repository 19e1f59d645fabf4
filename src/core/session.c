/*
 * The session: where one listener is in a menu, and what the engine says next.
 *
 * It is a pure state machine. Drivers hand it events that carry their own time (a key, "the
 * audio you asked for has finished", "time passed") and take events out (say this, stop,
 * the session is over), so the same code runs at a kiosk, on a phone line and offline, and
 * every rule here is testable to the millisecond without a sound card or a clock.
 *
 * A prompt is a short list of parts (the node's own text, then the choices the engine composes)
 * said one after another with a short pause between them. Any key stops speech at once. After
 * a prompt, the session waits; silence or a wrong key counts as a try, and after the menu's
 * number of tries the listener is taken to help, so nobody is left in a dead end or silence.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mask.h"
#include "base/strbuf.h"
#include "core/compose.h"
#include "core/menu.h"
#include "core/phrase.h"

#define MAX_PARTS (5 + TT_MAX_LANGS) /* a text caller's first prompt has one part more */

/* Speech speeds in percent of normal, slowest first: small steps near normal, where most
 * listeners settle, and the default in the middle. */
static const int speeds[] = {50, 60, 70, 85, 100, 115, 130, 150, 175};
#define N_SPEEDS (int)(sizeof(speeds) / sizeof(speeds[0]))
#define SPEED_DEFAULT TT_SPEED_DEFAULT
_Static_assert(sizeof(speeds) / sizeof(speeds[0]) == TT_SPEED_LEVELS, "tonetree.h's count");

/* An entry that filled up ends at once; a pound key this soon after it is the one the
 * listener was asked to press at the end, not a wish to hear the read-back again. */
#define FULL_ENTRY_POUND_MS 2000
#define QUEUE_LEN 32
#define HELP_NODE (-1)

struct part {
    enum tt_part kind;
    int node;
    int lang;
    char *text;
    char *shown; /* what transcripts show when it differs (a masked entry), or NULL */
    bool slow;   /* said a step slower than the listener's speed (digits read back) */
    enum tt_privacy privacy;
};

struct prompt {
    struct part part[MAX_PARTS];
    size_t n;
};

enum state {
    ST_IDLE,     /* not started */
    ST_SPEAKING, /* a part is playing; the driver will call done */
    ST_PAUSE,    /* between parts, or before the answer to a key */
    ST_WAITING,  /* the prompt is over: waiting for a key until the deadline */
    ST_ENDED
};

struct tt_session {
    const tt_menu *m;
    tt_phrases *ph[TT_MAX_LANGS];
    struct tt_session_opts opts;

    int lang;
    int node;     /* where the listener is; in help, where they return to */
    unsigned char *seen; /* per node: heard once already, so a return gets its short text */
    bool greet;   /* the next say_node is a first arrival: the way out and the languages first */
    bool full;    /* the next say_node says the long text even on a return */
    bool in_help;
    struct tt_help_menu help;
    int *hist;    /* the nodes the listener came through, oldest first: * walks it back */
    size_t nhist, caphist;
    int tries;    /* silent or invalid tries since the last good key */
    bool warned;  /* the last prompt asked "are you still there?" */
    bool ending;  /* saying goodbye: the session ends when it is done */
    int browse;   /* the item up/down is on (index into tt_browse_items), or -1 */
    int volume;   /* level, 0 .. TT_VOLUME_LEVELS - 1 */
    int speed;    /* index into speeds[] */
    bool paused;  /* nothing is said until a key */
    struct prompt saved; /* what pausing interrupted, said again on resume */
    bool asleep;  /* left idle at a kiosk: silent at the start until a key */
    bool transfer_due; /* the prompt is a transfer node's: when it has been heard, transfer */
    bool transferring; /* a transfer was asked of the driver, and not answered yet */
    bool text;    /* the listener reads and types (a TTY, real-time text): longer waits */
    enum { EN_NONE, EN_COLLECT, EN_CONFIRM, EN_LOOKUP, EN_RESULT } en; /* digit entry */
    char entry[TT_ENTRY_MAX + 1];
    size_t nentry;
    bool result_ok; /* the lookup's answer, for EN_RESULT */
    bool result_failed; /* the service failed, rather than finding nothing */
    char *result;
    tt_ms full_at;  /* when an entry last filled up (its max digits), or -1 */
    tt_ms last_key; /* for the idle timer */

    /* Two prompt slots, used in turn: a SAY event may still point at the old prompt's words
     * until the driver drains it, so the old slot is only reused one prompt later. */
    struct prompt prompts[2];
    int cur;
    size_t part; /* the part playing, or the next to play */

    enum state st;
    tt_ms deadline;

    struct tt_event q[QUEUE_LEN];
    size_t qhead, qlen;
    unsigned long lost; /* events dropped because the driver did not drain */
};

/* ---- events out ------------------------------------------------------------------------------ */

static void start_transfer(tt_session *s, tt_ms now);
static char *text_intro(const tt_session *s);

static void emit(tt_session *s, enum tt_event_type type, tt_ms at, int node)
{
    /* One call emits a handful of events; a driver drains after every call (tonetree.h), so
     * the queue never fills. One that does not loses its oldest events, counted, not hidden:
     * tt_session_events_lost says so. (Growing the queue would not help it: a SAY's words are
     * only valid until the next call.) */
    if (s->qlen == QUEUE_LEN) {
        s->qhead = (s->qhead + 1) % QUEUE_LEN, s->qlen--;
        s->lost++;
    }
    struct tt_event *ev = &s->q[(s->qhead + s->qlen++) % QUEUE_LEN];
    memset(ev, 0, sizeof(*ev));
    ev->type = type;
    ev->at = at;
    ev->node = node;
    ev->lang = s->lang;
}

static struct tt_event *last_event(tt_session *s)
{
    return &s->q[(s->qhead + s->qlen - 1) % QUEUE_LEN];
}

bool tt_session_next_event(tt_session *s, struct tt_event *ev)
{
    if (!s->qlen)
        return false;
    *ev = s->q[s->qhead];
    s->qhead = (s->qhead + 1) % QUEUE_LEN;
    s->qlen--;
    return true;
}

/* ---- prompts ------------------------------------------------------------------------------------ */

static struct prompt *prompt_now(tt_session *s)
{
    return &s->prompts[s->cur];
}

/* Free a string; personal words are cleared first, so they do not linger in freed memory. */
static void free_words(char *w, enum tt_privacy privacy)
{
    if (w && privacy != TT_PUBLIC)
        memset(w, 0, strlen(w));
    free(w);
}

static void prompt_clear(struct prompt *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free_words(p->part[i].text, p->part[i].privacy);
        free_words(p->part[i].shown, p->part[i].privacy);
    }
    p->n = 0;
}

static struct prompt *prompt_new(tt_session *s)
{
    s->transfer_due = false; /* only the prompt of a transfer node leads to a transfer */
    s->cur ^= 1;
    prompt_clear(prompt_now(s));
    return prompt_now(s);
}

/* Takes text (may be NULL when composing ran out of memory: that part is then not said). */
static void prompt_add(tt_session *s, enum tt_part kind, int node, int lang, char *text)
{
    struct prompt *p = prompt_now(s);
    if (!text || !*text || p->n == MAX_PARTS) {
        free(text);
        return;
    }
    p->part[p->n++] = (struct part){kind, node, lang, text, NULL, false, TT_PUBLIC};
}

/* A node's own words, with what the eye gets when the menu wrote it differently (say-as
 * marks: a number spoken digit by digit, shown as written). */
static void prompt_add_words(tt_session *s, enum tt_part kind, int node, int lang,
                             const char *text, const char *shown)
{
    prompt_add(s, kind, node, lang, strdup(text));
    struct prompt *p = prompt_now(s);
    if (shown && p->n && p->part[p->n - 1].node == node && p->part[p->n - 1].kind == kind)
        p->part[p->n - 1].shown = strdup(shown);
}

/* Words made from what the listener did (takes both strings; shown may be NULL only when
 * the words are not sensitive: a sensitive part is never without its masked form). */
static void prompt_add_personal(tt_session *s, int node, char *text, char *shown,
                                enum tt_privacy privacy)
{
    struct prompt *p = prompt_now(s);
    if (!text || !*text || (privacy == TT_SENSITIVE && !shown) || p->n == MAX_PARTS) {
        free_words(text, privacy);
        free_words(shown, privacy);
        return;
    }
    p->part[p->n++] = (struct part){TT_PART_ENGINE, node, s->lang, text, shown, false, privacy};
}

static void say_part(tt_session *s, tt_ms now)
{
    const struct part *pt = &prompt_now(s)->part[s->part];
    emit(s, TT_EV_SAY, now, pt->node);
    struct tt_event *ev = last_event(s);
    ev->lang = pt->lang;
    ev->part = pt->kind;
    ev->first = s->part == 0;
    ev->text = pt->text;
    ev->shown = pt->shown;
    ev->privacy = pt->privacy;
    ev->speed = speeds[pt->slow && s->speed > 0 ? s->speed - 1 : s->speed];
    s->st = ST_SPEAKING;
    s->deadline = TT_NEVER;
}

/* How long a try lasts: a caller who reads and types needs longer than one who listens and
 * presses (a TTY sends about six characters a second, and the prompt is read, not heard). */
static tt_ms wait_ms(const tt_session *s)
{
    return s->text ? s->m->text_timeout : s->m->timeout;
}

static void wait_for_key(tt_session *s, tt_ms now)
{
    s->st = ST_WAITING;
    /* Paused or asleep, silence is what the listener asked for: no try is counted. */
    s->deadline = s->paused || s->asleep ? TT_NEVER : now + wait_ms(s);
}

/* Start saying the current prompt from part `from`, after `delay` ms of quiet. */
static void prompt_start(tt_session *s, size_t from, tt_ms now, tt_ms delay)
{
    s->part = from;
    if (s->part >= prompt_now(s)->n) {
        wait_for_key(s, now);
    } else if (delay > 0) {
        s->st = ST_PAUSE;
        s->deadline = now + delay;
    } else {
        say_part(s, now);
    }
}

static int back_target(const tt_session *s)
{
    return s->nhist ? s->hist[s->nhist - 1] : -1;
}

static void add_choices(tt_session *s, int node)
{
    /* Typing, 9 is a digit: the choices then also say how to leave. */
    prompt_add(s, TT_PART_ENGINE, node, s->lang,
               s->en == EN_COLLECT
                   ? tt_compose_choices(s->m, s->ph, s->lang, node, back_target(s))
                   : tt_compose_way_on(s->m, s->ph, s->lang, node, back_target(s)));
}

/*
 * The node's own words, then its choices. Arriving at the start for the first time, the
 * listener first hears how to leave (someone may walk in at any moment) and then each other
 * language offered in its own words and voice, so that nobody waits through a welcome in a
 * language they do not understand. A node heard before says its short text, if it has one:
 * the repeat key, a new language and a fresh session say the whole text.
 */
static void say_node(tt_session *s, tt_ms now, tt_ms delay)
{
    const tt_menu *m = s->m;
    const struct tt_node *n = &m->nodes[s->node];
    bool full = s->full || !s->seen[s->node] || !n->brief[s->lang];
    prompt_new(s);
    if (s->greet && s->text)
        prompt_add(s, TT_PART_ENGINE, s->node, s->lang, text_intro(s));
    if (s->greet) {
        prompt_add(s, TT_PART_ENGINE, s->node, s->lang,
                   tt_compose_phrase(m, s->ph[s->lang], TT_PH_END_HINT, 0));
        for (size_t l = 0; s->node == m->start && l < m->nlangs; l++)
            if ((int)l != s->lang && m->lang_key[l])
                prompt_add(s, TT_PART_ENGINE, s->node, (int)l,
                           tt_compose_phrase(m, s->ph[l], TT_PH_HELP_LANGUAGE, m->lang_key[l]));
    }
    if (full)
        prompt_add_words(s, TT_PART_BODY, s->node, s->lang, n->text[s->lang],
                         n->shown[s->lang]);
    else
        prompt_add_words(s, TT_PART_BRIEF, s->node, s->lang, n->brief[s->lang],
                         n->brief_shown[s->lang]);
    s->seen[s->node] = 1;
    s->greet = s->full = false;
    if (n->transfer)
        s->transfer_due = true; /* its words say where the caller goes: then they go */
    else
        add_choices(s, s->node);
    prompt_start(s, 0, now, delay);
}

/* A phrase (with a key named in it), then the node's choices again. The choices are a part
 * of their own so that their audio is the same clip every time (prepared, cached). */
static void say_phrase_then_choices(tt_session *s, enum tt_phrase_id id, int key, tt_ms now,
                                    tt_ms delay)
{
    prompt_new(s);
    prompt_add(s, TT_PART_ENGINE, s->node, s->lang,
               tt_compose_phrase(s->m, s->ph[s->lang], id, key));
    add_choices(s, s->node);
    prompt_start(s, 0, now, delay);
}

static void say_help(tt_session *s, int lead, char invalid_key, tt_ms now, tt_ms delay)
{
    prompt_new(s);
    if (invalid_key)
        prompt_add(s, TT_PART_ENGINE, HELP_NODE, s->lang,
                   tt_compose_phrase(s->m, s->ph[s->lang], TT_PH_INVALID, invalid_key));
    prompt_add(s, TT_PART_ENGINE, HELP_NODE, s->lang,
               tt_compose_help(s->m, s->ph, s->lang, &s->help, lead));
    /* Each language offers itself in its own words and voice. */
    for (size_t i = 0; i < s->help.n; i++) {
        const struct tt_help_item *it = &s->help.item[i];
        if (it->action == TT_HELP_LANGUAGE)
            prompt_add(s, TT_PART_ENGINE, HELP_NODE, it->lang,
                       tt_compose_phrase(s->m, s->ph[it->lang], TT_PH_HELP_LANGUAGE, it->key));
    }
    prompt_add(s, TT_PART_ENGINE, HELP_NODE, s->lang,
               tt_compose_help_tail(s->m, s->ph[s->lang]));
    prompt_start(s, 0, now, delay);
}

/* ---- moving about ---------------------------------------------------------------------------- */

static void good_key(tt_session *s)
{
    s->tries = 0;
    s->warned = false;
}

static int hist_push(tt_session *s, int node)
{
    if (s->nhist == s->caphist) {
        size_t cap = s->caphist ? s->caphist * 2 : 16;
        int *h = realloc(s->hist, cap * sizeof(*h));
        if (!h)
            return ENOMEM;
        s->hist = h;
        s->caphist = cap;
    }
    s->hist[s->nhist++] = node;
    return 0;
}

/* An entry may be someone's case number: clear it, do not just forget its length. */
static void entry_forget(tt_session *s)
{
    memset(s->entry, 0, sizeof(s->entry));
    s->nentry = 0;
    if (s->result)
        memset(s->result, 0, strlen(s->result));
    free(s->result);
    s->result = NULL;
    s->en = EN_NONE;
    s->full_at = -1;
}

/* Move to a node and say it. push: the listener chose it, so * comes back here. */
static void go(tt_session *s, int node, bool push, tt_ms now, tt_ms delay)
{
    /* Out of memory, the way back is lost but the listener still moves and still hears. */
    if (push)
        (void)hist_push(s, s->node);
    s->node = node;
    s->in_help = false;
    s->browse = -1;
    entry_forget(s);
    s->en = s->m->nodes[node].input ? EN_COLLECT : EN_NONE;
    emit(s, TT_EV_GO, now, node);
    say_node(s, now, delay);
}

static void enter_help(tt_session *s, int lead, tt_ms now, tt_ms delay)
{
    s->in_help = true;
    tt_help_build(s->m, s->lang, false, &s->help);
    emit(s, TT_EV_HELP, now, HELP_NODE);
    last_event(s)->count = lead >= 0 ? s->tries : 0;
    s->tries = 0;
    s->warned = false;
    say_help(s, lead, 0, now, delay);
}

static void end_session(tt_session *s, tt_ms now)
{
    s->transferring = s->transfer_due = false;
    s->st = ST_ENDED;
    s->deadline = TT_NEVER;
    emit(s, TT_EV_END, now, s->in_help ? HELP_NODE : s->node);
}

static void wipe(tt_session *s)
{
    /* Whatever the listener did must not outlive them: clear the path, not just shorten it. */
    if (s->hist)
        memset(s->hist, 0, s->caphist * sizeof(*s->hist));
    s->nhist = 0;
    s->tries = 0;
    s->warned = false;
    s->in_help = false;
    s->ending = false;
    s->transferring = s->transfer_due = false;
    s->browse = -1;
    s->paused = false;
    s->text = false; /* the next person at a kiosk may listen */
    prompt_clear(&s->saved);
    entry_forget(s);
    s->lang = s->opts.lang;
    s->node = s->m->start;
    memset(s->seen, 0, s->m->nnodes);
    s->greet = true; /* the next person is new here */
    s->full = false;
}

/* Volume and speed go back to their defaults with everything else; the driver is told. */
static void wipe_settings(tt_session *s, tt_ms now)
{
    s->volume = TT_VOLUME_DEFAULT;
    s->speed = SPEED_DEFAULT;
    emit(s, TT_EV_VOLUME, now, s->node);
    last_event(s)->count = s->volume;
    emit(s, TT_EV_SPEED, now, s->node);
    last_event(s)->count = speeds[s->speed];
}

/* A kiosk nobody is using: forget the last person and wait, silent, for the next. */
static void fall_asleep(tt_session *s, tt_ms now, int why)
{
    /* The rest of a prompt must not play on to the next person (a key has stopped it
     * already: the end key). */
    if (s->st == ST_SPEAKING && why)
        emit(s, TT_EV_STOP, now, prompt_now(s)->part[s->part].node);
    wipe(s);
    emit(s, TT_EV_RESET, now, s->node);
    last_event(s)->count = why; /* 0: the end key, 1: left idle */
    wipe_settings(s, now);
    s->asleep = true;
    prompt_new(s);
    wait_for_key(s, now);
}

static void end_key(tt_session *s, tt_ms now)
{
    /* At a kiosk the end key is the quick exit: someone may be looking over the listener's
     * shoulder, so nothing about the topic may be heard or seen after it. The kiosk wipes and
     * falls silent, as after an idle time, until the next key. */
    if (s->opts.end_mode == TT_END_RESET) {
        fall_asleep(s, now, 0);
        return;
    }
    s->ending = true;
    s->transferring = false; /* a transfer under way is abandoned: the caller is leaving */
    entry_forget(s); /* the call is over: nothing the caller typed is needed again */
    prompt_new(s);
    prompt_add(s, TT_PART_ENGINE, s->in_help ? HELP_NODE : s->node, s->lang,
               tt_compose_phrase(s->m, s->ph[s->lang], TT_PH_GOODBYE, 0));
    prompt_start(s, 0, now, 0);
    if (s->st == ST_WAITING) /* nothing to say: end now */
        end_session(s, now);
}

static void back_key(tt_session *s, tt_ms now, tt_ms delay)
{
    const struct tt_node *n = &s->m->nodes[s->node];
    if (n->prev >= 0) {
        go(s, n->prev, false, now, delay);
    } else if (s->nhist) {
        int to = s->hist[--s->nhist];
        go(s, to, false, now, delay);
    } else {
        say_phrase_then_choices(s, TT_PH_AT_START, 0, now, delay);
    }
}

/* The node's own words in a prompt, at or after part `from`, or p->n when there are none. */
static size_t body_at_or_after(const struct prompt *p, size_t from)
{
    for (size_t i = from; i < p->n; i++)
        if (p->part[i].kind != TT_PART_ENGINE)
            return i;
    return p->n;
}

static void skip_key(tt_session *s, bool interrupted, tt_ms now, tt_ms delay)
{
    const struct tt_node *n = &s->m->nodes[s->node];
    const struct prompt *p = prompt_now(s);
    if (s->transfer_due) {
        start_transfer(s, now); /* skipping the words that say where: they go at once */
        return;
    }
    if (!s->in_help && n->next >= 0) {
        go(s, n->next, false, now, delay);
    } else if (!s->in_help && n->prev >= 0 && s->nhist) {
        /* The last page: moving on leaves the sequence for where the listener entered it. */
        int to = s->hist[--s->nhist];
        go(s, to, false, now, delay);
    } else if (interrupted && body_at_or_after(p, s->part) < p->n) {
        /* skip the text (and the greeting before it), keep the choices */
        prompt_start(s, body_at_or_after(p, s->part) + 1, now, delay);
    } else {
        wait_for_key(s, now); /* nothing left to skip: wait afresh */
    }
}

static void invalid_key(tt_session *s, int key, tt_ms now, tt_ms delay)
{
    if (s->warned || key >= TT_KEY_UP) {
        /* A named key this session has no use for is not the listener's mistake either. */
        /* After "press any key for more time", this was that key, not a mistake. */
        good_key(s);
        prompt_new(s);
        add_choices(s, s->node);
        prompt_start(s, 0, now, delay);
        return;
    }
    emit(s, TT_EV_INVALID, now, s->node);
    last_event(s)->key = key;
    bool announcing = s->transfer_due;
    if (++s->tries >= s->m->tries) {
        enter_help(s, TT_PH_TO_HELP, now, delay);
    } else if (announcing) {
        /* A stray key while a transfer node says where the caller goes: say so, then the
         * words again, and the transfer follows them as before (its choices are for after a
         * transfer that failed). */
        const struct tt_node *n = &s->m->nodes[s->node];
        prompt_new(s);
        prompt_add(s, TT_PART_ENGINE, s->node, s->lang,
                   tt_compose_phrase(s->m, s->ph[s->lang], TT_PH_INVALID, key));
        prompt_add_words(s, TT_PART_BODY, s->node, s->lang, n->text[s->lang],
                         n->shown[s->lang]);
        s->transfer_due = true;
        prompt_start(s, 0, now, delay);
    } else {
        say_phrase_then_choices(s, TT_PH_INVALID, key, now, delay);
    }
}

/* The path from the top: the nodes chosen on the way, then (for a page) the page that
 * began its sequence, then where the listener is. */
static char *say_where(tt_session *s)
{
    size_t base = s->nhist;
    int head = s->node;
    while (s->m->nodes[head].prev >= 0)
        head = s->m->nodes[head].prev;
    bool ok = true;
    if (head != s->node && (!s->nhist || s->hist[s->nhist - 1] != head))
        ok = !hist_push(s, head);
    ok = ok && !hist_push(s, s->node);
    char *where = ok ? tt_compose_where(s->m, s->ph[s->lang], s->lang, s->hist, s->nhist)
                     : NULL;
    s->nhist = base;
    return where;
}

/* ---- the listener's controls: speed, volume, pause; browsing ---------------------------- */

/* A copy of the current prompt's parts from `from` on, to be said again later. */
static void copy_rest(tt_session *s, size_t from, struct prompt *to)
{
    const struct prompt *p = prompt_now(s);
    for (size_t i = from; i < p->n && to->n < MAX_PARTS; i++) {
        char *text = strdup(p->part[i].text);
        char *shown = p->part[i].shown ? strdup(p->part[i].shown) : NULL;
        if (text && (shown || !p->part[i].shown))
            to->part[to->n++] = (struct part){p->part[i].kind, p->part[i].node,
                                              p->part[i].lang, text, shown, p->part[i].slow,
                                              p->part[i].privacy};
        else
            free_words(text, p->part[i].privacy), free_words(shown, p->part[i].privacy);
    }
}

/* The part a key cut off, and what came after it: where the listener was in the prompt. */
static size_t cut_part(tt_session *s, bool interrupted)
{
    return interrupted || s->st == ST_PAUSE ? s->part : prompt_now(s)->n;
}

/* Say a short confirmation, then go on with what was being said (from the start of the part
 * that was cut off), so a change of volume or speed never loses the listener's place. */
static void confirm_then_go_on(tt_session *s, enum tt_phrase_id said, bool interrupted,
                               tt_ms now)
{
    struct prompt rest = {0};
    if (!s->in_help)
        copy_rest(s, cut_part(s, interrupted), &rest);
    prompt_new(s);
    prompt_add(s, TT_PART_ENGINE, s->in_help ? HELP_NODE : s->node, s->lang,
               tt_compose_phrase(s->m, s->ph[s->lang], said, 0));
    struct prompt *p = prompt_now(s);
    for (size_t i = 0; i < rest.n; i++)
        if (p->n < MAX_PARTS)
            p->part[p->n++] = rest.part[i];
        else
            free_words(rest.part[i].text, rest.part[i].privacy),
                free_words(rest.part[i].shown, rest.part[i].privacy);
    prompt_start(s, 0, now, 0);
}

static void pause_key(tt_session *s, bool interrupted, tt_ms now)
{
    prompt_clear(&s->saved);
    if (!s->in_help)
        copy_rest(s, cut_part(s, interrupted), &s->saved);
    s->paused = true;
    emit(s, TT_EV_PAUSE, now, s->in_help ? HELP_NODE : s->node);
    prompt_new(s);
    prompt_add(s, TT_PART_ENGINE, s->in_help ? HELP_NODE : s->node, s->lang,
               tt_compose_phrase(s->m, s->ph[s->lang], TT_PH_PAUSED, 0));
    prompt_start(s, 0, now, 0);
}

/* Any key after a pause goes on: with what the pause cut off, or else the choices. */
static void resume(tt_session *s, tt_ms now)
{
    s->paused = false;
    s->in_help = false;
    emit(s, TT_EV_RESUME, now, s->node);
    prompt_new(s);
    struct prompt *p = prompt_now(s);
    *p = s->saved;
    s->saved.n = 0;
    if (!p->n)
        add_choices(s, s->node);
    prompt_start(s, 0, now, 0);
}

/* Louder, softer, slower, faster: one step, said back; at the end of the range, said so. */
static void control(tt_session *s, enum tt_help_action a, bool interrupted, tt_ms now)
{
    enum tt_phrase_id said;
    int *level = a == TT_HELP_LOUDER || a == TT_HELP_SOFTER ? &s->volume : &s->speed;
    int top = level == &s->volume ? TT_VOLUME_LEVELS - 1 : N_SPEEDS - 1;
    bool up = a == TT_HELP_LOUDER || a == TT_HELP_FASTER;
    if (up ? *level >= top : *level <= 0) {
        said = a == TT_HELP_LOUDER   ? TT_PH_LOUDEST
               : a == TT_HELP_SOFTER ? TT_PH_SOFTEST
               : a == TT_HELP_FASTER ? TT_PH_FASTEST
                                     : TT_PH_SLOWEST;
    } else {
        *level += up ? 1 : -1;
        said = a == TT_HELP_LOUDER   ? TT_PH_LOUDER
               : a == TT_HELP_SOFTER ? TT_PH_SOFTER
               : a == TT_HELP_FASTER ? TT_PH_FASTER
                                     : TT_PH_SLOWER;
        bool vol = level == &s->volume;
        emit(s, vol ? TT_EV_VOLUME : TT_EV_SPEED, now, s->in_help ? HELP_NODE : s->node);
        last_event(s)->count = vol ? s->volume : speeds[s->speed];
    }
    confirm_then_go_on(s, said, interrupted, now);
}

static int control_of(int key)
{
    switch (key) {
    case TT_KEY_LOUDER:
        return TT_HELP_LOUDER;
    case TT_KEY_SOFTER:
        return TT_HELP_SOFTER;
    case TT_KEY_SLOWER:
        return TT_HELP_SLOWER;
    case TT_KEY_FASTER:
        return TT_HELP_FASTER;
    case TT_KEY_PAUSE:
        return TT_HELP_PAUSE;
    default:
        return -1;
    }
}

/* Up, down and select: the node's choices one at a time, for people who would rather not
 * hold a list of numbers in mind. The same tree, with nothing extra to author. */
static void browse_key(tt_session *s, int key, tt_ms now, tt_ms delay)
{
    int items[TT_MAX_CHOICES + 2];
    int n = (int)tt_browse_items(s->m, s->node, items);
    if (!n) {
        say_phrase_then_choices(s, TT_PH_BROWSE_NONE, 0, now, delay);
        return;
    }
    if (key == TT_KEY_SELECT && s->browse >= 0) {
        int to = items[s->browse];
        const struct tt_node *here = &s->m->nodes[s->node];
        /* A page move is not a step down the tree: the way back stays as it was. */
        go(s, to, to != here->next && to != here->prev, now, delay);
        return;
    }
    if (key == TT_KEY_UP)
        s->browse = s->browse <= 0 ? n - 1 : s->browse - 1;
    else
        s->browse = s->browse < 0 || s->browse >= n - 1 ? 0 : s->browse + 1;
    prompt_new(s);
    prompt_add(s, TT_PART_ENGINE, s->node, s->lang,
               tt_compose_browse(s->m, s->ph[s->lang], s->lang, items[s->browse],
                                 (size_t)s->browse + 1, (size_t)n));
    prompt_start(s, 0, now, delay);
}

/* ---- digit entry: input nodes and their lookups ------------------------------------------- */

static int is_digit_key(int key)
{
    return key >= '0' && key <= '9';
}

/* The entry for reading aloud: digit by digit, in groups of four (the last group never a
 * single digit), so "2024156" is said "2 0 2 4, 1 5 6". mask: every digit as *. */
static char *group_digits(const char *d, size_t n, bool mask)
{
    struct tt_strbuf sb;
    if (mask)
        tt_sb_init(&sb);
    else
        tt_sb_init_secret(&sb);
    size_t groups_of = 4;
    for (size_t i = 0; i < n; i++) {
        bool new_group = i > 0 && i % groups_of == 0 && !(n - i == 1 && n > 4);
        if (i > 0)
            tt_sb_add(&sb, new_group ? ", " : " ");
        char c = mask ? '*' : d[i];
        tt_sb_addn(&sb, &c, 1);
    }
    return tt_sb_take(&sb);
}

static char *phrase_n(const tt_session *s, enum tt_phrase_id id, int n)
{
    struct tt_strbuf sb;
    struct tt_phrase_args a = {.n = n};
    tt_sb_init(&sb);
    tt_phrase_say(s->ph[s->lang], id, &a, &sb);
    return tt_sb_take(&sb);
}

static char *phrase_keys(const tt_session *s, const enum tt_phrase_id *ids, const char *keys,
                         size_t n)
{
    struct tt_strbuf sb;
    tt_sb_init(&sb);
    for (size_t i = 0; i < n; i++) {
        struct tt_phrase_args a = {.key = keys[i]};
        tt_phrase_say(s->ph[s->lang], ids[i], &a, &sb);
    }
    return tt_sb_take(&sb);
}

/* At a kiosk, a sensitive entry is only read back when asked: others may be near. */
static bool read_back_on_request(const tt_session *s)
{
    return s->m->nodes[s->node].sensitive && s->opts.end_mode == TT_END_RESET;
}

static void say_confirm(tt_session *s, bool read_back, tt_ms now, tt_ms delay)
{
    const struct tt_node *n = &s->m->nodes[s->node];
    prompt_new(s);
    if (read_back) {
        struct tt_strbuf said, shown;
        char *d = group_digits(s->entry, s->nentry, false);
        char *m = group_digits(s->entry, s->nentry, true);
        tt_sb_init_secret(&said);
        tt_sb_init(&shown);
        struct tt_phrase_args a = {.digits = d}, b = {.digits = m};
        tt_phrase_say(s->ph[s->lang], TT_PH_ENTRY_READBACK, &a, &said);
        tt_phrase_say(s->ph[s->lang], TT_PH_ENTRY_READBACK, &b, &shown);
        if (d)
            memset(d, 0, strlen(d));
        free(d);
        free(m);
        char *said_text = tt_sb_take(&said);
        /* The listener hears the digits; screens, transcripts and logs get them masked. */
        if (n->sensitive)
            prompt_add_personal(s, s->node, said_text, tt_sb_take(&shown), TT_SENSITIVE);
        else
            prompt_add_personal(s, s->node, said_text, NULL, TT_PERSONAL), tt_sb_free(&shown);
        /* Digits are read a step slower than the rest, so each one can be checked. */
        struct prompt *p = prompt_now(s);
        if (p->n)
            p->part[p->n - 1].slow = true;
    } else {
        prompt_add(s, TT_PART_ENGINE, s->node, s->lang,
                   phrase_n(s, TT_PH_ENTRY_COUNT, (int)s->nentry));
    }
    static const enum tt_phrase_id ask[] = {TT_PH_ENTRY_YES, TT_PH_ENTRY_AGAIN, TT_PH_ENTRY_HEAR};
    prompt_add(s, TT_PART_ENGINE, s->node, s->lang,
               phrase_keys(s, ask, "123", read_back_on_request(s) ? 3 : 2));
    s->en = EN_CONFIRM;
    prompt_start(s, 0, now, delay);
}

static void start_lookup(tt_session *s, tt_ms now, tt_ms delay)
{
    s->en = EN_LOOKUP;
    emit(s, TT_EV_LOOKUP, now, s->node);
    last_event(s)->text = s->entry;
    prompt_new(s);
    prompt_add(s, TT_PART_ENGINE, s->node, s->lang,
               tt_compose_phrase(s->m, s->ph[s->lang], TT_PH_LOOKUP_WAIT, 0));
    prompt_start(s, 0, now, delay);
}

/* Ask for the digits again: a phrase saying why (or none), then the node's own request. */
static void entry_again(tt_session *s, char *why, tt_ms now, tt_ms delay)
{
    memset(s->entry, 0, sizeof(s->entry));
    s->nentry = 0;
    s->en = EN_COLLECT;
    prompt_new(s);
    prompt_add(s, TT_PART_ENGINE, s->node, s->lang, why);
    prompt_add(s, TT_PART_BODY, s->node, s->lang, strdup(s->m->nodes[s->node].text[s->lang]));
    prompt_start(s, 0, now, delay);
}

static void entry_done(tt_session *s, tt_ms now, tt_ms delay)
{
    const struct tt_node *n = &s->m->nodes[s->node];
    if ((int)s->nentry < n->in_min)
        entry_again(s, phrase_n(s, TT_PH_ENTRY_SHORT, n->in_min), now, delay);
    else if (n->confirm)
        say_confirm(s, !read_back_on_request(s), now, delay);
    else
        start_lookup(s, now, delay);
}

/* A lookup's answer is about the listener's own case: personal, and sensitive when the entry
 * was. Shown, the entry is masked wherever the answer repeats it ("Case 2031-0001: ..."); the
 * rest is shown, since a braille reader needs the answer as much as a listener does. */
static void add_answer(tt_session *s)
{
    bool sensitive = s->m->nodes[s->node].sensitive;
    char *shown = NULL;
    if (sensitive && (shown = strdup(s->result)))
        tt_mask_digits(shown, s->entry, s->nentry);
    prompt_add_personal(s, s->node, strdup(s->result), shown,
                        sensitive ? TT_SENSITIVE : TT_PERSONAL);
}

/* The answer and the ways on. fresh: a prompt of its own (in answer to a key); else it is
 * said after "One moment." if that is still being said, and at once if not. */
static void say_result(tt_session *s, bool fresh, tt_ms now, tt_ms delay)
{
    static const enum tt_phrase_id ok_keys[] = {TT_PH_RESULT_AGAIN, TT_PH_RESULT_ANOTHER};
    static const enum tt_phrase_id fail_keys[] = {TT_PH_LOOKUP_RETRY};
    bool append = !fresh && (s->st == ST_SPEAKING || s->st == ST_PAUSE);
    if (!append)
        prompt_new(s);
    if (s->result_ok)
        add_answer(s);
    else
        prompt_add(s, TT_PART_ENGINE, s->node, s->lang,
                   tt_compose_phrase(s->m, s->ph[s->lang],
                                     s->result_failed ? TT_PH_LOOKUP_DOWN : TT_PH_LOOKUP_FAILED,
                                     0));
    char *keys = s->result_ok ? phrase_keys(s, ok_keys, "12", 2) : phrase_keys(s, fail_keys, "1", 1);
    char *back = tt_compose_way_on(s->m, s->ph, s->lang, s->node, back_target(s));
    struct tt_strbuf sb;
    tt_sb_init(&sb);
    tt_sb_add(&sb, keys ? keys : "");
    tt_sb_sentence(&sb, back ? back : "");
    free(keys);
    free(back);
    prompt_add(s, TT_PART_ENGINE, s->node, s->lang, tt_sb_take(&sb));
    if (!append)
        prompt_start(s, 0, now, delay);
}

void tt_session_lookup_done(tt_session *s, enum tt_answer a, const char *text, tt_ms now)
{
    if (s->en != EN_LOOKUP || s->ending || s->st == ST_ENDED)
        return; /* the listener moved on meanwhile, or is gone */
    s->en = EN_RESULT;
    s->result_failed = a == TT_ANSWER_FAILED;
    s->result_ok = a == TT_ANSWER_OK && text && *text;
    s->result = s->result_ok ? strdup(text) : NULL;
    s->result_ok = s->result != NULL;
    say_result(s, false, now, 0);
}

/* Keys while a node takes digits. Returns false for keys the ordinary rules handle (back with
 * nothing entered, named keys, ...). */
static bool entry_key(tt_session *s, int key, tt_ms now, tt_ms delay)
{
    const struct tt_node *n = &s->m->nodes[s->node];
    const struct tt_keys *k = &s->m->keys;
    switch (s->en) {
    case EN_COLLECT:
        if (is_digit_key(key)) {
            s->entry[s->nentry++] = (char)key;
            good_key(s);
            if ((int)s->nentry >= n->in_max) {
                s->full_at = now; /* a pound key right after this only ends the entry */
                entry_done(s, now, delay);
            } else {
                /* While someone is keying, the wait is the short inter-digit one, from now. */
                s->st = ST_WAITING;
                s->deadline = now + (s->text ? s->m->text_timeout : s->m->digit_timeout);
            }
            return true;
        }
        if (key == k->skip) {
            entry_done(s, now, delay);
            return true;
        }
        if (key == k->back && s->nentry) {
            entry_again(s, tt_compose_phrase(s->m, s->ph[s->lang], TT_PH_ENTRY_CLEARED, 0), now,
                        delay);
            return true;
        }
        return false;
    case EN_CONFIRM:
        if (key == '1')
            start_lookup(s, now, delay);
        else if (key == '2' || key == k->back)
            entry_again(s, NULL, now, delay);
        else if (key == '3' && read_back_on_request(s))
            say_confirm(s, true, now, delay);
        else if (is_digit_key(key) || key == k->skip)
            say_confirm(s, !read_back_on_request(s), now, delay);
        else
            return false;
        return true;
    case EN_LOOKUP:
        /* Waiting for the answer: a back key leaves, anything else waits with it. */
        if (key == k->back)
            return false;
        /* What was being said was cut: wait for the answer in silence (its timeout still
         * guards against an answer that never comes). */
        wait_for_key(s, now);
        return true;
    case EN_RESULT:
        if (key == '1' && s->result_ok) {
            say_result(s, true, now, delay);
        } else if (key == '1' || key == '2') {
            entry_forget(s);
            entry_again(s, NULL, now, delay);
        } else if (key == k->back) {
            return false;
        } else {
            say_result(s, true, now, delay);
        }
        return true;
    default:
        return false;
    }
}

/* A language key, on any node or in help: the same place, said whole in the new language,
 * with the way out first (the listener may not have understood it the first time). */
static void switch_lang(tt_session *s, int lang, tt_ms now, tt_ms delay)
{
    s->lang = lang;
    emit(s, TT_EV_LANG, now, s->node);
    s->greet = s->full = true;
    go(s, s->node, false, now, delay);
}

static void help_key(tt_session *s, int key, tt_ms now, tt_ms delay)
{
    const struct tt_keys *k = &s->m->keys;
    const struct tt_help_item *it = tt_help_find(&s->help, key);
    if (key == k->back) {
        good_key(s);
        go(s, s->node, false, now, delay);
    } else if (key == k->repeat || key == k->help) {
        good_key(s);
        say_help(s, -1, 0, now, delay);
    } else if (key == k->skip) {
        wait_for_key(s, now);
    } else if (it && it->action == TT_HELP_WHERE) {
        good_key(s);
        s->in_help = false;
        char *where = say_where(s);
        prompt_new(s);
        /* The path someone took (to the safety page, say) is theirs: never on disk. */
        prompt_add_personal(s, s->node, where, NULL, TT_PERSONAL);
        add_choices(s, s->node);
        prompt_start(s, 0, now, delay);
    } else if (it && it->action == TT_HELP_RESTART) {
        good_key(s);
        s->nhist = 0;
        go(s, s->m->start, false, now, delay);
    } else if (it && it->action == TT_HELP_LANGUAGE) {
        good_key(s);
        switch_lang(s, it->lang, now, delay);
    } else if (it && it->action == TT_HELP_SAFETY) {
        good_key(s);
        go(s, s->m->safety, true, now, delay);
    } else if (it && it->action == TT_HELP_SETTINGS) {
        good_key(s);
        tt_help_build(s->m, s->lang, true, &s->help);
        say_help(s, -1, 0, now, delay);
    } else if (it && it->action == TT_HELP_PAUSE) {
        good_key(s);
        pause_key(s, false, now);
    } else if (it) {
        good_key(s);
        control(s, it->action, false, now);
    } else {
        /* In help a wrong key is named and help is said again; help is the last stop, so
         * it does not count towards anything. */
        emit(s, TT_EV_INVALID, now, HELP_NODE);
        last_event(s)->key = key;
        say_help(s, -1, key, now, delay);
    }
}

static void node_key(tt_session *s, int key, bool interrupted, tt_ms now, tt_ms delay)
{
    const struct tt_keys *k = &s->m->keys;
    int child = tt_node_choice(&s->m->nodes[s->node], key);
    int lang = tt_menu_lang_of_key(s->m, key);
    if (lang >= 0) {
        good_key(s);
        switch_lang(s, lang, now, delay);
    } else if (key == k->help) {
        enter_help(s, -1, now, delay);
    } else if (key == k->repeat) {
        good_key(s);
        s->full = true; /* asked to hear it again: all of it */
        say_node(s, now, delay);
    } else if (key == k->back) {
        good_key(s);
        back_key(s, now, delay);
    } else if (key == k->skip) {
        good_key(s);
        skip_key(s, interrupted, now, delay);
    } else if (child >= 0) {
        good_key(s);
        go(s, child, true, now, delay);
    } else if (key == TT_KEY_UP || key == TT_KEY_DOWN || key == TT_KEY_SELECT) {
        good_key(s);
        browse_key(s, key, now, delay);
    } else {
        invalid_key(s, key, now, delay);
    }
}

/* Named keys that do what a telephone key does become that key, so the rules stay in one
 * place whatever keypad is in use. */
static int engine_key(const tt_menu *m, int key)
{
    switch (key) {
    case TT_KEY_BACK:
        return m->keys.back;
    case TT_KEY_HELP:
        return m->keys.help;
    case TT_KEY_REPEAT:
        return m->keys.repeat;
    case TT_KEY_EXIT:
        return m->keys.end;
    case TT_KEY_SKIP:
        return m->keys.skip;
    default:
        return key;
    }
}

/* ---- the public verbs ------------------------------------------------------------------------- */

int tt_session_new(tt_session **sp, const tt_menu *m, tt_phrases *const *phrases,
                   const struct tt_session_opts *opts)
{
    *sp = NULL;
    tt_session *s = calloc(1, sizeof(*s));
    if (!s)
        return ENOMEM;
    s->m = m;
    if (opts)
        s->opts = *opts;
    if (s->opts.lang < 0 || (size_t)s->opts.lang >= m->nlangs) {
        free(s);
        return EINVAL;
    }
    for (size_t i = 0; i < m->nlangs; i++) {
        if (!phrases[i]) {
            free(s);
            return EINVAL;
        }
        s->ph[i] = phrases[i];
    }
    if (!(s->seen = calloc(m->nnodes ? m->nnodes : 1, 1))) {
        free(s);
        return ENOMEM;
    }
    s->st = ST_IDLE;
    s->deadline = TT_NEVER;
    s->volume = TT_VOLUME_DEFAULT;
    s->speed = SPEED_DEFAULT;
    wipe(s);
    *sp = s;
    return 0;
}

void tt_session_free(tt_session *s)
{
    if (!s)
        return;
    prompt_clear(&s->prompts[0]);
    prompt_clear(&s->prompts[1]);
    prompt_clear(&s->saved);
    entry_forget(s);
    if (s->hist)
        memset(s->hist, 0, s->caphist * sizeof(*s->hist));
    free(s->hist);
    free(s->seen);
    free(s);
}

void tt_session_start(tt_session *s, tt_ms now)
{
    if (s->st != ST_IDLE)
        return;
    emit(s, TT_EV_START, now, s->m->start);
    s->last_key = now;
    if (s->opts.asleep && s->opts.end_mode == TT_END_RESET) {
        /* Nobody is here yet: wait in silence, as after a reset, for a key to wake it. */
        s->en = EN_NONE; /* as after a reset: waking goes to the start, which sets it */
        s->asleep = true;
        prompt_new(s);
        wait_for_key(s, now);
        return;
    }
    s->en = s->m->nodes[s->node].input ? EN_COLLECT : EN_NONE;
    say_node(s, now, 0);
}

static bool typing(const tt_session *s)
{
    return s->en == EN_COLLECT && !s->in_help && !s->paused;
}

/*
 * The session's mode: who takes a key. The state above is what the session remembers (where
 * the listener is, an entry half typed, a pause, help); the mode is which of those decides
 * what the next key does, and there is exactly one at a time. They are tried in this order
 * (docs/session-modes.md has the same table, for people who write menus):
 *
 *   mode          when                          what a key does
 *   ------------- ----------------------------- --------------------------------------------
 *   OFF           not started, or ended         nothing
 *   ASLEEP        a kiosk left alone            any key but the end key wakes it, and the
 *                                               welcome is said; the end key leaves it asleep
 *                                               (pressed twice in a hurry, the second press
 *                                               must not make the kiosk start talking)
 *   GOODBYE       saying goodbye                any key ends the session at once
 *   TRANSFER      the caller is being put       nothing (they wait for the person); the
 *                 through to a person           end key below still ends
 *   TYPING        digits at an input node       0-9 are digits, 9 too (case numbers hold
 *                                               nines); * clears, or with nothing typed goes
 *                                               back; # ends the entry. Named keys (exit,
 *                                               louder, ...) are not digits: they go on below
 *   (every mode from here on)                   the end key: goodbye and end, or wipe and
 *                                               welcome
 *   PAUSED        the listener paused           any key goes on
 *   (every mode from here on)                   the listener's controls: louder, softer,
 *                                               slower, faster, pause
 *   HELP          in the help menu              help's choices
 *   ENTRY         a read-back, a lookup         their own keys (1 yes, 2 enter again, ...);
 *                 running, its answer           any other key as at the node
 *   NODE          at a node                     its choices, and repeat, back, skip, help
 *
 * So the end key stands above every mode but typing: it ends (phone) or wipes (kiosk) from
 * wherever the listener is, in help, in a pause, at a read-back, while a lookup runs, at its
 * answer. test_endkey walks random keys through every mode to hold that.
 */
enum mode { MODE_OFF, MODE_ASLEEP, MODE_GOODBYE, MODE_TRANSFER, MODE_TYPING, MODE_PAUSED,
            MODE_HELP, MODE_ENTRY, MODE_NODE };

static enum mode mode_of(const tt_session *s)
{
    if (s->st == ST_IDLE || s->st == ST_ENDED)
        return MODE_OFF;
    if (s->asleep)
        return MODE_ASLEEP;
    if (s->ending)
        return MODE_GOODBYE;
    if (s->transferring)
        return MODE_TRANSFER;
    if (typing(s))
        return MODE_TYPING;
    if (s->paused)
        return MODE_PAUSED;
    if (s->in_help)
        return MODE_HELP;
    if (s->en != EN_NONE)
        return MODE_ENTRY; /* confirming, looking up, or answered (collecting is TYPING) */
    return MODE_NODE;
}

void tt_session_key(tt_session *s, int key, tt_ms now)
{
    enum mode mode = mode_of(s);
    if (mode == MODE_OFF)
        return;
    if (s->en == EN_CONFIRM && key == s->m->keys.skip && s->full_at >= 0 &&
        now - s->full_at < FULL_ENTRY_POUND_MS) {
        /* The pound that ends an entry, pressed just after the entry filled up by itself:
         * expected, so it changes nothing. */
        s->full_at = -1;
        emit(s, TT_EV_KEY, now, s->node);
        last_event(s)->key = key;
        return;
    }
    bool interrupted = s->st == ST_SPEAKING;
    int raw = key;
    bool named = raw >= TT_KEY_UP;
    s->last_key = now;
    emit(s, TT_EV_KEY, now, s->in_help ? HELP_NODE : s->node);
    /* A digit of a sensitive entry is masked in the key line: never in a transcript or log. */
    last_event(s)->key =
        mode == MODE_TYPING && s->m->nodes[s->node].sensitive && is_digit_key(raw) ? '*' : raw;
    key = engine_key(s->m, key);
    if (interrupted)
        emit(s, TT_EV_STOP, now, prompt_now(s)->part[s->part].node);
    switch (mode) {
    case MODE_ASLEEP:
        if (key != s->m->keys.end) { /* someone came: the key wakes the kiosk, which greets them */
            s->asleep = false;
            go(s, s->m->start, false, now, 0);
        }
        return;
    case MODE_GOODBYE: /* a key during goodbye: the listener is done, so end at once */
        end_session(s, now);
        return;
    case MODE_TRANSFER: /* the person is being called: only the end key does anything */
        if (key != s->m->keys.end)
            return;
        break;
    case MODE_TYPING:
        if (!named && entry_key(s, raw, now, s->m->gap))
            return;
        break;
    default:
        break;
    }
    if (key == s->m->keys.end) {
        end_key(s, now);
        return;
    }
    if (mode == MODE_PAUSED) {
        resume(s, now);
        return;
    }
    int c = control_of(key);
    if (c == TT_HELP_PAUSE) {
        pause_key(s, interrupted, now);
        return;
    }
    if (c >= 0) {
        control(s, (enum tt_help_action)c, interrupted, now);
        return;
    }
    /* The answer to a key comes after a short pause: the cut is heard as a cut, and the next
     * words do not run into the last ones. */
    tt_ms delay = s->m->gap;
    switch (mode) {
    case MODE_HELP:
        help_key(s, key, now, delay);
        return;
    case MODE_ENTRY:
        if (!named && entry_key(s, raw, now, delay))
            return;
        break;
    default:
        break;
    }
    node_key(s, key, interrupted, now, delay);
}

/* ---- a caller who reads and types ------------------------------------------------------- */

/* What a text caller is told first: how to answer in text, and how long each wait is. */
static char *text_intro(const tt_session *s)
{
    return phrase_n(s, TT_PH_TEXT_MODE, (int)((wait_ms(s) + 500) / 1000));
}

/*
 * The listener reads and types from now on (a driver recognized a TTY, or the call is real-time
 * text). The words stay the same; the waits grow, and the listener is told how to answer in
 * text and how long they have. A prompt under way is said again from its beginning after that,
 * as text: the part already spoken went to someone who could not hear it. Not started yet, the
 * first prompt begins with it. A transfer under way, a kiosk asleep, a pause: the flag alone
 * (the words come with the next prompt, the waits are the text caller's at once).
 */
void tt_session_text(tt_session *s, tt_ms now)
{
    if (s->text)
        return;
    s->text = true;
    enum mode mode = mode_of(s);
    if (mode == MODE_OFF || mode == MODE_ASLEEP || mode == MODE_TRANSFER || mode == MODE_PAUSED)
        return;
    if (s->st == ST_SPEAKING)
        emit(s, TT_EV_STOP, now, prompt_now(s)->part[s->part].node);
    struct prompt again = {0};
    copy_rest(s, 0, &again);
    prompt_new(s);
    prompt_add(s, TT_PART_ENGINE, s->in_help ? HELP_NODE : s->node, s->lang, text_intro(s));
    struct prompt *p = prompt_now(s);
    for (size_t i = 0; i < again.n; i++)
        if (p->n < MAX_PARTS)
            p->part[p->n++] = again.part[i];
        else
            free_words(again.part[i].text, again.part[i].privacy),
                free_words(again.part[i].shown, again.part[i].privacy);
    prompt_start(s, 0, now, 0);
}

bool tt_session_text_mode(const tt_session *s)
{
    return s->text;
}

void tt_session_done(tt_session *s, tt_ms now)
{
    if (s->st != ST_SPEAKING)
        return;
    s->part++;
    if (s->part < prompt_now(s)->n) {
        s->st = ST_PAUSE;
        s->deadline = now + s->m->gap;
    } else if (s->ending) {
        end_session(s, now);
    } else if (s->transfer_due) {
        start_transfer(s, now);
    } else {
        wait_for_key(s, now);
    }
}

/* ---- transfer to a person ---------------------------------------------------------------- */

/* The node's words have been heard: the driver puts the caller through. Keys wait meanwhile
 * (the end key still ends), and a driver that never answers is taken as a failure. */
static void start_transfer(tt_session *s, tt_ms now)
{
    s->transfer_due = false;
    s->transferring = true;
    emit(s, TT_EV_TRANSFER, now, s->node);
    last_event(s)->text = s->m->nodes[s->node].transfer;
    s->st = ST_WAITING;
    s->deadline = now + TT_TRANSFER_WAIT_MS;
}

void tt_session_transfer_done(tt_session *s, bool ok, tt_ms now)
{
    if (!s->transferring)
        return; /* ended or wiped meanwhile: nothing to answer */
    s->transferring = false;
    if (ok) {
        end_session(s, now); /* the caller is with a person now */
        return;
    }
    /* Said at once: the caller has waited already. Then the node's way on (back, and any
     * choices it has), as after any other dead end. */
    say_phrase_then_choices(s, TT_PH_TRANSFER_FAILED, 0, now, 0);
}

static void timeout(tt_session *s, tt_ms now)
{
    if (!s->in_help && s->en == EN_COLLECT && s->nentry) {
        entry_done(s, now, 0); /* they stopped keying: that is the whole entry */
        return;
    }
    if (!s->in_help && s->en == EN_COLLECT && s->tries + 1 < s->m->tries) {
        /* Nothing keyed yet: remind them what to enter, not only the way back. */
        s->tries++;
        emit(s, TT_EV_TIMEOUT, now, s->node);
        last_event(s)->count = s->tries;
        s->warned = true;
        entry_again(s, tt_compose_phrase(s->m, s->ph[s->lang], TT_PH_WARN, 0), now, 0);
        return;
    }
    if (!s->in_help && s->en == EN_LOOKUP) {
        /* A driver that never answers must not leave the listener in silence. */
        tt_session_lookup_done(s, TT_ANSWER_FAILED, NULL, now);
        return;
    }
    if (s->transferring) {
        tt_session_transfer_done(s, false, now); /* the same: never silence for nothing */
        return;
    }
    s->tries++;
    emit(s, TT_EV_TIMEOUT, now, s->in_help ? HELP_NODE : s->node);
    last_event(s)->count = s->tries;
    if (s->in_help) {
        if (s->tries >= s->m->tries) {
            /* Nobody has answered help either: they have gone. At a kiosk that means a clean
             * slate for the next person; on a phone, goodbye. */
            if (s->opts.end_mode == TT_END_RESET)
                fall_asleep(s, now, 1);
            else
                end_key(s, now);
            return;
        }
        s->warned = true;
        say_help(s, TT_PH_WARN, 0, now, 0);
        return;
    }
    if (s->tries >= s->m->tries) {
        enter_help(s, TT_PH_TO_HELP, now, 0);
        return;
    }
    s->warned = true;
    say_phrase_then_choices(s, TT_PH_WARN, 0, now, 0);
}

static tt_ms idle_at(const tt_session *s)
{
    if (!s->opts.idle_ms || s->asleep || s->st == ST_IDLE || s->st == ST_ENDED)
        return TT_NEVER;
    return s->last_key + s->opts.idle_ms;
}

void tt_session_tick(tt_session *s, tt_ms now)
{
    if (now >= idle_at(s)) {
        fall_asleep(s, now, 1);
        return;
    }
    if (now < s->deadline)
        return;
    if (s->st == ST_PAUSE)
        say_part(s, now);
    else if (s->st == ST_WAITING)
        timeout(s, now);
}

tt_ms tt_session_deadline(const tt_session *s)
{
    tt_ms idle = idle_at(s);
    return idle < s->deadline ? idle : s->deadline;
}

int tt_speed_percent(int level)
{
    return level >= 0 && level < TT_SPEED_LEVELS ? speeds[level] : 0;
}

double tt_volume_gain(int level)
{
    if (level < 0)
        level = 0;
    if (level > TT_VOLUME_LEVELS - 1)
        level = TT_VOLUME_LEVELS - 1;
    return pow(10.0, (level - (TT_VOLUME_LEVELS - 1)) * TT_VOLUME_STEP_DB / 20.0);
}

bool tt_session_speaking(const tt_session *s)
{
    return s->st == ST_SPEAKING;
}

bool tt_session_waiting(const tt_session *s)
{
    return s->st == ST_WAITING;
}

bool tt_session_asleep(const tt_session *s)
{
    return s->asleep;
}

bool tt_session_transferring(const tt_session *s)
{
    return s->transferring;
}

bool tt_session_typing(const tt_session *s)
{
    return s->st != ST_IDLE && s->st != ST_ENDED && typing(s);
}

bool tt_session_paused(const tt_session *s)
{
    return s->paused;
}

unsigned long tt_session_events_lost(const tt_session *s)
{
    return s->lost;
}

bool tt_session_ended(const tt_session *s)
{
    return s->st == ST_ENDED;
}
