/*
 * The tonetree command. This is the one place that reports to the user: library calls return
 * error codes and leave their messages in a tt_diag, which is printed here, on stderr, as
 * "file:line: error: what to do" lines. Exit status: 0 done, 1 the input has errors,
 * 2 tonetree could not run (bad arguments, a file it cannot write).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tonetree.h"

#define EXIT_INPUT 1
#define EXIT_RUN 2

static const char usage_text[] =
    "usage: tonetree COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  render MENU --keys SCRIPT -o OUT.wav [--transcript FILE|-] [--lang CODE]\n"
    "         [--rate HZ] [--cache DIR | --no-cache] [--prompts DIR] [--end goodbye|reset]\n"
    "      run a whole session with no audio device; see docs/render.md\n"
    "  check MENU...\n"
    "      load and validate menus; exit 0 with no errors, 1 with errors\n"
    "  help\n"
    "      this text\n";

static int usage(const char *why)
{
    if (why)
        fprintf(stderr, "tonetree: %s\n\n", why);
    fputs(usage_text, why ? stderr : stdout);
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
    if (argc < 2)
        return usage("check needs at least one menu file");
    int worst = 0;
    for (int i = 1; i < argc; i++) {
        tt_menu *m = NULL;
        int err = tt_menu_load(&m, argv[i], d);
        tt_phrases *ph[8] = {0};
        if (!err) {
            err = tt_phrases_load_all(m, NULL, ph, d);
            for (size_t l = 0; l < tt_menu_lang_count(m); l++)
                tt_phrases_free(ph[l]);
        }
        int rc = report(d, err);
        tt_diag_clear(d);
        if (rc > worst)
            worst = rc;
        tt_menu_free(m);
    }
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

static int cmd_render(int argc, char **argv, tt_diag *d)
{
    static const struct option opts[] = {
        {"keys", required_argument, NULL, 'k'},   {"output", required_argument, NULL, 'o'},
        {"transcript", required_argument, NULL, 't'}, {"lang", required_argument, NULL, 'l'},
        {"rate", required_argument, NULL, 'r'},   {"cache", required_argument, NULL, 'c'},
        {"no-cache", no_argument, NULL, 'C'},     {"prompts", required_argument, NULL, 'p'},
        {"end", required_argument, NULL, 'e'},    {NULL, 0, NULL, 0},
    };
    const char *keys = "", *out = NULL, *transcript = NULL, *lang = NULL, *prompts = NULL;
    char *cache = default_cache_dir();
    int rate = 16000, c, rc = 0, err = 0;
    enum tt_end_mode end_mode = TT_END_GOODBYE;
    tt_menu *m = NULL;
    tt_store *store = NULL;
    tt_phrases *ph[8] = {0};
    FILE *tf = NULL;

    optind = 1;
    while ((c = getopt_long(argc, argv, "k:o:t:l:r:c:Cp:e:", opts, NULL)) != -1) {
        switch (c) {
        case 'k': keys = optarg; break;
        case 'o': out = optarg; break;
        case 't': transcript = optarg; break;
        case 'l': lang = optarg; break;
        case 'p': prompts = optarg; break;
        case 'c': free(cache); cache = strdup(optarg); break;
        case 'C': free(cache); cache = NULL; break;
        case 'r':
            rate = atoi(optarg);
            if (rate < 8000 || rate > 192000) {
                rc = usage("--rate takes a sample rate from 8000 to 192000 Hz");
                goto out;
            }
            break;
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
    if ((err = tt_menu_load(&m, argv[optind], d)))
        goto report;
    int lang_index = 0;
    if (lang && (lang_index = tt_menu_lang_index(m, lang)) < 0) {
        tt_diag_add(d, TT_ERROR, argv[optind], 0,
                    "this menu has no language '%s'; its languages are listed in "
                    "[tonetree] languages",
                    lang);
        err = EINVAL;
        goto report;
    }
    if ((err = tt_phrases_load_all(m, prompts, ph, d)))
        goto report;
    struct tt_store_opts so = {
        .rate = rate,
        .prompts_dir = prompts ? prompts : tt_menu_prompts_dir(m),
        .cache_dir = cache,
    };
    if ((err = tt_store_new(&store, &so, d)))
        goto report;
    if (transcript) {
        tf = strcmp(transcript, "-") ? fopen(transcript, "w") : stdout;
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
        .lang = lang_index,
        .rate = rate,
        .end_mode = end_mode,
    };
    err = tt_render(m, ph, store, &ro, d);
report:
    rc = report(d, err);
out:
    if (tf && tf != stdout && fclose(tf) && !rc) {
        fprintf(stderr, "%s: cannot finish writing the transcript\n", transcript);
        rc = EXIT_RUN;
    }
    tt_store_free(store);
    if (m)
        for (size_t l = 0; l < tt_menu_lang_count(m); l++)
            tt_phrases_free(ph[l]);
    tt_menu_free(m);
    free(cache);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage("no command given");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h"))
        return usage(NULL);
    tt_diag *d = tt_diag_new();
    if (!d) {
        fputs("tonetree: out of memory\n", stderr);
        return EXIT_RUN;
    }
    int rc;
    if (!strcmp(cmd, "render"))
        rc = cmd_render(argc - 1, argv + 1, d);
    else if (!strcmp(cmd, "check"))
        rc = cmd_check(argc - 1, argv + 1, d);
    else
        rc = usage("unknown command");
    tt_diag_free(d);
    return rc;
}
