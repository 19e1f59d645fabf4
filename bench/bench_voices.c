/*
 * Voice benchmark: which English voice a listener is most likely to hear right, measured by a
 * machine that listens. Every English voice the engine links (flite's kal16, slt, rms and awb,
 * see src/prompt/tts.c) and espeak-ng's en-us for comparison read the guide through the engine's own
 * speech path (tt_tts_speak, then tt_audio_resample to 16 kHz), and pocketsphinx's US English
 * model writes down what it hears. The word error rate is the word-level edit distance between
 * what was said and what was heard, over the words said, after both are normalized (lower
 * case, no punctuation, digits as number words: the guide writes "9 1 1", a listener hears
 * "nine one one").
 *
 * What is read:
 *   - every English node text of the menu (default menus/no-contact-order.ini);
 *   - every English engine phrase (the menu's prompts/en/phrases.ini), each with its
 *     {placeholders} filled as the engine fills them: a choice with every title and key the
 *     guide offers, "back" with each way back a listener hears, "invalid" with each digit that
 *     is not a choice somewhere, help and settings with the keys tt_help_build gives them, and
 *     so on. Each distinct sentence is read once. Choices and help come phrase by phrase from
 *     the engine's own composition (tt_compose_choices_each, tt_compose_help_each), so that a
 *     misheard word can be traced to its phrase and nothing read here can drift from what the
 *     engine says. Only path_sep, key_star and key_hash are never read alone: they are parts
 *     of other sentences.
 *
 * A recognizer is a stand-in for a person, and a harsh one in places (it has no idea what a
 * phone menu says; its language model finds "page" after "next" less likely than a person
 * does), so the figures compare voices and find weak words; they do not predict what share of
 * people understand. Words the recognizer's dictionary lacks are listed: every voice loses them.
 *
 * Each voice runs in a child process (two at a time by default, -j): synthesis and recognition
 * are single-threaded, and the engines keep process-wide state. Each child writes what it heard
 * to a temporary file; the parent aligns, counts and prints. Nothing is asserted: the figures
 * are for docs/voices.md.
 *
 * Needs libpocketsphinx-dev and pocketsphinx-en-us (scripts/bench-deps.sh installs them); with
 * the model missing it says which file is missing and exits 1.
 * Run: make bench (or build/bench/bench_voices [-v] [-j jobs] [-m model-dir] [-P prompts-dir]
 * [menu.ini]). -v adds every sentence as said and as heard in each voice; -P reads the phrase
 * files from another folder (<dir>/<lang>/phrases.ini), to measure a rewording before it ships.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pocketsphinx.h>
#include <sphinxbase/err.h> /* err_set_logfp */

#include "base/strbuf.h"
#include "bench.h"
#include "core/compose.h"
#include "core/menu.h"
#include "core/phrase.h"
#include "prompt/audio.h"
#include "prompt/tts.h"
#include "tools/script.h"

#define RATE 16000 /* pocketsphinx's en-us acoustic model was trained on 16 kHz speech */
/* Silence around each sentence, as a listener has between prompts: the recognizer needs a
 * little before the first word to settle. The same for every voice. */
#define PAD_MS 300
#define MODEL_DIR "/usr/share/pocketsphinx/model/en-us"
#define DEFAULT_MENU "menus/no-contact-order.ini"
#define TOP_WORDS 10

static const char *const voices[] = {"flite:kal16", "flite:slt", "flite:rms", "flite:awb",
                                     "espeak-ng:en-us"};
#define NVOICES (sizeof(voices) / sizeof(voices[0]))

/* ---- what is read ------------------------------------------------------------------------- */

enum kind { NODE_TEXT, PHRASE };

struct utt {
    enum kind kind;
    int phrase;        /* TT_PH_* for a phrase, -1 for a node text */
    const char *label; /* the node id or the phrase name */
    char *text;        /* as the engine hands it to the voice */
};

struct utts {
    struct utt *u;
    size_t n, cap;
    int err;
};

/* Takes text (may be NULL: out of memory). A sentence already in the list is not added again. */
static void utt_add(struct utts *l, enum kind kind, int phrase, const char *label, char *text)
{
    if (!text) {
        l->err = ENOMEM;
        return;
    }
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->u[i].text, text)) {
            free(text);
            return;
        }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct utt *u = realloc(l->u, cap * sizeof(*u));
        if (!u) {
            free(text);
            l->err = ENOMEM;
            return;
        }
        l->u = u;
        l->cap = cap;
    }
    l->u[l->n++] = (struct utt){kind, phrase, label, text};
}

/* The engine's keys in every phrase, as compose.c fills them. */
static struct tt_phrase_args args(const tt_menu *m, char key, const char *title)
{
    return (struct tt_phrase_args){.title = title,
                                   .key = key,
                                   .repeat = m->keys.repeat,
                                   .back = m->keys.back,
                                   .skip = m->keys.skip,
                                   .end = m->keys.end};
}

/* One phrase instance, added to the list. */
static void say(struct utts *l, const tt_phrases *p, enum tt_phrase_id id,
                const struct tt_phrase_args *a)
{
    struct tt_strbuf sb;
    tt_sb_init(&sb);
    tt_phrase_say(p, id, a, &sb);
    utt_add(l, PHRASE, id, tt_phrase_name(id), tt_sb_take(&sb));
}

