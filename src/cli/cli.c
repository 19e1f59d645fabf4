/*
 * The tonetree command. This is the one place that reports to the user: library calls return
 * error codes and leave their messages in a tt_diag, which is printed here, on stderr, as
 * "file:line: error: what to do" lines. Exit status: 0 done, 1 the input has errors,
 * 2 tonetree could not run (bad arguments, a file it cannot write, output that was lost).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"
#include "device/audio_out.h"
#include "drivers/drv_line.h"
#include "tonetree.h"
#include "tools/dtmf_file.h"
#include "tools/graph.h"
#include "tools/lint.h"
#include "tools/prompt_list.h"
#include "tools/script.h"

#define EXIT_INPUT 1
#define EXIT_RUN 2

static const char usage_text[] =
    "usage: tonetree COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  run MENU [--device NAME|INDEX] [--idle SECONDS] [--log FILE [--log-visits]]\n"
    "         [--lang CODE]\n"
    "         [--keymap keymaps/usb-numpad.ini [--keypad /dev/input/eventN|auto]]\n"
    "         [--rate HZ] [--cache DIR] [--prompts DIR]\n"
    "      the kiosk: speak the menu on the audio device, keys from this terminal\n"
    "  line MENU [--device NAME|INDEX] [--hangup SECONDS] [--transcript FILE|-]\n"
    "         [--lang CODE] [--rate HZ] [--cache DIR] [--prompts DIR]\n"
    "      a telephone line: prompts out and DTMF keys in on one audio device; the call\n"
    "      ends at goodbye, or when the caller hangs up (silence, or a busy tone)\n"
    "  devices\n"
    "      list the audio output devices\n"
    "  dtmf [-v] FILE...\n"
    "      the DTMF digits in each audio file, one line per file; -v adds each digit's\n"
    "      start time and level\n"
    "  render MENU --keys SCRIPT -o OUT.wav [--transcript FILE|-] [--lang CODE]\n"
    "         [--rate HZ] [--cache DIR | --no-cache] [--prompts DIR] [--end goodbye|reset]\n"
    "      run a whole session with no audio device; see docs/render.md\n"
    "  prompts MENU [--list | --missing] [--lang CODE] [--width N] [--rate HZ]\n"
    "         [--cache DIR] [--prompts DIR]\n"
    "      prepare every prompt ahead of time (synthesize and cache what has no recording);\n"
    "      --list: recorded or synthesized, duration and text of each; --missing: a script\n"
    "      of what still needs a human recording\n"
    "  script MENU [--lang CODE] [--format txt|md|html] [--width N] [--prompts DIR]\n"
    "      the whole spoken script, node by node, with the keys that reach each node\n"
    "  graph MENU [--lang CODE] [--svg]\n"
    "      the menu as a Graphviz graph (dot; --svg draws it through dot)\n"
    "  check [--format text|json] [--recordings] [--max-seconds N] [--max-depth N] MENU...\n"
    "      lint menus (docs/lint-rules.md); exit 0 with no errors, 1 with errors, 2 when\n"
    "      it could not run\n"
    "  help\n"
    "      this text\n";

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

static int usage(const char *why)
{
    if (why)
        fprintf(stderr, "tonetree: %s\n\n", why);
    fputs(usage_text, why ? stderr : output);
    return why ? EXIT_RUN : 0;
}

/* Report what the library said, and turn its error code into an exit status. */
static int report(tt_diag *d, int err)
{
    tt_diag_print(d, stderr);
    if (!err)
        return 0;
    if (err == EINVAL)
        return EXIT_INPUT;
    if (!tt_diag_count(d, TT_ERROR))
        fprintf(stderr, "tonetree: error: %s\n", strerror(err));
    return EXIT_RUN;
}

