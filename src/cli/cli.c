/*
 * The tonetree command. This is the one place that reports to the user: library calls return
 * error codes and leave their messages in a tt_diag, which is printed here, on stderr, as
 * "file:line: error: what to do" lines. Every command exits with the same statuses (the table
 * below, and docs/cli.md for the people who script tonetree), answers --help, and names what
 * was wrong in a command line it cannot take. run and line end cleanly on SIGINT (status 130)
 * and SIGTERM (status 0): the handlers are here, not in the library, which only reads a flag.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"
#include "cli/signals.h"
#include "device/audio_out.h"
#include "drivers/drv_line.h"
#include "sip/sip.h"
#include "tonetree.h"
#include "tools/dtmf_file.h"
#include "tools/graph.h"
#include "tools/lint.h"
#include "tools/prompt_list.h"
#include "tools/script.h"

/* Exit statuses, the same for every command. */
#define EXIT_INPUT 1         /* a file given has errors, or cannot be read: fix the file */
#define EXIT_USAGE 2         /* the command line is wrong: see tonetree COMMAND --help */
#define EXIT_RUN 3           /* tonetree could not do it: output lost, no memory, a device failed */
#define EXIT_INTERRUPTED 130 /* Ctrl-C: 128 + SIGINT, as a shell reports a program it stopped */
#define EXIT_TABLE                                                                              \
    "exit status: 0 done; 1 a file given has errors or cannot be read; 2 the command line is\n" \
    "wrong; 3 tonetree could not do it (output lost, out of memory, a device failed);\n"        \
    "130 ended by Ctrl-C (docs/cli.md)\n"

/* What each command's --help says: its synopsis, a summary for the list of commands, a few
 * lines about it, and its options. */
struct command {
    const char *name;
    const char *synopsis;
    const char *summary;
    const char *about;
    const char *options;
};

#define OPT_LANG "  --lang CODE            start in this language (one of the menu's languages)\n"
#define OPT_RATE(hz)                                                                            \
    "  --rate HZ              the audio's sample rate, 8000 to 192000 (default " hz ")\n"
#define OPT_CACHE                                                                               \
    "  --cache DIR            where synthesized speech is kept between runs (default\n"        \
    "                         $XDG_CACHE_HOME/tonetree, or ~/.cache/tonetree)\n"
#define OPT_PROMPTS "  --prompts DIR          recordings and phrase files (default: the menu's own)\n"
#define OPT_HELP "  -h, --help             this text\n"

enum { CMD_RUN, CMD_LINE, CMD_SIP, CMD_RENDER, CMD_PROMPTS, CMD_SCRIPT, CMD_GRAPH, CMD_CHECK, CMD_DTMF,
       CMD_DEVICES, CMD_HELP, NCMD };