/* Sentences the engine composed, each with the phrase it comes from (compose.c's *_each
 * functions run the same code as what the session says, so nothing here can drift from it). */
static void add_said(struct utts *l, struct tt_said *each, int n)
{
    if (n < 0) {
        l->err = ENOMEM;
        return;
    }
    for (int i = 0; i < n; i++)
        utt_add(l, PHRASE, each[i].id, tt_phrase_name(each[i].id), each[i].text);
}

static bool is_engine_key(const tt_menu *m, char key)
{
    const struct tt_keys *k = &m->keys;
    return key == k->repeat || key == k->back || key == k->skip || key == k->help ||
           key == k->end || tt_menu_lang_of_key(m, key) >= 0;
}

static int head_of(const tt_menu *m, int node)
{
    for (size_t steps = 0; m->nodes[node].prev >= 0 && steps < m->nnodes; steps++)
        node = m->nodes[node].prev;
    return node;
}

/* "You are in ...": the path the session says (its history of nodes chosen from, then the
 * first page of the sequence, then the node), for a listener who came by the walk's path. */
static void add_where(struct utts *l, const tt_menu *m, const tt_phrases *p,
                      const struct tt_walk *w, int node)
{
    int path[64];
    size_t n = 0;
    int head = head_of(m, node);
    /* The choosers, nearest first: each is where a choice was taken to reach the next. */
    for (int at = head; n + 2 < sizeof(path) / sizeof(path[0]) && w->via[at] >= 0;
         at = head_of(m, w->via[at]))
        path[n++] = w->via[at];
    for (size_t i = 0; i < n / 2; i++) {
        int t = path[i];
        path[i] = path[n - 1 - i];
        path[n - 1 - i] = t;
    }
    if (head != node && (!n || path[n - 1] != head))
        path[n++] = head;
    path[n++] = node;
    utt_add(l, PHRASE, TT_PH_WHERE, tt_phrase_name(TT_PH_WHERE),
            tt_compose_where(m, p, 0, path, n));
}

/* Every English engine sentence of the menu. The keys of the entry and lookup phrases are the
 * ones src/core/session.c gives them ("123" to confirm, "12" after an answer, "1" to retry). */
static int add_phrases(struct utts *l, const tt_menu *m, tt_phrases *const *ph)
{
    const tt_phrases *p = ph[0];
    struct tt_walk w;
    struct tt_phrase_args a;
    struct tt_said each[TT_MAX_SAID + TT_MAX_LANGS];
    int err = tt_walk_menu(m, &w);
    if (err)
        return err;
    for (size_t i = 0; i < w.nreach; i++) {
        int node = w.order[i];
        add_said(l, each, tt_compose_choices_each(m, ph, 0, node, w.back[node], each, TT_MAX_SAID));
        for (char k = '0'; k <= '9'; k++)
            if (!is_engine_key(m, k) && tt_node_choice(&m->nodes[node], k) < 0) {
                a = args(m, k, NULL);
                say(l, p, TT_PH_INVALID, &a);
            }
        if (m->nodes[node].next < 0)
            add_where(l, m, p, &w, node);
    }
    if (w.nreach > 0) { /* browsing the start node's choices, one at a time */
        int items[TT_MAX_CHOICES + 2];
        size_t count = tt_browse_items(m, m->start, items);
        for (size_t i = 0; i < count; i++)
            utt_add(l, PHRASE, TT_PH_BROWSE, tt_phrase_name(TT_PH_BROWSE),
                    tt_compose_browse(m, p, 0, items[i], i + 1, count));
    }
    tt_walk_free(&w);

    struct tt_help_menu h;
    for (int settings = 0; settings < 2; settings++) {
        tt_help_build(m, 0, settings, &h);
        add_said(l, each, tt_compose_help_each(m, ph, 0, &h, each, TT_MAX_SAID + TT_MAX_LANGS));
    }
    /* English's help_language is said to listeners of the other languages. */
    for (size_t lang = 1; lang < m->nlangs; lang++) {
        tt_help_build(m, (int)lang, false, &h);
        for (size_t i = 0; i < h.n; i++)
            if (h.item[i].action == TT_HELP_LANGUAGE && h.item[i].lang == 0) {
                a = args(m, (char)h.item[i].key, NULL);
                say(l, p, TT_PH_HELP_LANGUAGE, &a);
            }
    }
    a = args(m, m->keys.back, NULL);
    say(l, p, TT_PH_HELP_RETURN, &a);
    a = args(m, 0, NULL);
    say(l, p, TT_PH_HELP_KEYS, &a);
    say(l, p, TT_PH_ENTRY_LEAVE, &a);
    say(l, p, TT_PH_END_HINT, &a); /* the first words of every session */

    static const enum tt_phrase_id plain[] = {
        TT_PH_WARN,    TT_PH_TO_HELP,       TT_PH_HELP,          TT_PH_SETTINGS,
        TT_PH_AT_START, TT_PH_GOODBYE,      TT_PH_BROWSE_NONE,   TT_PH_SLOWER,
        TT_PH_FASTER,  TT_PH_LOUDER,        TT_PH_SOFTER,        TT_PH_SLOWEST,
        TT_PH_FASTEST, TT_PH_LOUDEST,       TT_PH_SOFTEST,       TT_PH_PAUSED,
        TT_PH_ENTRY_CLEARED, TT_PH_LOOKUP_WAIT, TT_PH_LOOKUP_FAILED, TT_PH_LOOKUP_DOWN};
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        say(l, p, plain[i], NULL);

    static const struct {
        enum tt_phrase_id id;
        char key;
    } keyed[] = {{TT_PH_ENTRY_YES, '1'},    {TT_PH_ENTRY_AGAIN, '2'},
                 {TT_PH_ENTRY_HEAR, '3'},   {TT_PH_LOOKUP_RETRY, '1'},
                 {TT_PH_RESULT_AGAIN, '1'}, {TT_PH_RESULT_ANOTHER, '2'}};
    for (size_t i = 0; i < sizeof(keyed) / sizeof(keyed[0]); i++) {
        a = args(m, keyed[i].key, NULL);
        say(l, p, keyed[i].id, &a);
    }
    /* An eight-digit entry, grouped in fours as the session reads one back. */
    a = (struct tt_phrase_args){.digits = "2 0 3 1, 0 0 4 7", .n = 8};
    say(l, p, TT_PH_ENTRY_READBACK, &a);
    say(l, p, TT_PH_ENTRY_COUNT, &a);
    say(l, p, TT_PH_ENTRY_SHORT, &a);
    return l->err;
}