static int cmd_check(int argc, char **argv, tt_diag *d)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},      {"recordings", no_argument, NULL, 'r'},
        {"max-seconds", required_argument, NULL, 's'}, {"max-depth", required_argument, NULL, 'D'},
        {NULL, 0, NULL, 0},
    };
    struct tt_lint_opts lo = {0};
    bool json = false;
    int c, worst = 0;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "json") && strcmp(optarg, "text"))
                return usage("--format takes text or json");
            json = !strcmp(optarg, "json");
            break;
        case 'r':
            lo.expect_recordings = true;
            break;
        case 's':
            lo.max_prompt_seconds = strtod(optarg, &end);
            if (*end || !(lo.max_prompt_seconds >= 1 && lo.max_prompt_seconds <= 3600))
                return usage("--max-seconds takes a number of seconds, 1 to 3600 (default 20)");
            break;
        case 'D':
            lo.max_depth = (int)strtol(optarg, &end, 10);
            if (*end || lo.max_depth < 1 || lo.max_depth > 1000)
                return usage("--max-depth takes a whole number, 1 to 1000 (default 8)");
            break;
        default:
            return usage("unknown option for check");
        }
    }
    if (optind >= argc)
        return usage("check needs at least one menu file");
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
        int rc = err && err != EINVAL ? EXIT_RUN
                 : tt_diag_count(d, TT_ERROR) > errors ? EXIT_INPUT
                                                        : 0;
        if (rc == EXIT_RUN && tt_diag_count(d, TT_ERROR) == errors)
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
};

/* Options both commands take; returns 1 when it took one, 0 when it is not one of them,
 * and -1 (after printing usage) when its value is wrong. */
static int setup_option(struct setup *su, int c, const char *arg)
{
    switch (c) {
    case 'p':
        su->prompts = arg;
        return 1;
    case 'l':
        su->lang = arg;
        return 1;
    case 'c':
        free(su->cache);
        su->cache = strdup(arg);
        return 1;
    case 'C':
        free(su->cache);
        su->cache = NULL;
        return 1;
    case 'r':
        su->rate = atoi(arg);
        if (su->rate < 8000 || su->rate > 192000) {
            usage("--rate takes a sample rate from 8000 to 192000 Hz");
            return -1;
        }
        return 1;
    default:
        return 0;
    }
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
    struct tt_store_opts so = {
        .rate = su->rate,
        .prompts_dir = su->prompts ? su->prompts : tt_menu_prompts_dir(su->m),
        .cache_dir = su->cache,
    };
    return tt_store_new(&su->store, &so, d);
}

static void setup_close(struct setup *su)
{
    tt_store_free(su->store);
    tt_phrases_free_all(su->m, su->ph);
    tt_menu_free(su->m);
    free(su->cache);
}

static const struct option setup_opts[] = {
    {"lang", required_argument, NULL, 'l'},   {"rate", required_argument, NULL, 'r'},
    {"cache", required_argument, NULL, 'c'},  {"no-cache", no_argument, NULL, 'C'},
    {"prompts", required_argument, NULL, 'p'},
};
#define SETUP_SHORT "l:r:c:Cp:"