static const struct command commands[NCMD] = {
    [CMD_RUN] = {"run",
                 "MENU [--device NAME|INDEX] [--idle SECONDS] [--log FILE [--log-visits]]\n"
                 "           [--lang CODE] [--keymap FILE [--keypad DEVICE|auto]]\n"
                 "           [--rate HZ|auto] [--cache DIR] [--prompts DIR]",
                 "the kiosk: speak a menu on the audio device, keys from this terminal",
                 "The kiosk: every prompt is prepared first, then the menu is spoken on the audio\n"
                 "device and keys come from this terminal (and a USB keypad, with --keymap). The\n"
                 "words go to standard output as they are said, for a braille display or a\n"
                 "screen; with no audio device it warns and goes on with the words. Ctrl-C ends\n"
                 "it (status 130), SIGTERM too (status 0). SIGHUP loads the menu file again: the\n"
                 "kiosk moves to it when nobody is using it; a file with errors is refused.\n",
                 "  --device NAME|INDEX    the output device: a number from `tonetree devices`, or\n"
                 "                         part of its name (default: the system's default)\n"
                 "  --idle SECONDS         left alone this long, forget everything and go silent\n"
                 "                         until the next key (default 120; 0: never)\n"
                 "  --log FILE             append counts (visits per node, resets, lookups) when it\n"
                 "                         stops; never what was entered\n"
                 "  --log-visits           also log each visit with its time: a timeline of what\n"
                 "                         people looked at (weigh it first: docs/privacy.md)\n"
                 "  --keymap FILE          a USB keypad's keymap (see keymaps/)\n"
                 "  --keypad DEVICE|auto   the keypad's /dev/input/eventN, or auto to find it\n"
                 OPT_LANG
                 "  --rate HZ|auto         the audio's sample rate, 8000 to 192000; auto (the\n"
                 "                         default): the rate the prompts are made at (16000 for\n"
                 "                         flite, 22050 for espeak-ng, or a recording's), or the\n"
                 "                         device's own when it cannot play that\n"
                 OPT_CACHE OPT_PROMPTS OPT_HELP},
    [CMD_LINE] = {"line",
                  "MENU [--device NAME|INDEX] [--hangup SECONDS] [--calls N]\n"
                  "           [--transcript FILE|-] [--lang CODE] [--rate HZ] [--cache DIR]\n"
                  "           [--prompts DIR]",
                  "a telephone line: prompts out and DTMF keys in on one audio device",
                  "A telephone line: prompts out and DTMF keys in on one duplex audio device. The\n"
                  "call ends at goodbye, when the caller hangs up (silence, or a busy tone), after\n"
                  "an hour, or on Ctrl-C (status 130) or SIGTERM (status 0). SIGHUP loads the menu\n"
                  "file again before the next call; a file with errors is refused. A TTY caller is\n"
                  "recognized from its tones, and the call goes on in text.\n",
                  "  --device NAME|INDEX    the line's device (default: the system's default)\n"
                  "  --hangup SECONDS       silence this long while waiting for a key means the\n"
                  "                         caller is gone, 1 to 3600 (default 10)\n"
                  "  --calls N              answer N calls one after another (default 1; 0: until\n"
                  "                         stopped); each begins as soon as the last has ended\n"
                  "  --transcript FILE|-    the session's events, one a line (default: standard\n"
                  "                         output)\n"
                  OPT_LANG OPT_RATE("16000") OPT_CACHE OPT_PROMPTS OPT_HELP},
    [CMD_SIP] = {"sip",
                 "MENU [--listen ADDR:PORT] [--rtp-ports LO-HI] [--max-calls N]\n"
                 "           [--log FILE|-] [--log-caller] [--narrowband] [--tones auto|on|off]\n"
                 "           [--metrics ADDR:PORT] [--speeds all|normal] [--max-length SECONDS]\n"
                 "           [--media-timeout SECONDS] [--nat] [--lang CODE] [--cache DIR]\n"
                 "           [--prompts DIR]",
                 "a SIP telephone service: many calls at once",
                 "A SIP telephone service: answers calls over SIP (UDP) with the menu, many at\n"
                 "once, in G.722 when the phone offers it and in G.711 (PCMU, PCMA) otherwise.\n"
                 "Keys come as RFC 4733 events, SIP INFO, or tones in the audio; a phone that\n"
                 "offers real-time text (RFC 4103) gets the words as text too. Each ended call\n"
                 "writes one line to the log (no caller's number unless --log-caller).\n"
                 "SIGHUP loads the menu file again (running calls finish on the old one; a file\n"
                 "with errors is refused); SIGTERM drains: new calls get 503, running calls\n"
                 "finish, then it exits with status 0. Ctrl-C hangs up every call and exits.\n",
                 "  --listen ADDR:PORT     where SIP is taken, UDP (default 127.0.0.1:5070)\n"
                 "  --rtp-ports LO-HI      the ports media uses (default 10000-20000)\n"
                 "  --max-calls N          calls at once; more get 503 (default 1000)\n"
                 "  --log FILE|-           one line per call ended (- for standard output)\n"
                 "  --log-caller           put the caller's address in the log too\n"
                 "  --metrics ADDR:PORT    counters for Prometheus over HTTP there (loopback)\n"
                 "  --narrowband           no G.722: G.711 only, half the prompt memory\n"
                 "  --speeds all|normal    prompts made ahead at every listener speed (default;\n"
                 "                         the guide takes about 540 MB), or at the normal one\n"
                 "                         only (a tenth: other speeds are made when asked for)\n"
                 "  --max-length SECONDS   the longest call; then the engine hangs up (default\n"
                 "                         3600)\n"
                 "  --media-timeout SECONDS  no RTP from a caller this long (not on hold): the\n"
                 "                         engine hangs up (default 30)\n"
                 "  --nat                  callers behind NAT: take a call's media from the\n"
                 "                         address its first packet comes from, not only the\n"
                 "                         one its SDP gives (the default keeps out others)\n"
                 "  --tones auto|on|off    listen for keys as tones in the caller's audio: auto\n"
                 "                         when the phone offers no RFC 4733 events (default)\n"
                 OPT_LANG OPT_CACHE OPT_PROMPTS OPT_HELP},
    [CMD_RENDER] = {"render",
                    "MENU --keys SCRIPT [-o OUT.wav] [--transcript FILE|-] [--end goodbye|reset]\n"
                    "           [--lang CODE] [--rate HZ] [--cache DIR | --no-cache] [--prompts DIR]",
                    "a whole session offline: keys from a script, a WAV and a transcript out",
                    "A whole session with no audio device and no clock: the keys come from a script,\n"
                    "the audio goes to a WAV file and the words to a transcript, the same every time\n"
                    "(docs/render.md). Give -o, --transcript, or both.\n",
                    "  --keys SCRIPT          the listener's keys, with when they come (docs/render.md)\n"
                    "  -o, --output OUT.wav   the audio\n"
                    "  --transcript FILE|-    one line for each event, with its time\n"
                    "  --end goodbye|reset    what the end key does: say goodbye and hang up, as on\n"
                    "                         the phone (default), or wipe and start again, as at the\n"
                    "                         kiosk\n"
                    "  --no-cache             synthesize everything, keep nothing on disk\n"
                    OPT_LANG OPT_RATE("16000") OPT_CACHE OPT_PROMPTS OPT_HELP},
    [CMD_PROMPTS] = {"prompts",
                     "MENU [--list | --missing] [--width N] [--lang CODE] [--rate HZ]\n"
                     "           [--cache DIR] [--prompts DIR]",
                     "prepare every prompt ahead of time; list them; what needs recording",
                     "Prepare every prompt ahead of time: synthesize (and cache) what has no\n"
                     "recording, so that the first listener never waits. Or list the prompts.\n",
                     "  --list                 each node's prompt: recorded or synthesized, its length\n"
                     "                         and its text\n"
                     "  --missing              a script of what still needs a human recording\n"
                     "                         (synthesizes nothing)\n"
                     "  --width N              wrap the list at N columns\n"
                     OPT_LANG OPT_RATE("16000") OPT_CACHE OPT_PROMPTS OPT_HELP},
    [CMD_SCRIPT] = {"script", "MENU [--lang CODE] [--format txt|md|html] [--width N] [--prompts DIR]",
                    "the whole spoken script of a menu, for review",
                    "The whole spoken script, node by node, with the keys that reach each node: what\n"
                    "a listener hears, in the engine's own words, to review on paper, on a screen or\n"
                    "on a braille display.\n",
                    "  --format txt|md|html   plain text (default), Markdown, or an accessible web page\n"
                    "  --width N              wrap plain text at N columns\n"
                    OPT_LANG OPT_PROMPTS OPT_HELP},
    [CMD_GRAPH] = {"graph", "MENU [--lang CODE] [--svg]", "the menu as a Graphviz graph",
                   "The menu as a Graphviz graph (dot), in the script's reading order.\n",
                   "  --svg                  draw it as SVG through dot (Debian package graphviz)\n"
                   OPT_LANG OPT_HELP},
    [CMD_CHECK] = {"check", "[--format text|json] [--recordings] [--max-seconds N] [--max-depth N]\n"
                   "           MENU...",
                   "lint menus: errors and warnings with file:line and what to do",
                   "Lint menus (docs/lint-rules.md): each finding with its file, line, what to do\n"
                   "and the rule that found it. Status 1 when any menu has an error.\n",
                   "  --format text|json     the findings as lines (default) or as one JSON array\n"
                   "  --recordings           every node should have a recording\n"
                   "  --max-seconds N        the longest a prompt may take, 1 to 3600 (default 20)\n"
                   "  --max-depth N          the most keys to reach a node, 1 to 1000 (default 8)\n"
                   OPT_HELP},
    [CMD_DTMF] = {"dtmf", "[-v] FILE...", "the DTMF digits in audio files",
                  "The DTMF digits in each audio file (any format libsndfile reads), one line per\n"
                  "file (docs/dtmf.md).\n",
                  "  -v, --verbose          each digit's start time and level too\n" OPT_HELP},
    [CMD_DEVICES] = {"devices", "", "list the audio output devices",
                     "List the audio output devices, with the numbers --device takes.\n", OPT_HELP},
    [CMD_HELP] = {"help", "[COMMAND]", "this text, or a command's",
                  "The list of commands, or one command's options.\n", NULL},
};