/* ---- words -------------------------------------------------------------------------------- */

struct words {
    char **w;
    size_t n, cap;
    int err;
    bool split; /* words the recognizer wrote: split the ones it joins (words_push) */
};

static void words_push(struct words *ws, const char *s, size_t len)
{
    /* One word in the recognizer's dictionary that is two said together, and sounds so:
     * "press the star key" comes back as "press the starkey". */
    if (ws->split && len == 7 && !strncmp(s, "starkey", 7)) {
        ws->split = false;
        words_push(ws, "star", 4);
        words_push(ws, "key", 3);
        ws->split = true;
        return;
    }
    if (ws->n == ws->cap) {
        size_t cap = ws->cap ? 2 * ws->cap : 32;
        char **w = realloc(ws->w, cap * sizeof(*w));
        if (!w) {
            ws->err = ENOMEM;
            return;
        }
        ws->w = w;
        ws->cap = cap;
    }
    char *c = strndup(s, len);
    if (!c) {
        ws->err = ENOMEM;
        return;
    }
    ws->w[ws->n++] = c;
}

static void words_free(struct words *ws)
{
    for (size_t i = 0; i < ws->n; i++)
        free(ws->w[i]);
    free(ws->w);
    memset(ws, 0, sizeof(*ws));
}

/* A number as it is said: 7 "seven", 24 "twenty four", 1500 "one thousand five hundred".
 * Digit runs longer than six are said digit by digit, as a listener would read them out. */
static void number_words(struct words *ws, const char *digits, size_t len)
{
    static const char *const ones[] = {"zero", "one", "two", "three", "four", "five", "six",
                                       "seven", "eight", "nine", "ten", "eleven", "twelve",
                                       "thirteen", "fourteen", "fifteen", "sixteen",
                                       "seventeen", "eighteen", "nineteen"};
    static const char *const tens[] = {"", "", "twenty", "thirty", "forty", "fifty", "sixty",
                                       "seventy", "eighty", "ninety"};
    if (len > 6) {
        for (size_t i = 0; i < len; i++)
            words_push(ws, ones[digits[i] - '0'], strlen(ones[digits[i] - '0']));
        return;
    }
    unsigned long v = 0;
    for (size_t i = 0; i < len; i++)
        v = v * 10 + (unsigned long)(digits[i] - '0');
    if (v == 0) {
        words_push(ws, "zero", 4);
        return;
    }
    for (int part = 1; part >= 0; part--) { /* thousands, then the rest */
        unsigned long g = part ? v / 1000 : v % 1000;
        if (!g)
            continue;
        if (g >= 100) {
            words_push(ws, ones[g / 100], strlen(ones[g / 100]));
            words_push(ws, "hundred", 7);
            g %= 100;
        }
        if (g >= 20) {
            words_push(ws, tens[g / 10], strlen(tens[g / 10]));
            g %= 10;
            if (g)
                words_push(ws, ones[g], strlen(ones[g]));
        } else if (g) {
            words_push(ws, ones[g], strlen(ones[g]));
        }
        if (part)
            words_push(ws, "thousand", 8);
    }
}

/* Normalized words: lower case, letters and inner apostrophes (a right single quotation mark
 * counts as one), digits as number words; anything else separates words, so "no-contact" is
 * "no contact", as a recognizer writes it. With marks (what the recognizer wrote), what it
 * writes in <>, [] or () is its own marks (<sil>, [NOISE], a pronunciation variant "(2)"),
 * never words, and the words it joins are split. */
static void words_of(const char *s, struct words *ws, bool marks)
{
    char word[128];
    size_t len = 0;
    char skip_to = 0;
    ws->split = marks;
    for (;; s++) {
        unsigned char c = (unsigned char)*s;
        bool quote = c == '\'' || (c == 0xE2 && s[1] == '\x80' && s[2] == '\x99');
        if (skip_to) {
            if (!c)
                break;
            if (c == (unsigned char)skip_to)
                skip_to = 0;
            continue;
        }
        if (isdigit(c)) {
            if (len) { /* "2nd": the letters, then the number */
                words_push(ws, word, len);
                len = 0;
            }
            const char *e = s;
            while (isdigit((unsigned char)*e))
                e++;
            number_words(ws, s, (size_t)(e - s));
            s = e - 1;
            continue;
        }
        if (isalpha(c) && len < sizeof(word)) {
            word[len++] = (char)tolower(c);
            continue;
        }
        if (quote && len && len < sizeof(word) && isalpha((unsigned char)s[c == '\'' ? 1 : 3])) {
            word[len++] = '\'';
            s += c == '\'' ? 0 : 2;
            continue;
        }
        if (len) {
            words_push(ws, word, len);
            len = 0;
        }
        if (!c)
            break;
        if (marks)
            skip_to = c == '<' ? '>' : c == '[' ? ']' : c == '(' ? ')' : 0;
    }
}