static int cmd_render(int argc, char **argv, tt_diag *d)
{
    static const struct option opts[] = {
        setup_opts[0], setup_opts[1], setup_opts[2], setup_opts[3], setup_opts[4],
        {"keys", required_argument, NULL, 'k'}, {"output", required_argument, NULL, 'o'},
        {"transcript", required_argument, NULL, 't'}, {"end", required_argument, NULL, 'e'},
        {NULL, 0, NULL, 0},
    };
    struct setup su = {.cache = default_cache_dir(), .rate = 16000};
    const char *keys = "", *out = NULL, *transcript = NULL;
    int c, rc = 0, err = 0, took;
    enum tt_end_mode end_mode = TT_END_GOODBYE;
    FILE *tf = NULL;

    optind = 1;
    while ((c = getopt_long(argc, argv, SETUP_SHORT "k:o:t:e:", opts, NULL)) != -1) {
        if ((took = setup_option(&su, c, optarg)) < 0) {
            rc = EXIT_RUN;
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
                rc = usage("--end takes goodbye or reset");
                goto out;
            }
            break;
        default:
            rc = usage("unknown option for render");
            goto out;
        }
    }
    if (optind != argc - 1) {
        rc = usage("render needs exactly one menu file");
        goto out;
    }
    if (!out && !transcript) {
        rc = usage("render needs -o OUT.wav, --transcript FILE, or both");
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

static int cmd_run(int argc, char **argv, tt_diag *d)
{
    static const struct option opts[] = {
        setup_opts[0], setup_opts[1], setup_opts[2], setup_opts[3], setup_opts[4],
        {"device", required_argument, NULL, 'd'}, {"idle", required_argument, NULL, 'i'},
        {"log", required_argument, NULL, 'L'},   {"keymap", required_argument, NULL, 'K'},
        {"keypad", required_argument, NULL, 'P'}, {"log-visits", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct setup su = {.cache = default_cache_dir(), .rate = 48000};
    struct tt_kiosk_opts ko = {.idle_ms = 120000, .key_fd = STDIN_FILENO, .transcript = stdout};
    int c, rc = 0, err = 0, took;
    optind = 1;
    while ((c = getopt_long(argc, argv, SETUP_SHORT "d:i:L:K:P:", opts, NULL)) != -1) {
        if ((took = setup_option(&su, c, optarg)) < 0) {
            rc = EXIT_RUN;
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
            if (*end || sec < 0 || sec > 86400) {
                rc = usage("--idle takes seconds, 0 to 86400 (0: never)");
                goto out;
            }
            ko.idle_ms = (tt_ms)(sec * 1000);
            break;
        }
        default:
            rc = usage("unknown option for run");
            goto out;
        }
    }
    if (optind != argc - 1) {
        rc = usage("run needs exactly one menu file");
        goto out;
    }
    if (ko.log_visits && !ko.log_path) {
        rc = usage("--log-visits needs --log FILE");
        goto out;
    }
    if (!(err = setup_open(&su, argv[optind], d)) &&
        !(err = tt_store_prepare(su.store, su.m, su.ph, show_progress, NULL))) {
        tt_diag_print(d, stderr); /* warnings (a recording that cannot be used, ...) first */
        tt_diag_clear(d);
        ko.rate = su.rate;
        ko.lang = su.lang_index;
        err = tt_kiosk_run(su.m, su.ph, su.store, &ko, d);
    }
    rc = report(d, err);
out:
    setup_close(&su);
    return rc;
}

static int cmd_line(int argc, char **argv, tt_diag *d)
{
    static const struct option opts[] = {
        setup_opts[0], setup_opts[1], setup_opts[2], setup_opts[3], setup_opts[4],
        {"device", required_argument, NULL, 'd'}, {"hangup", required_argument, NULL, 'H'},
        {"transcript", required_argument, NULL, 't'}, {NULL, 0, NULL, 0},
    };
    struct setup su = {.cache = default_cache_dir(), .rate = 16000};
    struct tt_line_opts lo = {.transcript = stdout};
    const char *transcript = NULL;
    FILE *tf = NULL;
    int c, rc = 0, err = 0, took;
    optind = 1;
    while ((c = getopt_long(argc, argv, SETUP_SHORT "d:H:t:", opts, NULL)) != -1) {
        if ((took = setup_option(&su, c, optarg)) < 0) {
            rc = EXIT_RUN;
            goto out;
        }
        if (took)
            continue;
        switch (c) {
        case 'd': lo.device = optarg; break;
        case 't': transcript = optarg; break;
        case 'H': {
            char *end;
            double sec = strtod(optarg, &end);
            if (*end || sec < 1 || sec > 3600) {
                rc = usage("--hangup takes seconds, 1 to 3600");
                goto out;
            }
            lo.hangup_ms = (tt_ms)(sec * 1000);
            break;
        }
        default:
            rc = usage("unknown option for line");
            goto out;
        }
    }
    if (optind != argc - 1) {
        rc = usage("line needs exactly one menu file");
        goto out;
    }
    if (transcript && strcmp(transcript, "-") && !(tf = lo.transcript = fopen(transcript, "w"))) {
        fprintf(stderr, "%s: cannot write the transcript\n", transcript);
        rc = EXIT_RUN;
        goto out;
    }
    if (!(err = setup_open(&su, argv[optind], d)) &&
        !(err = tt_store_prepare(su.store, su.m, su.ph, show_progress, NULL))) {
        tt_diag_print(d, stderr);
        tt_diag_clear(d);
        lo.rate = su.rate;
        lo.lang = su.lang_index;
        err = tt_line_run(su.m, su.ph, su.store, &lo, d);
    }
    rc = report(d, err);
out:
    if (tf) {
        bool lost = ferror(tf);
        if ((fclose(tf) != 0 || lost) && !rc) {
            fprintf(stderr, "%s: cannot finish writing the transcript\n", transcript);
            rc = EXIT_RUN;
        }
    }
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
        {NULL, 0, NULL, 0},
    };
    const char *lang = NULL, *prompts = NULL;
    enum tt_script_format fmt = TT_SCRIPT_TXT;
    struct tt_script_opts so = {0};
    tt_menu *m = NULL;
    tt_phrases *ph[8] = {0};
    int c, li, err;
    optind = 1;
    while ((c = getopt_long(argc, argv, "l:f:w:p:", opts, NULL)) != -1) {
        switch (c) {
        case 'l': lang = optarg; break;
        case 'p': prompts = optarg; break;
        case 'w': so.width = atoi(optarg); break;
        case 'f':
            if (tt_script_format_parse(optarg, &fmt))
                return usage("--format takes txt, md or html");
            break;
        default:
            return usage("unknown option for script");
        }
    }
    if (optind != argc - 1)
        return usage("script needs exactly one menu file");
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
        {NULL, 0, NULL, 0},
    };
    const char *lang = NULL;
    bool svg = false;
    tt_menu *m = NULL;
    int c, li, err;
    optind = 1;
    while ((c = getopt_long(argc, argv, "l:s", opts, NULL)) != -1) {
        if (c == 'l')
            lang = optarg;
        else if (c == 's')
            svg = true;
        else
            return usage("unknown option for graph");
    }
    if (optind != argc - 1)
        return usage("graph needs exactly one menu file");
    if (!(err = open_menu_lang(argv[optind], lang, &m, &li, d)))
        err = svg ? tt_graph_svg(output, m, li, d) : tt_graph_write(output, m, li, d);
    tt_menu_free(m);
    return report(d, err);
}