static const struct command *find_command(const char *name)
{
    for (int i = 0; i < NCMD; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

/*
 * Standard output, as the commands that print a result write it (all but run and line, whose
 * transcript is live). They write into memory, and main() hands it all to stdout at the end and
 * checks that one write: a full disk, a closed output or a failing device is then noticed in one
 * place, with its real reason. Written straight to stdout, a failed write can be lost in stdio's
 * buffer (its flush reports the error once, to whoever flushes first, and drops the bytes), and
 * the command would end with status 0 after printing part of its result, or nothing.
 */
static FILE *output;
static char *out_buf;
static size_t out_len;

static int output_open(void)
{
    output = open_memstream(&out_buf, &out_len);
    return output ? 0 : errno;
}

/* Write what the command printed, and make sure stdout took all of it. Returns the status to
 * exit with: rc, or EXIT_RUN after one message when the output was lost. */
static int output_finish(int rc)
{
    int err = 0;
    errno = 0;
    if (output && fclose(output) != 0)
        err = errno ? errno : ENOMEM;
    output = NULL;
    errno = 0;
    if (!err && out_len && fwrite(out_buf, 1, out_len, stdout) != out_len)
        err = errno;
    free(out_buf);
    out_buf = NULL;
    /* run and line write to stdout directly: an error of theirs shows in its flag only. */
    bool lost = ferror(stdout);
    errno = 0;
    if (!err && fflush(stdout) != 0)
        err = errno;
    if (!err && fclose(stdout) != 0 && errno != EBADF)
        err = errno;
    if (!err && !lost)
        return rc;
    if (err)
        fprintf(stderr, "tonetree: cannot write the output: %s\n", strerror(err));
    else
        fputs("tonetree: cannot write the output: part of it was lost\n", stderr);
    return EXIT_RUN;
}

/* The list of commands, on standard output (the result of `tonetree --help`). */
static int usage_all(void)
{
    fputs("usage: tonetree COMMAND [options]\n"
          "       tonetree COMMAND --help     that command's options\n"
          "       tonetree --version\n\ncommands:\n",
          output);
    for (int i = 0; i < NCMD; i++)
        fprintf(output, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fputs("\n" EXIT_TABLE, output);
    return 0;
}

/* `tonetree COMMAND --help`, on standard output. */
static int command_help(const struct command *c)
{
    fprintf(output, "usage: tonetree %s %s\n\n%s", c->name, c->synopsis, c->about);
    if (c->options)
        fprintf(output, "\noptions:\n%s", c->options);
    fputs("\n" EXIT_TABLE, output);
    return 0;
}

/* A command line tonetree cannot take: what was wrong, the command's synopsis and where to
 * read more, on stderr. c is NULL when there is no command to speak of. */
__attribute__((format(printf, 2, 3))) static int usage_error(const struct command *c,
                                                             const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "tonetree%s%s: ", c ? " " : "", c ? c->name : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (c)
        fprintf(stderr, "\nusage: tonetree %s %s\n(tonetree %s --help says more)\n", c->name,
                c->synopsis, c->name);
    else
        fputs("\n(tonetree --help lists the commands)\n", stderr);
    return EXIT_USAGE;
}

/* getopt_long's '?' (an unknown option) and ':' (a value missing), named (opterr is 0, and
 * every option string starts with ':', so getopt itself says nothing). A long option always
 * moves optind past itself; a short one inside a cluster (-xv) may not, so argv[optind - 1]
 * names the long option only when it is one whose value is optopt (or optopt is 0). */
static int option_error(const struct command *c, int ch, char **argv,
                        const struct option *opts)
{
    const char *arg = argv[optind - 1];
    int len = (int)strcspn(arg, "=");
    bool is_long = !strncmp(arg, "--", 2) && arg[2];
    if (is_long && optopt) {
        is_long = false;
        for (const struct option *o = opts; o && o->name; o++)
            if (o->val == optopt && (int)strlen(o->name) == len - 2 &&
                !strncmp(o->name, arg + 2, (size_t)len - 2))
                is_long = true;
    }
    if (ch == ':')
        return is_long ? usage_error(c, "%.*s needs a value", len, arg)
                       : usage_error(c, "-%c needs a value", optopt);
    if (!is_long)
        return usage_error(c, "there is no option -%c", optopt);
    if (optopt) /* a long option given a value it does not take: --svg=1 */
        return usage_error(c, "%.*s takes no value", len, arg);
    /* an abbreviation getopt_long could not settle: name the options it could be */
    char could[256] = "";
    size_t at = 0;
    for (const struct option *o = opts; o && o->name; o++)
        if (!strncmp(o->name, arg + 2, (size_t)len - 2) && at < sizeof(could))
            at += (size_t)snprintf(could + at, sizeof(could) - at, "%s--%s", at ? " or " : "",
                                   o->name);
    if (at)
        return usage_error(c, "%.*s could be %s: give more of its name", len, arg, could);
    return usage_error(c, "there is no option %.*s", len, arg);
}

/* What every command's option loop does with the options it does not take itself: -h is its
 * help (status 0), anything else a usage error naming the option. */
static int other_option(const struct command *c, int ch, char **argv, const struct option *opts)
{
    return ch == 'h' ? command_help(c) : option_error(c, ch, argv, opts);
}

/* The commands that read one menu: argv[optind] must be it, and the last word. */
static int one_menu(const struct command *c, int argc)
{
    if (optind == argc - 1)
        return 0;
    return usage_error(c, optind < argc ? "give one menu file, not %d" : "give a menu file",
                       argc - optind);
}

/* A whole number from lo to hi, all of arg; false when it is not one. */
static bool whole(const char *arg, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (!*arg || *end || errno || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

/* The exit status for a library error: EINVAL, and a file that cannot be read as asked (missing,
 * a folder, a FIFO, too big), are the input's; ECANCELED is Ctrl-C at the kiosk; anything else
 * is tonetree's own failure to run. */
static int status_of(int err)
{
    switch (err) {
    case 0:
        return 0;
    case EINVAL: case ENOENT: case ENOTDIR: case EISDIR: case EACCES: case ENODEV:
    case EFBIG: case ELOOP: case ENAMETOOLONG: case EILSEQ:
        return EXIT_INPUT;
    case ECANCELED:
        return EXIT_INTERRUPTED;
    default:
        return EXIT_RUN;
    }
}

/* Report what the library said, and turn its error code into an exit status. */
static int report(tt_diag *d, int err)
{
    tt_diag_print(d, stderr);
    if (err && err != ECANCELED && !tt_diag_count(d, TT_ERROR))
        fprintf(stderr, "tonetree: error: %s\n", strerror(err));
    return status_of(err);
}

/* SIGINT and SIGTERM, for run and line (cli/signals.h): each ends the run cleanly (terminal
 * back, log written, device closed); which one came decides the status. */
static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t reload_signals; /* SIGHUPs so far (signals_catch_reload) */

/* A run's status: Ctrl-C (SIGINT) is 130 whatever else happened; SIGTERM is a normal end. */
static int stopped_status(int rc)
{
    return stop_signal == SIGINT ? EXIT_INTERRUPTED : rc;
}

static int cmd_check(int argc, char **argv, tt_diag *d)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},      {"recordings", no_argument, NULL, 'r'},
        {"max-seconds", required_argument, NULL, 's'}, {"max-depth", required_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0},
    };
    const struct command *cmd = &commands[CMD_CHECK];
    struct tt_lint_opts lo = {0};
    bool json = false;
    int c, worst = 0;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "json") && strcmp(optarg, "text"))
                return usage_error(cmd, "--format takes text or json, not '%s'", optarg);
            json = !strcmp(optarg, "json");
            break;
        case 'r':
            lo.expect_recordings = true;
            break;
        case 's':
            lo.max_prompt_seconds = strtod(optarg, &end);
            if (*end || !(lo.max_prompt_seconds >= 1 && lo.max_prompt_seconds <= 3600))
                return usage_error(cmd, "--max-seconds takes a number of seconds, 1 to 3600 "
                                        "(default 20), not '%s'", optarg);
            break;
        case 'D':
            lo.max_depth = (int)strtol(optarg, &end, 10);
            if (*end || lo.max_depth < 1 || lo.max_depth > 1000)
                return usage_error(cmd, "--max-depth takes a whole number, 1 to 1000 (default 8), "
                                        "not '%s'", optarg);
            break;
        default:
            return other_option(cmd, c, argv, opts);
        }
    }
    if (optind >= argc)
        return usage_error(cmd, "give at least one menu file");
    for (int i = optind; i < argc; i++) {
        size_t errors = tt_diag_count(d, TT_ERROR);
        tt_phrases *ph[8] = {0};
        tt_menu *m = NULL;
        int err = tt_menu_load(&m, argv[i], d);
        if (!err) {
            /* A menu that loaded is linted even when its phrase files have errors. */
            int perr = tt_phrases_load_all(m, NULL, ph, d);
            tt_phrases_free_all(m, ph);
            lo.prompts_dir = tt_menu_prompts_dir(m);
            if (!(err = tt_lint(m, &lo, d)))
                err = perr;
        }
        int rc = err ? status_of(err) : tt_diag_count(d, TT_ERROR) > errors ? EXIT_INPUT : 0;
        if (err && tt_diag_count(d, TT_ERROR) == errors)
            tt_diag_add(d, TT_ERROR, argv[i], 0, "cannot check this menu: %s", strerror(err));
        if (!json) {
            tt_diag_print_rules(d, stderr);
            tt_diag_clear(d);
        }
        if (rc > worst)
            worst = rc;
        tt_menu_free(m);
    }
    if (json)
        tt_diag_print_json(d, output); /* one array for all the menus */
    return worst;
}