/* ---- alignment ---------------------------------------------------------------------------- */

/* Words that sound the same, or are one word spelled two ways. A listener cannot tell "press
 * four" from "press for", and nor can the recognizer, which writes whichever its language
 * model prefers: counting that as a miss would blame the voice for a spelling. */
static const char *const same_sound[][3] = {
    {"two", "to", "too"}, {"four", "for", "fore"}, {"one", "won"},  {"eight", "ate"},
    {"hear", "here"},     {"no", "know"},          {"right", "write"}, {"there", "their", "they're"},
    {"its", "it's"},      {"your", "you're"},      {"counselor", "counsellor"},
    {"counseling", "counselling"},
};

static int sound_class(const char *w)
{
    for (size_t c = 0; c < sizeof(same_sound) / sizeof(same_sound[0]); c++)
        for (size_t k = 0; k < 3 && same_sound[c][k]; k++)
            if (!strcmp(w, same_sound[c][k]))
                return (int)c;
    return -1;
}

static bool same_word(const char *a, const char *b)
{
    if (!strcmp(a, b))
        return true;
    int c = sound_class(a);
    return c >= 0 && c == sound_class(b);
}

/* Word-level edit distance between ref and hyp (substitutions, deletions, insertions, each 1;
 * a word that sounds the same is no substitution), and which words of ref were missed (substituted or deleted) on one cheapest alignment. Ties
 * go to a match or substitution, then a deletion: the same rule for every voice.
 * Returns the distance, or -1 when out of memory. */
static long align(const struct words *ref, const struct words *hyp, bool *missed)
{
    size_t R = ref->n, H = hyp->n, W = H + 1;
    long *d = malloc((R + 1) * W * sizeof(*d));
    if (!d)
        return -1;
    for (size_t i = 0; i <= R; i++)
        d[i * W] = (long)i;
    for (size_t j = 0; j <= H; j++)
        d[j] = (long)j;
    for (size_t i = 1; i <= R; i++)
        for (size_t j = 1; j <= H; j++) {
            long sub = d[(i - 1) * W + j - 1] + !same_word(ref->w[i - 1], hyp->w[j - 1]);
            long del = d[(i - 1) * W + j] + 1, ins = d[i * W + j - 1] + 1;
            long best = sub < del ? sub : del;
            d[i * W + j] = best < ins ? best : ins;
        }
    long dist = d[R * W + H];
    for (size_t i = R, j = H; i > 0 || j > 0;) {
        long here = d[i * W + j];
        if (i > 0 && j > 0 &&
            here == d[(i - 1) * W + j - 1] + !same_word(ref->w[i - 1], hyp->w[j - 1])) {
            missed[i - 1] = !same_word(ref->w[i - 1], hyp->w[j - 1]);
            i--, j--;
        } else if (i > 0 && here == d[(i - 1) * W + j] + 1) {
            missed[--i] = true;
        } else {
            j--;
        }
    }
    free(d);
    return dist;
}

/* ---- one voice, in a child process -------------------------------------------------------- */

static ps_decoder_t *decoder_new(const char *model)
{
    char hmm[4096], lm[4096], dict[4096];
    snprintf(hmm, sizeof(hmm), "%s/en-us", model);
    snprintf(lm, sizeof(lm), "%s/en-us.lm.bin", model);
    snprintf(dict, sizeof(dict), "%s/cmudict-en-us.dict", model);
    /* -maxhmmpf: at most 3000 HMMs searched per frame (the default is 30000). On this guide it
     * cut recognition time by 40% and moved no voice's WER by more than 0.6 points, nor the
     * order of the voices, nor a key word's count by more than one. */
    cmd_ln_t *c = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", hmm, "-lm", lm, "-dict", dict,
                              "-samprate", "16000", "-maxhmmpf", "3000", NULL);
    if (!c)
        return NULL;
    ps_decoder_t *ps = ps_init(c);
    cmd_ln_free_r(c);
    return ps;
}

/*
 * What the recognizer hears in one sentence, as a malloc'd string in *hyp.
 *
 * A pocketsphinx decoder is not the same after an utterance as before it: decoding "You are at
 * the beginning." right after "Help." gave other words than decoding it first, with batch
 * normalization, noise removal and silence removal each switched off in turn. So every
 * sentence is decoded in a child process, a copy of the decoder as it was loaded, that hears
 * nothing else: what one sentence is heard as never depends on the sentences before it (or
 * on a rewording of them). A fork costs far less than loading the model again.
 * Returns 0, or an errno value (EIO when the decoder failed).
 */