static int cmd_dtmf(int argc, char **argv)
{
    bool verbose = false;
    int c, rc = 0;
    optind = 1;
    while ((c = getopt(argc, argv, "v")) != -1) {
        if (c != 'v')
            return usage("unknown option for dtmf");
        verbose = true;
    }
    if (optind >= argc)
        return usage("dtmf needs at least one audio file");
    for (int i = optind; i < argc; i++) {
        char why[256];
        int err = tt_dtmf_file(argv[i], verbose, output, why, sizeof(why));
        if (err) {
            fprintf(stderr, "tonetree: %s: %s\n", argv[i], why);
            rc = err == EINVAL ? (rc ? rc : EXIT_INPUT) : EXIT_RUN;
        }
    }
    return rc;
}

static int cmd_devices(tt_diag *d)
{
    return report(d, tt_out_list(output, d));
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
        setup_opts[0], setup_opts[1], setup_opts[2], setup_opts[3], setup_opts[4],
        {"list", no_argument, NULL, 'T'}, {"missing", no_argument, NULL, 'M'},
        {"width", required_argument, NULL, 'w'}, {NULL, 0, NULL, 0},
    };
    struct setup su = {.cache = default_cache_dir(), .rate = 16000};
    int c, rc = 0, err = 0, took, width = 0;
    bool list = false, missing = false;
    optind = 1;
    while ((c = getopt_long(argc, argv, SETUP_SHORT "w:", opts, NULL)) != -1) {
        if ((took = setup_option(&su, c, optarg)) < 0) {
            rc = EXIT_RUN;
            goto out;
        }
        if (took)
            continue;
        switch (c) {
        case 'T': list = true; break;
        case 'M': missing = true; break;
        case 'w': width = atoi(optarg); break;
        default:
            rc = usage("unknown option for prompts");
            goto out;
        }
    }
    if (optind != argc - 1) {
        rc = usage("prompts needs exactly one menu file");
        goto out;
    }
    if (list && missing) {
        rc = usage("--list and --missing cannot go together");
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
    rc = report(d, err);
out:
    setup_close(&su);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage("no command given");
    tt_diag *d = NULL;
    if (output_open() != 0 || !(d = tt_diag_new())) {
        fputs("tonetree: out of memory\n", stderr);
        return EXIT_RUN;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        tt_diag_free(d);
        return output_finish(usage(NULL));
    }
    int rc;
    if (!strcmp(cmd, "render"))
        rc = cmd_render(argc - 1, argv + 1, d);
    else if (!strcmp(cmd, "run"))
        rc = cmd_run(argc - 1, argv + 1, d);
    else if (!strcmp(cmd, "line"))
        rc = cmd_line(argc - 1, argv + 1, d);
    else if (!strcmp(cmd, "dtmf"))
        rc = cmd_dtmf(argc - 1, argv + 1);
    else if (!strcmp(cmd, "devices"))
        rc = cmd_devices(d);
    else if (!strcmp(cmd, "script"))
        rc = cmd_script(argc - 1, argv + 1, d);
    else if (!strcmp(cmd, "graph"))
        rc = cmd_graph(argc - 1, argv + 1, d);
    else if (!strcmp(cmd, "prompts"))
        rc = cmd_prompts(argc - 1, argv + 1, d);
    else if (!strcmp(cmd, "check"))
        rc = cmd_check(argc - 1, argv + 1, d);
    else
        rc = usage("unknown command");
    tt_diag_free(d);
    return output_finish(rc);
}