/* Where synthesized speech is kept between runs: the XDG cache, as desktop tools do. */
static char *default_cache_dir(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    char buf[4096];
    if (xdg && *xdg)
        snprintf(buf, sizeof(buf), "%s/tonetree", xdg);
    else if (home && *home)
        snprintf(buf, sizeof(buf), "%s/.cache/tonetree", home);
    else
        return NULL;
    return strdup(buf);
}

/* What render and prompts share: a menu, its phrases and a prompt store. */
struct setup {
    const char *prompts; /* --prompts, or NULL for the menu's own */
    char *cache;         /* --cache, the default, or NULL for none */
    int rate;
    const char *lang;
    int lang_index;
    tt_menu *m;
    tt_phrases *ph[8];
    tt_store *store;
    /* The store's own messages: its workers write them (under its lock) while the program's
     * thread uses d, so they are kept apart and moved into d only when no worker can be
     * writing: before the first call, and once the store is freed. */
    tt_diag *sd;
};

/* Options the commands with a prompt store take; returns 1 when it took one, 0 when it is not
 * one of them, and -1 (after saying what is wrong) when its value is wrong. */
static int setup_option(struct setup *su, int c, const char *arg, const struct command *cmd)
{
    switch (c) {
    case 'p':
        su->prompts = arg;
        return 1;
    case 'l':
        su->lang = arg;
        return 1;
    case 'c':
        if (!*arg) {
            usage_error(cmd, "--cache takes a folder (or give --no-cache)");
            return -1;
        }
        free(su->cache);
        su->cache = strdup(arg);
        return 1;
    case 'C':
        free(su->cache);
        su->cache = NULL;
        return 1;
    case 'r':
        if (cmd == &commands[CMD_RUN] && !strcmp(arg, "auto")) {
            su->rate = 0;
            return 1;
        }
        if (!whole(arg, 8000, cmd == &commands[CMD_LINE] ? 48000 : 192000, &su->rate)) {
            usage_error(cmd, "--rate takes a sample rate from 8000 to %d Hz%s, not '%s'",
                        cmd == &commands[CMD_LINE] ? 48000 : 192000,
                        cmd == &commands[CMD_RUN] ? ", or auto" : "", arg);
            return -1;
        }
        return 1;
    default:
        return 0;
    }
}

/* The store's messages into d (see struct setup: only while no worker can be writing). */
static void store_messages(struct setup *su, tt_diag *d)
{
    for (size_t i = 0; su->sd && i < tt_diag_len(su->sd); i++) {
        const struct tt_diag_msg *m = tt_diag_get(su->sd, i);
        tt_diag_add(d, m->sev, m->file, m->line, "%s", m->text);
    }
    if (su->sd)
        tt_diag_clear(su->sd);
}

static int setup_store(struct setup *su, const char *prompts_dir, tt_diag *d)
{
    struct tt_store_opts so = {.rate = su->rate, .prompts_dir = prompts_dir,
                               .cache_dir = su->cache};
    if (!su->sd && !(su->sd = tt_diag_new()))
        return ENOMEM;
    int err = tt_store_new(&su->store, &so, su->sd);
    store_messages(su, d);
    return err;
}

/* Free the store (its workers joined), then its last messages join d, before d is reported. */
static void setup_end_store(struct setup *su, tt_diag *d)
{
    tt_store_free(su->store);
    su->store = NULL;
    store_messages(su, d);
}

static int setup_open(struct setup *su, const char *menu, tt_diag *d)
{
    int err = tt_menu_load(&su->m, menu, d);
    if (err)
        return err;
    if (su->lang && (su->lang_index = tt_menu_lang_index(su->m, su->lang)) < 0) {
        tt_diag_add(d, TT_ERROR, menu, 0,
                    "this menu has no language '%s'; its languages are listed in "
                    "[tonetree] languages",
                    su->lang);
        return EINVAL;
    }
    if ((err = tt_phrases_load_all(su->m, su->prompts, su->ph, d)))
        return err;
    return setup_store(su, su->prompts ? su->prompts : tt_menu_prompts_dir(su->m), d);
}

static void setup_close(struct setup *su)
{
    tt_store_free(su->store);
    tt_diag_free(su->sd);
    tt_phrases_free_all(su->m, su->ph);
    tt_menu_free(su->m);
    free(su->cache);
}

static const struct option setup_opts[] = {
    {"lang", required_argument, NULL, 'l'},   {"rate", required_argument, NULL, 'r'},
    {"cache", required_argument, NULL, 'c'},  {"no-cache", no_argument, NULL, 'C'},
    {"prompts", required_argument, NULL, 'p'}, {"help", no_argument, NULL, 'h'},
};
/* ':' first: getopt says nothing itself, option_error does */
#define SETUP_SHORT ":l:r:c:Cp:h"