static int hear_sentence(ps_decoder_t *ps, const int16_t *pcm, size_t n, char **hyp)
{
    int fd[2];
    *hyp = NULL;
    if (pipe(fd))
        return errno;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fd[0]);
        close(fd[1]);
        return e;
    }
    if (pid == 0) {
        close(fd[0]);
        /* One whole utterance, so batch normalization sees all of it. */
        if (ps_start_utt(ps) < 0 || ps_process_raw(ps, pcm, n, FALSE, TRUE) < 0 ||
            ps_end_utt(ps) < 0)
            _exit(1);
        const char *h = ps_get_hyp(ps, NULL);
        size_t len = h ? strlen(h) : 0;
        for (size_t off = 0; off < len;) {
            ssize_t w = write(fd[1], h + off, len - off);
            if (w < 0 && errno != EINTR)
                _exit(1);
            off += w > 0 ? (size_t)w : 0;
        }
        _exit(0);
    }
    close(fd[1]);
    struct tt_strbuf sb;
    char chunk[4096];
    ssize_t got;
    int err = 0, status = 0;
    tt_sb_init(&sb);
    while ((got = read(fd[0], chunk, sizeof(chunk))) != 0) {
        if (got < 0 && errno != EINTR) {
            err = errno;
            break;
        }
        if (got > 0)
            tt_sb_addn(&sb, chunk, (size_t)got);
    }
    close(fd[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!err && (!WIFEXITED(status) || WEXITSTATUS(status)))
        err = EIO;
    *hyp = tt_sb_take(&sb);
    if (!err && !*hyp)
        err = ENOMEM;
    if (err) {
        free(*hyp);
        *hyp = NULL;
    }
    return err;
}

/* Writes one line per sentence to out: its index, its samples at 16 kHz, the milliseconds
 * spent synthesizing and recognizing it, and what was heard. */
static int run_voice(const char *spec, const struct utts *l, const char *model, FILE *out)
{
    tt_diag *diag = tt_diag_new();
    ps_decoder_t *ps = NULL;
    int16_t *buf = NULL;
    size_t cap = 0, pad = (size_t)RATE * PAD_MS / 1000;
    struct tt_tts_voice v;
    int err = diag ? 0 : ENOMEM;
    if (err || (err = tt_tts_voice_parse(&v, spec, diag)))
        goto out;
    if (!(ps = decoder_new(model))) {
        fprintf(stderr, "bench_voices: pocketsphinx could not load its model from %s\n", model);
        err = EIO;
        goto out;
    }
    for (size_t i = 0; i < l->n; i++) {
        int16_t *pcm = NULL, *pcm16 = NULL;
        size_t frames = 0, n16 = 0;
        int rate = 0;
        double t0 = bench_now_ms();
        err = tt_tts_speak(&v, l->u[i].text, TT_TTS_SPEED_NORMAL, &pcm, &frames, &rate, diag);
        if (!err)
            err = tt_audio_resample(pcm, frames, rate, RATE, &pcm16, &n16);
        free(pcm);
        if (!err && n16 + 2 * pad > cap) {
            cap = n16 + 2 * pad;
            int16_t *b = realloc(buf, cap * sizeof(*b));
            err = b ? 0 : ENOMEM;
            buf = b ? b : buf;
        }
        if (err) {
            free(pcm16);
            goto out;
        }
        memset(buf, 0, pad * sizeof(*buf));
        if (n16)
            memcpy(buf + pad, pcm16, n16 * sizeof(*buf));
        memset(buf + pad + n16, 0, pad * sizeof(*buf));
        free(pcm16);
        double t1 = bench_now_ms();
        char *hyp = NULL;
        if ((err = hear_sentence(ps, buf, n16 + 2 * pad, &hyp))) {
            fprintf(stderr, "bench_voices: pocketsphinx failed on \"%.60s\" (%s): %s\n",
                    l->u[i].text, spec, strerror(err));
            goto out;
        }
        fprintf(out, "%zu\t%zu\t%.0f\t%.0f\t%s\n", i, n16, t1 - t0, bench_now_ms() - t1, hyp);
        free(hyp);
    }
    if (fflush(out) || ferror(out))
        err = EIO;
out:
    if (diag && tt_diag_count(diag, TT_ERROR))
        tt_diag_print(diag, stderr);
    if (ps)
        ps_free(ps);
    free(buf);
    tt_diag_free(diag);
    return err;
}

/* ---- the parent: run the voices, count, print ---------------------------------------------- */

struct heard {
    char *hyp;     /* what the recognizer wrote, as it wrote it */
    size_t frames; /* the sentence's samples at 16 kHz, without the padding */
    double synth_ms, listen_ms;
};

struct job {
    pid_t pid;
    char path[4096];
};

/* Per voice, per distinct reference word: times said, times missed. */
struct tally {
    char *word;
    int said, missed;
};

struct stats {
    long words[2], errors[2]; /* by kind */
    long ph_words[TT_PH_COUNT], ph_errors[TT_PH_COUNT];
    double audio_s;  /* speech, without the padding */
    double synth_s;  /* synthesis, resampling included */
    double listen_s; /* recognition */
    struct tally *t;
    size_t nt, cap;
};

static struct tally *tally_of(struct stats *s, const char *word)
{
    for (size_t i = 0; i < s->nt; i++)
        if (!strcmp(s->t[i].word, word))
            return &s->t[i];
    if (s->nt == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 256;
        struct tally *t = realloc(s->t, cap * sizeof(*t));
        if (!t)
            return NULL;
        s->t = t;
        s->cap = cap;
    }
    char *w = strdup(word);
    if (!w)
        return NULL;
    s->t[s->nt] = (struct tally){w, 0, 0};
    return &s->t[s->nt++];
}

