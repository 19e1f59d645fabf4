/*
 * Prompt lists: what a menu's nodes sound like, for the people who record them.
 *
 * A recording stands in for a node's own text (never for the engine's words, which are
 * composed live from phrases), so these lists are about node texts, per language. The list
 * asks the prompt store itself, so "recorded" means a recording the engine can actually play,
 * not merely a file with the right name; its duration is what a listener hears. The
 * recording script is meant to be printed and read aloud in a booth, so it is plain lines:
 * the file to save, then the words, in the order a listener meets the nodes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/strbuf.h"
#include "core/menu.h"
#include "prompt/prompt.h"
#include "tools/prompt_list.h"
#include "tools/script.h"

static void rule(FILE *f, int width)
{
    for (int i = 0; i < width; i++)
        fputc('-', f);
    fputc('\n', f);
}

/* Recorded or synthesized, and how long, for every node of one language. */
/* One thing to record for a node: its text (k = 0) or its short text (k = 1), under the name
 * the store looks for, with the words as a reader sees them (numbers as written). */
struct rec_item {
    char id[TT_REC_ID_MAX];
    const char *text, *shown;
};

static bool rec_item(const struct tt_node *n, size_t l, int k, struct rec_item *it)
{
    const char *text = k ? n->brief[l] : n->text[l];
    const char *shown = k ? n->brief_shown[l] : n->shown[l];
    if (!text)
        return false;
    snprintf(it->id, sizeof(it->id), k ? "%s.short" : "%s", n->id);
    it->text = text;
    it->shown = shown ? shown : text;
    return true;
}
static int list_lang(FILE *f, tt_store *store, const tt_menu *m, const struct tt_walk *w,
                     const struct tt_prompts_list_opts *o, int width, size_t l)
{
    const char *lang = m->lang[l];
    char path[4096];
    size_t recorded = 0;
    double total = 0;
    int err = 0;

    size_t prompts = 0;
    fprintf(f, "\nLanguage %s (voice %s)\n\n", lang, m->voice[l]);
    for (size_t i = 0; i < w->n; i++) {
        const struct tt_node *n = &m->nodes[w->order[i]];
        for (int k = 0; k < 2; k++) {
            struct rec_item it;
            if (!rec_item(n, l, k, &it))
                continue;
            const struct tt_clip *clip;
            /* Speed 100 and the recording's name: the very request a session makes, so this
             * is the prepared clip and the duration a listener hears at the normal speed. */
            if ((err = tt_store_get(store, lang, m->voice[l], it.id, it.text, 100, &clip)))
                return err;
            double secs = (double)clip->frames / o->rate;
            bool file = tt_prompt_recording(o->prompts_dir, lang, it.id, path, sizeof(path)) == 0;
            bool recorded_clip = clip->recorded;
            tt_store_release(store, clip);
            total += secs;
            prompts++;
            if (recorded_clip) {
                recorded++;
                fprintf(f, "[%s] recorded, %.1f s: %s\n", it.id, secs, path);
            } else if (file) {
                fprintf(f, "[%s] synthesized, %.1f s (the recording %s cannot be used)\n",
                        it.id, secs, path);
            } else {
                fprintf(f, "[%s] synthesized, %.1f s\n", it.id, secs);
            }
            tt_script_wrap(f, it.shown, width, 2, 2);
            fputc('\n', f);
        }
    }
    fprintf(f, "\nLanguage %s: %zu recorded, %zu synthesized (%.0f s in all).\n", lang,
            recorded, prompts - recorded, total);
    return 0;
}