static int cmd_render(int argc, char **argv, tt_diag *d)
{
    static const struct option opts[] = {
        setup_opts[0], setup_opts[1], setup_opts[2], setup_opts[3], setup_opts[4], setup_opts[5],
        {"keys", required_argument, NULL, 'k'}, {"output", required_argument, NULL, 'o'},
        {"transcript", required_argument, NULL, 't'}, {"end", required_argument, NULL, 'e'},
        {NULL, 0, NULL, 0},
    };
    const struct command *cmd = &commands[CMD_RENDER];
    struct setup su = {.cache = default_cache_dir(), .rate = 16000};
    const char *keys = "", *out = NULL, *transcript = NULL;
    int c, rc = 0, err = 0, took;
    enum tt_end_mode end_mode = TT_END_GOODBYE;
    FILE *tf = NULL;

    optind = 1;
    while ((c = getopt_long(argc, argv, SETUP_SHORT "k:o:t:e:", opts, NULL)) != -1) {
        if ((took = setup_option(&su, c, optarg, cmd)) < 0) {
            rc = EXIT_USAGE;
            goto out;
        }
        if (took)
            continue;
        switch (c) {
        case 'k': keys = optarg; break;
        case 'o': out = optarg; break;
        case 't': transcript = optarg; break;
        case 'e':
            if (!strcmp(optarg, "goodbye")) {
                end_mode = TT_END_GOODBYE;
            } else if (!strcmp(optarg, "reset")) {
                end_mode = TT_END_RESET;
            } else {
                rc = usage_error(cmd, "--end takes goodbye or reset, not '%s'", optarg);
                goto out;
            }
            break;
        default:
            rc = other_option(cmd, c, argv, opts);
            goto out;
        }
    }
    if ((rc = one_menu(cmd, argc)))
        goto out;
    if (!out && !transcript) {
        rc = usage_error(cmd, "give -o OUT.wav, --transcript FILE, or both");
        goto out;
    }
    if ((err = setup_open(&su, argv[optind], d)))
        goto report;
    if (transcript) {
        tf = strcmp(transcript, "-") ? fopen(transcript, "w") : output;
        if (!tf) {
            tt_diag_add(d, TT_ERROR, transcript, 0, "cannot create the transcript: %s",
                        strerror(errno));
            err = EIO;
            goto report;
        }
    }
    struct tt_render_opts ro = {
        .keys = keys,
        .wav_path = out,
        .transcript = tf,
        .lang = su.lang_index,
        .rate = su.rate,
        .end_mode = end_mode,
    };
    err = tt_render(su.m, su.ph, su.store, &ro, d);
report:
    setup_end_store(&su, d);
    rc = report(d, err);
out:
    if (tf && tf != output) {
        bool lost = ferror(tf);
        if ((fclose(tf) != 0 || lost) && !rc) {
            fprintf(stderr, "%s: cannot finish writing the transcript\n", transcript);
            rc = EXIT_RUN;
        }
    }
    setup_close(&su);
    return rc;
}

static void show_progress(size_t done, size_t total, void *arg);

/* --rate auto: the prompts kept at the rate they are made at, unless the device cannot play
 * it. At 48 kHz the guide's prompts took three times the memory for nothing a listener hears. */
static int auto_rate(struct setup *su, tt_menu_slot *slot, const char *device, tt_diag *d)
{
    if (su->rate)
        return 0;
    const struct tt_edition *ed = tt_menu_slot_hold(slot);
    int want = tt_prompts_rate(ed->menu, tt_menu_slot_prompts_dir(slot), d);
    tt_menu_slot_release(slot, ed);
    if (want < 0)
        return -want;
    su->rate = tt_out_rate_for(device, want);
    return 0;
}