static const struct tally *tally_find(const struct stats *s, const char *word)
{
    for (size_t i = 0; i < s->nt; i++)
        if (!strcmp(s->t[i].word, word))
            return &s->t[i];
    return NULL;
}

static int cmp_tally(const void *a, const void *b)
{
    const struct tally *x = a, *y = b;
    if (x->missed != y->missed)
        return y->missed - x->missed;
    if (x->said != y->said) /* the same misses out of fewer sayings is worse */
        return x->said - y->said;
    return strcmp(x->word, y->word);
}

static double pct(long num, long den)
{
    return den ? 100.0 * (double)num / (double)den : 0.0;
}

/* Align every sentence of one voice and add it up. Returns 0 or ENOMEM. */
static int count_voice(const struct utts *l, const struct words *refs, const struct heard *h,
                       struct stats *st)
{
    for (size_t i = 0; i < l->n; i++) {
        struct words hyp = {0};
        bool *missed = calloc(refs[i].n + 1, sizeof(*missed));
        words_of(h[i].hyp, &hyp, true);
        long e = missed && !hyp.err ? align(&refs[i], &hyp, missed) : -1;
        words_free(&hyp);
        if (e < 0) {
            free(missed);
            return ENOMEM;
        }
        enum kind k = l->u[i].kind;
        st->words[k] += (long)refs[i].n;
        st->errors[k] += e;
        st->audio_s += (double)h[i].frames / RATE;
        st->synth_s += h[i].synth_ms / 1e3;
        st->listen_s += h[i].listen_ms / 1e3;
        if (k == PHRASE) {
            st->ph_words[l->u[i].phrase] += (long)refs[i].n;
            st->ph_errors[l->u[i].phrase] += e;
        }
        for (size_t w = 0; w < refs[i].n; w++) {
            struct tally *t = tally_of(st, refs[i].w[w]);
            if (!t) {
                free(missed);
                return ENOMEM;
            }
            t->said++;
            t->missed += missed[w];
        }
        free(missed);
    }
    qsort(st->t, st->nt, sizeof(*st->t), cmp_tally);
    return 0;
}

static void print_report(const char *menu_path, const char *prompts, const char *model,
                         const struct utts *l, size_t ntexts, const struct words *refs,
                         const struct stats *st, const tt_phrases *en)
{
    size_t words_kind[2] = {0}, nphrases = 0;
    bool seen[TT_PH_COUNT] = {0};
    for (size_t i = 0; i < l->n; i++) {
        words_kind[l->u[i].kind] += refs[i].n;
        if (l->u[i].kind == PHRASE && !seen[l->u[i].phrase])
            seen[l->u[i].phrase] = true, nphrases++;
    }
    printf("Voices: which English voice pocketsphinx (en-us model, %s) hears best\n", model);
    printf("  %s: %zu node texts (%zu words)\n  %s/en/phrases.ini: %zu engine sentences from %zu "
           "phrases (%zu words)\n  normal speed, 16 kHz\n\n",
           menu_path, ntexts, words_kind[NODE_TEXT], prompts, l->n - ntexts, nphrases,
           words_kind[PHRASE]);
    printf("%-16s %9s %11s %8s %9s %8s %8s %8s\n", "voice", "WER texts", "WER phrases",
           "WER all", "words/min", "speech s", "synth s", "listen s");
    for (size_t v = 0; v < NVOICES; v++) {
        long w = st[v].words[0] + st[v].words[1], e = st[v].errors[0] + st[v].errors[1];
        printf("%-16s %8.1f%% %10.1f%% %7.1f%% %9.0f %8.0f %8.1f %8.0f\n", voices[v],
               pct(st[v].errors[NODE_TEXT], st[v].words[NODE_TEXT]),
               pct(st[v].errors[PHRASE], st[v].words[PHRASE]), pct(e, w),
               st[v].audio_s > 0 ? 60.0 * (double)w / st[v].audio_s : 0.0, st[v].audio_s,
               st[v].synth_s, st[v].listen_s);
    }
    printf("(WER: words substituted, dropped or inserted, over the words said. words/min: the "
           "words said over the\n seconds of speech. synth s, listen s: wall-clock seconds "
           "spent synthesizing and recognizing.)\n");

    printf("\nThe %d most misheard words of each voice (times missed of times said):\n",
           TOP_WORDS);
    for (size_t v = 0; v < NVOICES; v++) {
        printf("%-16s", voices[v]);
        for (size_t k = 0; k < st[v].nt && k < TOP_WORDS && st[v].t[k].missed; k++)
            printf("%s %s %d/%d", k ? "," : "", st[v].t[k].word, st[v].t[k].missed,
                   st[v].t[k].said);
        printf("\n");
    }

    /* The words that name keys and pages: what a listener must catch to find the way. The
     * names of * and # are taken from the phrase file, without the words they share ("the
     * star key", "the pound key": star, pound). */
    struct words keyw = {0}, star = {0}, hash = {0};
    words_of("1 2 3 4 0 9", &keyw, false); /* the choices, back to help, the end key */
    words_of(tt_phrase_get(en, TT_PH_KEY_STAR), &star, false);
    words_of(tt_phrase_get(en, TT_PH_KEY_HASH), &hash, false);
    for (int k = 0; k < 2; k++) {
        const struct words *a = k ? &hash : &star, *b = k ? &star : &hash;
        for (size_t i = 0; i < a->n; i++) {
            bool shared = false;
            for (size_t j = 0; j < b->n && !shared; j++)
                shared = !strcmp(a->w[i], b->w[j]);
            if (!shared)
                words_push(&keyw, a->w[i], strlen(a->w[i]));
        }
    }
    words_free(&star);
    words_free(&hash);
    words_of("page select", &keyw, false);
    printf("\nKey words, times missed of times said:\n%-8s", "word");
    for (size_t v = 0; v < NVOICES; v++)
        printf(" %15s", voices[v]);
    printf("\n");
    for (size_t k = 0; k < keyw.n; k++) {
        printf("%-8s", keyw.w[k]);
        for (size_t v = 0; v < NVOICES; v++) {
            const struct tally *t = tally_find(&st[v], keyw.w[k]);
            char cell[32];
            snprintf(cell, sizeof(cell), "%d/%d", t ? t->missed : 0, t ? t->said : 0);
            printf(" %15s", cell);
        }
        printf("\n");
    }
    words_free(&keyw);

    printf("\nWER by phrase (all its sentences):\n%-15s %5s", "phrase", "words");
    for (size_t v = 0; v < NVOICES; v++)
        printf(" %15s", voices[v]);
    printf("\n");
    for (int id = 0; id < TT_PH_COUNT; id++) {
        if (!st[0].ph_words[id])
            continue;
        printf("%-15s %5ld", tt_phrase_name(id), st[0].ph_words[id]);
        for (size_t v = 0; v < NVOICES; v++)
            printf(" %14.0f%%", pct(st[v].ph_errors[id], st[v].ph_words[id]));
        printf("\n");
    }

    /* Words no voice can win: the recognizer's dictionary does not have them. */
    ps_decoder_t *ps = decoder_new(model);
    if (ps) {
        int oov = 0;
        for (size_t i = 0; i < st[0].nt; i++)
            if (!ps_lookup_word(ps, st[0].t[i].word))
                printf("%s%s", oov++ ? ", " : "\nWords the recognizer does not know (every "
                                              "voice loses them): ",
                       st[0].t[i].word);
        printf(oov ? "\n" : "\nThe recognizer knows every word said.\n");
        ps_free(ps);
    }
}