/* The recording script of one language: what to record, in reading order. */
static int missing_lang(FILE *f, tt_store *store, const tt_menu *m, const struct tt_walk *w,
                        const struct tt_prompts_list_opts *o, int width, size_t l,
                        size_t *count)
{
    const char *lang = m->lang[l];
    const char *dir = o->prompts_dir ? o->prompts_dir : "prompts";
    char path[4096];
    int err = 0;
    bool *todo = calloc(w->n ? 2 * w->n : 1, sizeof(bool)); /* [2 * i + k]: text, short */
    size_t ntodo = 0, done = 0;
    if (!todo)
        return ENOMEM;

    /* A file that is there but cannot be played is still missing. Only existing files go
     * to the store, to be decoded (it says in diag why one cannot be played, and speaks its
     * text instead); nodes without a file cost nothing, not even speech synthesis. */
    for (size_t i = 0; i < w->n; i++) {
        const struct tt_node *n = &m->nodes[w->order[i]];
        for (int k = 0; k < 2; k++) {
            struct rec_item it;
            if (!rec_item(n, l, k, &it))
                continue;
            const struct tt_clip *clip;
            if (tt_prompt_recording(o->prompts_dir, lang, it.id, path, sizeof(path)) == 0) {
                if ((err = tt_store_get(store, lang, m->voice[l], it.id, it.text, 100, &clip)))
                    goto out;
                bool recorded_clip = clip->recorded;
                tt_store_release(store, clip);
                if (recorded_clip)
                    continue;
            }
            todo[2 * i + (size_t)k] = true;
            ntodo++;
        }
    }
    *count += ntodo;
    if (!ntodo) {
        fprintf(f, "\nLanguage %s: nothing to record. Every node has a recording.\n", lang);
        goto out;
    }
    fprintf(f, "\nLanguage %s: %zu recording%s to make.\n\n", lang, ntodo, ntodo == 1 ? "" : "s");
    for (size_t j = 0; j < 2 * w->n; j++) {
        if (!todo[j])
            continue;
        const struct tt_node *n = &m->nodes[w->order[j / 2]];
        struct rec_item it;
        rec_item(n, l, (int)(j % 2), &it);
        rule(f, width);
        fprintf(f, "%zu of %zu. [%s] ", ++done, ntodo, it.id);
        fputs(n->title[l], f);
        if (j % 2)
            fputs(" (the short text, said on a return visit)", f);
        fputc('\n', f);
        if (tt_prompt_recording(o->prompts_dir, lang, it.id, path, sizeof(path)) == 0)
            fprintf(f, "File: %s (the file there cannot be played: record it again)\n\n",
                    path);
        else
            fprintf(f, "File: %s/%s/%s.wav\n\n", dir, lang, it.id);
        tt_script_wrap(f, it.shown, width, 0, 0);
        fputc('\n', f);
    }
    rule(f, width);
out:
    free(todo);
    return err;
}

int tt_prompts_list(FILE *f, tt_store *store, const tt_menu *m,
                    const struct tt_prompts_list_opts *o, tt_diag *diag)
{
    struct tt_walk w;
    int width = o->width ? o->width : TT_SCRIPT_WIDTH;
    size_t missing = 0;
    int err = 0;
    const char *title = m->title[0] ? m->title[0] : m->path;

    if (o->rate <= 0) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "the prompt list needs the store's output rate");
        return EINVAL;
    }
    if (o->lang >= (int)m->nlangs) {
        tt_diag_add(diag, TT_ERROR, m->path, 0, "this menu has no language number %d", o->lang);
        return EINVAL;
    }
    if (width < TT_SCRIPT_MIN_WIDTH || width > 1000) {
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "a line must be %d to 1000 characters wide, not %d", TT_SCRIPT_MIN_WIDTH,
                    width);
        return EINVAL;
    }
    if ((err = tt_walk_menu(m, &w)))
        goto out;

    if (o->missing_only) {
        fprintf(f, "Recording script: %s\n", title);
        fprintf(f, "Menu: %s\n\n", m->path);
        tt_script_wrap(f,
             "Read each text exactly as written, at a calm, even pace. Say telephone and "
             "case numbers one digit at a time, with a short pause between the groups. "
             "Save each recording under the file name given (WAV is safest; FLAC, Ogg and "
             "MP3 work too). Until a file is there, the engine speaks the text with a "
             "synthetic voice.",
             width, 0, 0);
    } else {
        fprintf(f, "Prompts: %s\n", title);
        fprintf(f, "Menu: %s\n", m->path);
        fprintf(f, "Recordings: %s/<language>/<node>.wav (or .flac, .ogg, .mp3, ...)\n",
                o->prompts_dir ? o->prompts_dir : "(none: every node is synthesized)");
    }
    for (size_t l = 0; l < m->nlangs && !err; l++) {
        if (o->lang >= 0 && (size_t)o->lang != l)
            continue;
        err = o->missing_only ? missing_lang(f, store, m, &w, o, width, l, &missing)
                              : list_lang(f, store, m, &w, o, width, l);
    }
    if (err)
        goto out;
    if (o->missing_only && o->lang < 0 && m->nlangs > 1)
        fprintf(f, "\n%zu recording%s to make in all.\n", missing, missing == 1 ? "" : "s");
    if (fflush(f) != 0 || ferror(f)) {
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "cannot write the prompt list: the disk may be full or the output closed");
        err = EIO;
    }
out:
    if (err == ENOMEM)
        tt_diag_add(diag, TT_ERROR, NULL, 0, "out of memory listing the prompts");
    tt_walk_free(&w);
    return err;
}