static int cmd_run(int argc, char **argv, tt_diag *d)
{
    static const struct option opts[] = {
        setup_opts[0], setup_opts[1], setup_opts[2], setup_opts[3], setup_opts[4], setup_opts[5],
        {"device", required_argument, NULL, 'd'}, {"idle", required_argument, NULL, 'i'},
        {"log", required_argument, NULL, 'L'},   {"keymap", required_argument, NULL, 'K'},
        {"keypad", required_argument, NULL, 'P'}, {"log-visits", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const struct command *cmd = &commands[CMD_RUN];
    struct setup su = {.cache = default_cache_dir(), .rate = 0 /* auto */};
    tt_menu_slot *slot = NULL;
    struct tt_kiosk_opts ko = {.idle_ms = 120000, .key_fd = STDIN_FILENO, .transcript = stdout,
                               .stop = &stop_signal};
    int c, rc = 0, err = 0, took;
    optind = 1;
    while ((c = getopt_long(argc, argv, SETUP_SHORT "d:i:L:K:P:", opts, NULL)) != -1) {
        if ((took = setup_option(&su, c, optarg, cmd)) < 0) {
            rc = EXIT_USAGE;
            goto out;
        }
        if (took)
            continue;
        switch (c) {
        case 'd': ko.device = optarg; break;
        case 'L': ko.log_path = optarg; break;
        case 'V': ko.log_visits = true; break;
        case 'K': ko.keymap_path = optarg; break;
        case 'P': ko.keypad_path = optarg; break;
        case 'i': {
            char *end;
            double sec = strtod(optarg, &end);
            if (*end || !(sec >= 0 && sec <= 86400)) { /* NaN is out too */
                rc = usage_error(cmd, "--idle takes seconds, 0 to 86400 (0: never), not '%s'",
                                 optarg);
                goto out;
            }
            ko.idle_ms = (tt_ms)(sec * 1000);
            break;
        }
        default:
            rc = other_option(cmd, c, argv, opts);
            goto out;
        }
    }
    if ((rc = one_menu(cmd, argc)))
        goto out;
    if (ko.log_visits && !ko.log_path) {
        rc = usage_error(cmd, "--log-visits needs --log FILE");
        goto out;
    }
    /* The menu in a slot, so that SIGHUP can load a changed file beside it (the kiosk moves
     * to it when nobody is using it). */
    struct tt_menu_slot_opts mo = {.prompts_dir = su.prompts, .lang = su.lang};
    if (!(err = tt_menu_slot_new(&slot, argv[optind], &mo, d)) &&
        !(err = auto_rate(&su, slot, ko.device, d)) &&
        !(err = setup_store(&su, tt_menu_slot_prompts_dir(slot), d)) &&
        !(err = tt_menu_slot_prepare(slot, su.store, show_progress, NULL))) {
        store_messages(&su, d); /* no call yet: no worker */
        tt_diag_print(d, stderr); /* warnings (a recording that cannot be used, ...) first */
        tt_diag_clear(d);
        ko.rate = su.rate;
        ko.menus = slot;
        ko.reload = &reload_signals;
        /* From here Ctrl-C ends the kiosk cleanly; while prompts are prepared it simply stops
         * the program (nothing is on the screen or the device yet). */
        signals_guard_terminals(); /* the terminal goes raw: give it back on any way out */
        signals_catch_stop(&stop_signal);
        signals_catch_reload(&reload_signals);
        err = tt_kiosk_run(NULL, NULL, su.store, &ko, d);
    }
    setup_end_store(&su, d);
    rc = stopped_status(report(d, err));
out:
    tt_menu_slot_free(slot);
    setup_close(&su);
    return rc;
}

static int cmd_line(int argc, char **argv, tt_diag *d)
{
    static const struct option opts[] = {
        setup_opts[0], setup_opts[1], setup_opts[2], setup_opts[3], setup_opts[4], setup_opts[5],
        {"device", required_argument, NULL, 'd'}, {"hangup", required_argument, NULL, 'H'},
        {"transcript", required_argument, NULL, 't'}, {"calls", required_argument, NULL, 'N'},
        {NULL, 0, NULL, 0},
    };
    const struct command *cmd = &commands[CMD_LINE];
    struct setup su = {.cache = default_cache_dir(), .rate = 16000};
    struct tt_line_opts lo = {.transcript = stdout, .stop = &stop_signal, .calls = 1,
                              .reload = &reload_signals};
    tt_menu_slot *slot = NULL;
    const char *transcript = NULL;
    FILE *tf = NULL;
    int c, rc = 0, err = 0, took;
    optind = 1;
    while ((c = getopt_long(argc, argv, SETUP_SHORT "d:H:t:N:", opts, NULL)) != -1) {
        if ((took = setup_option(&su, c, optarg, cmd)) < 0) {
            rc = EXIT_USAGE;
            goto out;
        }
        if (took)
            continue;
        switch (c) {
        case 'd': lo.device = optarg; break;
        case 't': transcript = optarg; break;
        case 'N': {
            int n;
            if (!whole(optarg, 0, 1000000000, &n)) {
                rc = usage_error(cmd, "--calls takes a number of calls (0: until stopped), "
                                      "not '%s'",
                                 optarg);
                goto out;
            }
            lo.calls = (unsigned)n;
            break;
        }
        case 'H': {
            char *end;
            double sec = strtod(optarg, &end);
            if (*end || !(sec >= 1 && sec <= 3600)) { /* NaN is out too */
                rc = usage_error(cmd, "--hangup takes seconds, 1 to 3600, not '%s'", optarg);
                goto out;
            }
            lo.hangup_ms = (tt_ms)(sec * 1000);
            break;
        }
        default:
            rc = other_option(cmd, c, argv, opts);
            goto out;
        }
    }
    if ((rc = one_menu(cmd, argc)))
        goto out;
    if (transcript && strcmp(transcript, "-") && !(tf = lo.transcript = fopen(transcript, "w"))) {
        fprintf(stderr, "%s: cannot write the transcript\n", transcript);
        rc = EXIT_RUN;
        goto out;
    }
    struct tt_menu_slot_opts mo = {.prompts_dir = su.prompts, .lang = su.lang};
    if (!(err = tt_menu_slot_new(&slot, argv[optind], &mo, d)) &&
        !(err = setup_store(&su, tt_menu_slot_prompts_dir(slot), d)) &&
        !(err = tt_menu_slot_prepare(slot, su.store, show_progress, NULL))) {
        store_messages(&su, d); /* no call yet: no worker */
        tt_diag_print(d, stderr);
        tt_diag_clear(d);
        lo.rate = su.rate;
        signals_catch_stop(&stop_signal);
        signals_catch_reload(&reload_signals);
        /* the line's own failures (its device, above all) are tonetree's, not the input's */
        err = tt_line_serve(slot, su.store, &lo, d);
        setup_end_store(&su, d);
        if (err && err != EINVAL) {
            rc = stopped_status(report(d, err) ? EXIT_RUN : 0);
            goto out;
        }
    }
    setup_end_store(&su, d);
    rc = stopped_status(report(d, err));
out:
    if (tf) {
        bool lost = ferror(tf);
        if ((fclose(tf) != 0 || lost) && !rc) {
            fprintf(stderr, "%s: cannot finish writing the transcript\n", transcript);
            rc = EXIT_RUN;
        }
    }
    tt_menu_slot_free(slot);
    setup_close(&su);
    return rc;
}

static void sip_ready(const char *sip, const char *metrics, void *arg)
{
    (void)arg;
    fprintf(stderr, "tonetree sip: listening on %s (UDP)\n", sip);
    if (metrics)
        fprintf(stderr, "tonetree sip: metrics on http://%s/metrics\n", metrics);
}

/* The service's messages as they happen: a reload, draining, a call's lookup that failed. */
static void sip_report(const tt_diag *d, void *arg)
{
    (void)arg;
    tt_diag_print(d, stderr);
}

static int cmd_sip(int argc, char **argv, tt_diag *d)
{
    static const struct option opts[] = {
        setup_opts[0], setup_opts[1], setup_opts[2], setup_opts[3], setup_opts[4], setup_opts[5],
        {"listen", required_argument, NULL, 'L'}, {"rtp-ports", required_argument, NULL, 'R'},
        {"max-calls", required_argument, NULL, 'M'}, {"log", required_argument, NULL, 'g'},
        {"log-caller", no_argument, NULL, 'G'}, {"narrowband", no_argument, NULL, 'n'},
        {"tones", required_argument, NULL, 'T'}, {"metrics", required_argument, NULL, 'P'},
        {"speeds", required_argument, NULL, 'S'}, {"max-length", required_argument, NULL, 'X'},
        {"media-timeout", required_argument, NULL, 'Q'}, {"nat", no_argument, NULL, 'A'},
        {NULL, 0, NULL, 0},
    };
    const struct command *cmd = &commands[CMD_SIP];
    struct setup su = {.cache = default_cache_dir(), .rate = 8000};
    struct tt_sip_opts so = {.stop = &stop_signal, .reload = &reload_signals,
                             .ready = sip_ready, .report = sip_report};
    tt_menu_slot *slot = NULL;
    tt_store *wide = NULL;
    tt_diag *wide_d = NULL;
    const char *log = NULL;
    FILE *lf = NULL;
    bool narrow = false, every_speed = true;
    int c, rc = 0, err = 0, took;
    optind = 1;
    while ((c = getopt_long(argc, argv, SETUP_SHORT "L:R:M:g:GnT:P:S:X:Q:A", opts, NULL)) != -1) {
        if (c == 'r') {
            rc = usage_error(cmd, "sip makes its audio at each codec's own rate: it takes no "
                                  "--rate");
            goto out;
        }
        if ((took = setup_option(&su, c, optarg, cmd)) < 0) {
            rc = EXIT_USAGE;
            goto out;
        }
        if (took)
            continue;
        switch (c) {
        case 'L': so.listen = optarg; break;
        case 'g': log = optarg; break;
        case 'P': so.metrics = optarg; break;
        case 'X':
        case 'Q': {
            char *end;
            double sec = strtod(optarg, &end);
            double hi = c == 'X' ? 86400 : 3600;
            if (*end || !(sec >= 1 && sec <= hi)) { /* NaN is out too */
                rc = usage_error(cmd, "--%s takes seconds, 1 to %.0f, not '%s'",
                                 c == 'X' ? "max-length" : "media-timeout", hi, optarg);
                goto out;
            }
            *(c == 'X' ? &so.max_call_ms : &so.rtp_timeout_ms) = (tt_ms)(sec * 1000);
            break;
        }
        case 'S':
            if (strcmp(optarg, "all") && strcmp(optarg, "normal")) {
                rc = usage_error(cmd, "--speeds takes all or normal, not '%s'", optarg);
                goto out;
            }
            every_speed = !strcmp(optarg, "all");
            break;
        case 'G': so.log_caller = true; break;
        case 'A': so.nat = true; break;
        case 'n': narrow = true; break;
        case 'T':
            if (!strcmp(optarg, "auto"))
                so.tones = TT_SIP_TONES_AUTO;
            else if (!strcmp(optarg, "on"))
                so.tones = TT_SIP_TONES_ON;
            else if (!strcmp(optarg, "off"))
                so.tones = TT_SIP_TONES_OFF;
            else {
                rc = usage_error(cmd, "--tones takes auto, on or off, not '%s'", optarg);
                goto out;
            }
            break;
        case 'R': {
            unsigned lo, hi;
            char tail;
            if (sscanf(optarg, "%u-%u%c", &lo, &hi, &tail) != 2 || lo < 1024 || hi > 65535 ||
                hi < lo + 1) {
                rc = usage_error(cmd, "--rtp-ports takes two ports, LO-HI, 1024 to 65535, "
                                      "not '%s'",
                                 optarg);
                goto out;
            }
            so.rtp_lo = lo;
            so.rtp_hi = hi;
            break;
        }
        case 'M': {
            int n;
            if (!whole(optarg, 1, 100000, &n)) {
                rc = usage_error(cmd, "--max-calls takes a number of calls, 1 to 100000, not "
                                      "'%s'",
                                 optarg);
                goto out;
            }
            so.max_calls = (unsigned)n;
            break;
        }
        default:
            rc = other_option(cmd, c, argv, opts);
            goto out;
        }
    }
    if ((rc = one_menu(cmd, argc)))
        goto out;
    if (log && strcmp(log, "-") && !(lf = fopen(log, "a"))) {
        fprintf(stderr, "%s: cannot write the call log\n", log);
        rc = EXIT_RUN;
        goto out;
    }
    so.log = lf ? lf : log ? stdout : NULL;
    /* Every speed prepared by default: a caller who asks for slower speech must not wait. */
    struct tt_menu_slot_opts mo = {.prompts_dir = su.prompts, .lang = su.lang,
                                   .every_speed = every_speed};
    if (!(err = tt_menu_slot_new(&slot, argv[optind], &mo, d)) &&
        !(err = setup_store(&su, tt_menu_slot_prompts_dir(slot), d)) &&
        !(err = tt_menu_slot_prepare(slot, su.store, show_progress, NULL))) {
        if (!narrow) {
            /* G.722's 16 kHz: a store of its own (and its own messages: its workers write
             * them while the program reads the other's) */
            struct tt_store_opts wo = {.rate = 16000,
                                       .prompts_dir = tt_menu_slot_prompts_dir(slot),
                                       .cache_dir = su.cache};
            if (!(wide_d = tt_diag_new()))
                err = ENOMEM;
            if (!err)
                err = tt_store_new(&wide, &wo, wide_d);
            if (!err)
                err = tt_menu_slot_prepare(slot, wide, show_progress, NULL);
        }
    }
    if (!err) {
        store_messages(&su, d);
        tt_diag_print(d, stderr);
        tt_diag_clear(d);
        so.store8k = su.store;
        so.store16k = wide;
        signals_catch_stop(&stop_signal);
        signals_catch_reload(&reload_signals);
        err = tt_sip_serve(slot, &so, d);
    }
    tt_store_free(wide);
    wide = NULL;
    for (size_t i = 0; wide_d && i < tt_diag_len(wide_d); i++) {
        const struct tt_diag_msg *m = tt_diag_get(wide_d, i);
        tt_diag_add(d, m->sev, m->file, m->line, "%s", m->text);
    }
    setup_end_store(&su, d);
    rc = stopped_status(report(d, err));
out:
    if (lf && fclose(lf) != 0 && !rc) {
        fprintf(stderr, "%s: cannot finish writing the call log\n", log);
        rc = EXIT_RUN;
    }
    tt_store_free(wide);
    tt_diag_free(wide_d);
    tt_menu_slot_free(slot);
    setup_close(&su);
    return rc;
}

/* A menu and (for script) its phrases, in the language asked for: what script and graph read. */
static int open_menu_lang(const char *path, const char *lang, tt_menu **m, int *li, tt_diag *d)
{
    int err = tt_menu_load(m, path, d);
    if (err)
        return err;
    *li = 0;
    if (lang && (*li = tt_menu_lang_index(*m, lang)) < 0) {
        tt_diag_add(d, TT_ERROR, path, 0,
                    "this menu has no language '%s'; its languages are listed in "
                    "[tonetree] languages",
                    lang);
        return EINVAL;
    }
    return 0;
}

static int cmd_script(int argc, char **argv, tt_diag *d)
{
    static const struct option opts[] = {
        {"lang", required_argument, NULL, 'l'},    {"format", required_argument, NULL, 'f'},
        {"width", required_argument, NULL, 'w'},   {"prompts", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const struct command *cmd = &commands[CMD_SCRIPT];
    const char *lang = NULL, *prompts = NULL;
    enum tt_script_format fmt = TT_SCRIPT_TXT;
    struct tt_script_opts so = {0};
    tt_menu *m = NULL;
    tt_phrases *ph[8] = {0};
    int c, li, err, rc;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":l:f:w:p:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': lang = optarg; break;
        case 'p': prompts = optarg; break;
        case 'w':
            if (!whole(optarg, 20, 1000, &so.width))
                return usage_error(cmd, "--width takes columns, 20 to 1000, not '%s'", optarg);
            break;
        case 'f':
            if (tt_script_format_parse(optarg, &fmt))
                return usage_error(cmd, "--format takes txt, md or html, not '%s'", optarg);
            break;
        default:
            return other_option(cmd, c, argv, opts);
        }
    }
    if ((rc = one_menu(cmd, argc)))
        return rc;
    if (!(err = open_menu_lang(argv[optind], lang, &m, &li, d)) &&
        !(err = tt_phrases_load_all(m, prompts, ph, d))) {
        so.prompts_dir = prompts ? prompts : tt_menu_prompts_dir(m);
        err = tt_script_write(output, m, ph, li, fmt, &so, d);
    }
    tt_phrases_free_all(m, ph);
    tt_menu_free(m);
    return report(d, err);
}

static int cmd_graph(int argc, char **argv, tt_diag *d)
{
    static const struct option opts[] = {
        {"lang", required_argument, NULL, 'l'}, {"svg", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    const struct command *cmd = &commands[CMD_GRAPH];
    const char *lang = NULL;
    bool svg = false;
    tt_menu *m = NULL;
    int c, li, err, rc;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":l:sh", opts, NULL)) != -1) {
        if (c == 'l')
            lang = optarg;
        else if (c == 's')
            svg = true;
        else
            return other_option(cmd, c, argv, opts);
    }
    if ((rc = one_menu(cmd, argc)))
        return rc;
    if (!(err = open_menu_lang(argv[optind], lang, &m, &li, d)))
        err = svg ? tt_graph_svg(output, m, li, d) : tt_graph_write(output, m, li, d);
    else
        svg = false; /* the menu's error: status_of's to tell */
    tt_menu_free(m);
    /* dot failing to start or to draw (not installed: ENOENT) is tonetree's failure to do it,
     * not the menu's */
    if (svg && err && err != EINVAL)
        return report(d, err) ? EXIT_RUN : 0;
    return report(d, err);
}

static int cmd_dtmf(int argc, char **argv)
{
    static const struct option opts[] = {
        {"verbose", no_argument, NULL, 'v'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const struct command *cmd = &commands[CMD_DTMF];
    bool verbose = false;
    int c, rc = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
        if (c != 'v')
            return other_option(cmd, c, argv, opts);
        verbose = true;
    }
    if (optind >= argc)
        return usage_error(cmd, "give at least one audio file");
    for (int i = optind; i < argc; i++) {
        char why[256];
        int err = tt_dtmf_file(argv[i], verbose, output, why, sizeof(why));
        if (err) {
            fprintf(stderr, "tonetree: %s: %s\n", argv[i], why);
            int st = status_of(err);
            rc = st > rc ? st : rc;
        }
    }
    return rc;
}

static int cmd_devices(int argc, char **argv, tt_diag *d)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const struct command *cmd = &commands[CMD_DEVICES];
    int c;
    optind = 1;
    if ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1)
        return other_option(cmd, c, argv, opts);
    if (optind < argc)
        return usage_error(cmd, "takes no file ('%s')", argv[optind]);
    /* the devices' own failures are tonetree's: there is no input to blame */
    int err = tt_out_list(output, d);
    return report(d, err) ? EXIT_RUN : 0;
}