/* Read a child's file: one line per sentence. */
static int read_heard(const char *path, struct heard *h, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errno;
    char *line = NULL;
    size_t cap = 0, got = 0;
    ssize_t len;
    int err = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        size_t i, frames;
        double synth, listen;
        int off = 0;
        if (sscanf(line, "%zu\t%zu\t%lf\t%lf\t%n", &i, &frames, &synth, &listen, &off) < 4 ||
            i >= n || h[i].hyp) {
            err = EPROTO;
            break;
        }
        if (!(h[i].hyp = strdup(line + off))) {
            err = ENOMEM;
            break;
        }
        h[i].frames = frames;
        h[i].synth_ms = synth;
        h[i].listen_ms = listen;
        got++;
    }
    free(line);
    fclose(f);
    return err ? err : got == n ? 0 : EPROTO;
}

static int start_job(struct job *j, const char *spec, const struct utts *l, const char *model)
{
    FILE *f = bench_tmpfile(j->path, sizeof(j->path));
    if (!f)
        return errno ? errno : EIO;
    fflush(stdout);
    fflush(stderr);
    j->pid = fork();
    if (j->pid < 0) {
        int e = errno;
        fclose(f);
        unlink(j->path);
        return e;
    }
    if (j->pid == 0) {
        int err = run_voice(spec, l, model, f);
        err = fclose(f) ? EIO : err;
        _exit(err ? 1 : 0);
    }
    fclose(f);
    return 0;
}

/* Is the model there? Says which file is missing and what installs it. */
static bool model_present(const char *model)
{
    static const char *const parts[] = {"en-us/mdef", "en-us/means", "en-us/feat.params",
                                        "en-us.lm.bin", "cmudict-en-us.dict"};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", model, parts[i]);
        if (stat(path, &st) || !S_ISREG(st.st_mode) || st.st_size == 0) {
            fprintf(stderr,
                    "bench_voices: pocketsphinx's US English model is missing: there is no %s\n"
                    "  Install it with scripts/bench-deps.sh (Debian package pocketsphinx-en-us)"
                    ", or name another model folder with -m.\n",
                    path);
            return false;
        }
    }
    return true;
}

static void usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [-v] [-j jobs] [-m model-dir] [-P prompts-dir] [menu.ini]\n",
            argv0);
}

int main(int argc, char **argv)
{
    const char *model = MODEL_DIR, *menu_path = DEFAULT_MENU, *prompts = NULL;
    bool verbose = false;
    int jobs = 2, opt, rc = 1, err = 0;
    while ((opt = getopt(argc, argv, "vj:m:P:")) != -1) {
        if (opt == 'v')
            verbose = true;
        else if (opt == 'j' && atoi(optarg) > 0)
            jobs = atoi(optarg);
        else if (opt == 'm')
            model = optarg;
        else if (opt == 'P')
            prompts = optarg;
        else {
            usage(argv[0]);
            return 2;
        }
    }
    if (optind < argc)
        menu_path = argv[optind++];
    if (optind < argc) {
        usage(argv[0]);
        return 2;
    }
    if (!model_present(model))
        return 1;
    /* pocketsphinx logs every setting and every utterance to stderr; off, here and in the
     * workers (they inherit it). */
    err_set_logfp(NULL);

    double t0 = bench_now_ms();
    tt_diag *diag = tt_diag_new();
    tt_menu *m = NULL;
    tt_phrases *ph[TT_MAX_LANGS] = {0};
    struct utts l = {0};
    struct words *refs = NULL;
    struct heard *heard[NVOICES] = {0};
    struct stats *st = calloc(NVOICES, sizeof(*st));
    struct job job[NVOICES] = {0};
    size_t ntexts = 0, next = 0, running = 0, failed = 0;
    if (!diag || !st)
        goto oom;
    if (tt_menu_load(&m, menu_path, diag) || tt_phrases_load_all(m, prompts, ph, diag)) {
        tt_diag_print(diag, stderr);
        goto out;
    }
    if (strcmp(tt_menu_lang(m, 0), "en")) {
        fprintf(stderr, "bench_voices: %s's first language is '%s': this benchmark compares "
                        "English voices\n", menu_path, tt_menu_lang(m, 0));
        goto out;
    }
    for (size_t i = 0; i < m->nnodes; i++)
        utt_add(&l, NODE_TEXT, -1, m->nodes[i].id, strdup(m->nodes[i].text[0]));
    ntexts = l.n;
    if ((err = add_phrases(&l, m, ph)) || l.err)
        goto oom;
    /* Every phrase the engine says alone is read: a new phrase must be added above. */
    for (int id = 0; id < TT_PH_COUNT; id++) {
        bool fragment = id == TT_PH_PATH_SEP || id == TT_PH_KEY_STAR || id == TT_PH_KEY_HASH;
        bool found = false;
        for (size_t i = ntexts; i < l.n && !found; i++)
            found = l.u[i].phrase == id;
        if (!fragment && !found) {
            fprintf(stderr, "bench_voices: phrase '%s' is never read: add it to add_phrases\n",
                    tt_phrase_name(id));
            goto out;
        }
    }
    if (!(refs = calloc(l.n, sizeof(*refs))))
        goto oom;
    for (size_t i = 0; i < l.n; i++) {
        words_of(l.u[i].text, &refs[i], false);
        if (refs[i].err)
            goto oom;
    }

    /* The voices, jobs at a time. */
    while (next < NVOICES || running) {
        while (next < NVOICES && running < (size_t)jobs) {
            if ((err = start_job(&job[next], voices[next], &l, model))) {
                fprintf(stderr, "bench_voices: cannot start a worker: %s\n", strerror(err));
                goto out;
            }
            next++, running++;
        }
        int status;
        pid_t pid = wait(&status);
        if (pid < 0)
            break;
        for (size_t v = 0; v < NVOICES; v++)
            if (job[v].pid == pid) {
                job[v].pid = 0;
                running--;
                if (!WIFEXITED(status) || WEXITSTATUS(status)) {
                    fprintf(stderr, "bench_voices: the %s worker failed\n", voices[v]);
                    failed++;
                }
            }
    }
    if (failed)
        goto out;
    for (size_t v = 0; v < NVOICES; v++) {
        if (!(heard[v] = calloc(l.n, sizeof(**heard))))
            goto oom;
        if ((err = read_heard(job[v].path, heard[v], l.n))) {
            fprintf(stderr, "bench_voices: cannot read what the %s worker heard: %s\n",
                    voices[v], strerror(err));
            goto out;
        }
        if (count_voice(&l, refs, heard[v], &st[v]))
            goto oom;
    }
    print_report(menu_path, prompts ? prompts : tt_menu_prompts_dir(m), model, &l, ntexts, refs,
                 st, ph[0]);
    if (verbose) {
        printf("\nEvery sentence: as said, then as heard in each voice\n");
        for (size_t i = 0; i < l.n; i++) {
            printf("\n[%s] %s\n", l.u[i].label, l.u[i].text);
            for (size_t v = 0; v < NVOICES; v++)
                printf("  %-16s %s\n", voices[v], heard[v][i].hyp);
        }
    }
    printf("\nbench_voices took %.0f s (%d workers)\n", (bench_now_ms() - t0) / 1e3, jobs);
    rc = 0;
    goto out;
oom:
    fprintf(stderr, "bench_voices: out of memory\n");
out:
    for (size_t v = 0; v < NVOICES; v++) {
        if (job[v].pid > 0) {
            kill(job[v].pid, SIGTERM);
            waitpid(job[v].pid, NULL, 0);
        }
        if (job[v].path[0])
            unlink(job[v].path);
        for (size_t i = 0; heard[v] && i < l.n; i++)
            free(heard[v][i].hyp);
        free(heard[v]);
        for (size_t i = 0; st && i < st[v].nt; i++)
            free(st[v].t[i].word);
        if (st)
            free(st[v].t);
    }
    free(st);
    for (size_t i = 0; refs && i < l.n; i++)
        words_free(&refs[i]);
    free(refs);
    for (size_t i = 0; i < l.n; i++)
        free(l.u[i].text);
    free(l.u);
    tt_phrases_free_all(m, ph);
    tt_menu_free(m);
    tt_diag_free(diag);
    return rc;
}