/* A progress bar on a terminal; nothing when stderr is a file or a pipe. */
static void show_progress(size_t done, size_t total, void *arg)
{
    (void)arg;
    if (!isatty(STDERR_FILENO) || !total)
        return;
    int width = 40, filled = (int)(done * (size_t)width / total);
    fprintf(stderr, "\rpreparing prompts [%.*s%*s] %zu/%zu", filled,
            "########################################", width - filled, "", done, total);
    if (done == total)
        fputc('\n', stderr);
}

static int cmd_prompts(int argc, char **argv, tt_diag *d)
{
    static const struct option opts[] = {
        setup_opts[0], setup_opts[1], setup_opts[2], setup_opts[3], setup_opts[4], setup_opts[5],
        {"list", no_argument, NULL, 'T'}, {"missing", no_argument, NULL, 'M'},
        {"width", required_argument, NULL, 'w'}, {NULL, 0, NULL, 0},
    };
    const struct command *cmd = &commands[CMD_PROMPTS];
    struct setup su = {.cache = default_cache_dir(), .rate = 16000};
    int c, rc = 0, err = 0, took, width = 0;
    bool list = false, missing = false;
    optind = 1;
    while ((c = getopt_long(argc, argv, SETUP_SHORT "w:", opts, NULL)) != -1) {
        if ((took = setup_option(&su, c, optarg, cmd)) < 0) {
            rc = EXIT_USAGE;
            goto out;
        }
        if (took)
            continue;
        switch (c) {
        case 'T': list = true; break;
        case 'M': missing = true; break;
        case 'w':
            if (!whole(optarg, 20, 1000, &width)) {
                rc = usage_error(cmd, "--width takes columns, 20 to 1000, not '%s'", optarg);
                goto out;
            }
            break;
        default:
            rc = other_option(cmd, c, argv, opts);
            goto out;
        }
    }
    if ((rc = one_menu(cmd, argc)))
        goto out;
    if (list && missing) {
        rc = usage_error(cmd, "--list and --missing cannot go together");
        goto out;
    }
    if ((err = setup_open(&su, argv[optind], d)))
        goto report;
    /* --missing only reads what is recorded: it synthesizes nothing. */
    if (!missing && (err = tt_store_prepare(su.store, su.m, su.ph, show_progress, NULL)))
        goto report;
    if (list || missing) {
        struct tt_prompts_list_opts po = {
            .rate = su.rate,
            .prompts_dir = su.prompts ? su.prompts : tt_menu_prompts_dir(su.m),
            .lang = su.lang ? su.lang_index : -1,
            .missing_only = missing,
            .width = width,
        };
        err = tt_prompts_list(output, su.store, su.m, &po, d);
    } else {
        struct tt_store_stats st;
        tt_store_stats(su.store, &st);
        fprintf(output, "prompts ready: %u recorded, %u synthesized now, %u from the cache, "
                "%u recordings that could not be used\n",
                st.recordings, st.synthesized, st.disk_hits, st.fallbacks);
    }
report:
    setup_end_store(&su, d);
    rc = report(d, err);
out:
    setup_close(&su);
    return rc;
}

int main(int argc, char **argv)
{
    tt_diag *d = NULL;
    opterr = 0; /* option_error says what was wrong, once, in our words */
    /* A reader that went away (`tonetree check ... | head -1`) is a failed write, reported
     * once with status 3, not a death by SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    if (output_open() != 0 || !(d = tt_diag_new())) {
        fputs("tonetree: out of memory\n", stderr);
        return EXIT_RUN;
    }
    int rc;
    const char *name = argc > 1 ? argv[1] : NULL;
    const struct command *cmd = name ? find_command(name) : NULL;
    if (!name) {
        rc = usage_error(NULL, "give a command");
    } else if (!strcmp(name, "--version") || !strcmp(name, "-V") || !strcmp(name, "version")) {
        if (argc > 2) {
            rc = usage_error(NULL, "--version takes nothing after it");
        } else {
            fprintf(output, "tonetree %s\n", tt_version());
            rc = 0;
        }
    } else if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
        rc = usage_all();
    } else if (!cmd) {
        rc = usage_error(NULL, "there is no command '%s'", name);
    } else if (cmd == &commands[CMD_HELP]) {
        const struct command *about = argc > 2 ? find_command(argv[2]) : NULL;
        if (argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")))
            rc = command_help(cmd);
        else if (argc > 3)
            rc = usage_error(cmd, "give one command at most");
        else if (argc == 3 && !about)
            rc = usage_error(cmd, "there is no command '%s'", argv[2]);
        else
            rc = about && about != cmd ? command_help(about) : usage_all();
    } else if (cmd == &commands[CMD_RENDER]) {
        rc = cmd_render(argc - 1, argv + 1, d);
    } else if (cmd == &commands[CMD_RUN]) {
        rc = cmd_run(argc - 1, argv + 1, d);
    } else if (cmd == &commands[CMD_LINE]) {
        rc = cmd_line(argc - 1, argv + 1, d);
    } else if (cmd == &commands[CMD_SIP]) {
        rc = cmd_sip(argc - 1, argv + 1, d);
    } else if (cmd == &commands[CMD_DTMF]) {
        rc = cmd_dtmf(argc - 1, argv + 1);
    } else if (cmd == &commands[CMD_DEVICES]) {
        rc = cmd_devices(argc - 1, argv + 1, d);
    } else if (cmd == &commands[CMD_SCRIPT]) {
        rc = cmd_script(argc - 1, argv + 1, d);
    } else if (cmd == &commands[CMD_GRAPH]) {
        rc = cmd_graph(argc - 1, argv + 1, d);
    } else if (cmd == &commands[CMD_PROMPTS]) {
        rc = cmd_prompts(argc - 1, argv + 1, d);
    } else {
        rc = cmd_check(argc - 1, argv + 1, d);
    }
    tt_diag_free(d);
    return output_finish(rc);
}
