/*
 * The menu as a Graphviz graph.
 *
 * Nodes are listed in the reading order the script uses (tt_walk_menu), so the graph, the
 * script and the prompt lists agree on order. Every string goes out quoted, with the two
 * characters that mean something inside a dot string (" and \) escaped, so any title a
 * writer can put in a menu file draws as written and cannot break the graph.
 *
 * SVG comes from Graphviz's own dot program rather than a library: it is an optional tool
 * for the people who write menus, so the engine does not link it. dot reads an unlinked
 * temporary file and writes into a pipe that we only read, so nothing can block on a full
 * pipe and no SIGPIPE can reach the caller; its messages go to another temporary file and
 * come back in the diagnostics, since library code prints nothing itself.
 */
#include <errno.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/menu.h"
#include "tools/graph.h"
#include "tools/script.h"

extern char **environ;

/* Choice keys in the order people hear them: 1 to 9, then 0. */
static const char choice_order[] = "1234567890";

/* A dot quoted string: " and \ escaped, a line break as \n (dot's own line break). */
static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if (*s == '\n')
            fputs("\\n", f);
        else if (*s != '\r')
            fputc(*s, f);
    }
}

static void quoted(FILE *f, const char *s)
{
    fputc('"', f);
    put_escaped(f, s);
    fputc('"', f);
}

static void edge(FILE *f, const tt_menu *m, int from, int to, char key, const char *style)
{
    char label[2] = {key, 0};
    fputs("    ", f);
    quoted(f, m->nodes[from].id);
    fputs(" -> ", f);
    quoted(f, m->nodes[to].id);
    fputs(" [label=", f);
    quoted(f, label);
    if (style)
        fprintf(f, ", %s", style);
    fputs("];\n", f);
}

int tt_graph_write(FILE *f, const tt_menu *m, int lang, tt_diag *diag)
{
    struct tt_walk w;
    int err;
    if (lang < 0 || (size_t)lang >= m->nlangs) {
        tt_diag_add(diag, TT_ERROR, m->path, 0, "this menu has no language number %d", lang);
        return EINVAL;
    }
    if ((err = tt_walk_menu(m, &w))) {
        tt_diag_add(diag, TT_ERROR, NULL, 0, "out of memory drawing the menu");
        return err;
    }

    /* A comment line must not be ended early by a line break in the path. */
    fputs("// The menu ", f);
    put_escaped(f, m->path);
    fprintf(f, " (language %s), drawn by tonetree graph.\n", m->lang[lang]);
    fputs("// Draw it with Graphviz: dot -Tsvg menu.dot -o menu.svg\n", f);
    fputs("digraph \"menu\" {\n", f);
    /* The legend rides in the graph's own label, so every drawing carries it. */
    fputs("    graph [labelloc=t, fontname=\"Helvetica\", fontsize=20, label=\"", f);
    put_escaped(f, m->title[lang] ? m->title[lang] : m->path);
    fprintf(f,
            "\\nKeys are on the arrows. %c: the next page. %c (dashed): the previous page. "
            "Double border: the start. Dashed border: no key leads there.\"];\n",
            m->keys.skip, m->keys.back);
    fputs("    node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=14];\n", f);
    fputs("    edge [fontname=\"Helvetica\", fontsize=14];\n", f);

    for (size_t i = 0; i < w.n; i++) {
        int node = w.order[i];
        const struct tt_node *n = &m->nodes[node];
        fputs("    ", f);
        quoted(f, n->id);
        fputs(" [label=\"", f);
        put_escaped(f, n->id);
        fputs("\\n", f);
        put_escaped(f, n->title[lang] ? n->title[lang] : "");
        fputc('"', f);
        if (node == m->start)
            fputs(", peripheries=2, penwidth=2", f);
        else if (!tt_walk_reachable(&w, node))
            fputs(", style=\"rounded,dashed\"", f);
        fputs("];\n", f);
    }
    for (size_t i = 0; i < w.n; i++) {
        int node = w.order[i];
        const struct tt_node *n = &m->nodes[node];
        for (const char *k = choice_order; *k; k++) {
            int child = tt_node_choice(n, *k);
            if (child >= 0)
                edge(f, m, node, child, *k, NULL);
        }
        if (n->next >= 0)
            edge(f, m, node, n->next, m->keys.skip, NULL);
        /* The way back is drawn but does not shape the layout: pages stay in a row. */
        if (n->prev >= 0)
            edge(f, m, node, n->prev, m->keys.back, "style=dashed, constraint=false");
    }
    fputs("}\n", f);
    if (fflush(f) != 0 || ferror(f)) {
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "cannot write the graph: the disk may be full or the output closed");
        err = EIO;
    }
    tt_walk_free(&w);
    return err;
}

/* Copy what dot wrote; false if f could not take it. */
static bool copy_out(int fd, FILE *f, int *err)
{
    char buf[8192];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *err = errno;
            return false;
        }
        if (n == 0)
            return true;
        if (fwrite(buf, 1, (size_t)n, f) != (size_t)n) {
            *err = EIO;
            return false;
        }
    }
}

/* dot's own words about what went wrong, for the diagnostics. */
static void dot_said(FILE *errs, int status, tt_diag *diag)
{
    char buf[600];
    size_t n = 0;
    if (errs && fseek(errs, 0, SEEK_SET) == 0)
        n = fread(buf, 1, sizeof(buf) - 1, errs);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    if (WIFEXITED(status))
        tt_diag_add(diag, TT_ERROR, NULL, 0, "Graphviz dot failed (exit status %d)%s%s",
                    WEXITSTATUS(status), n ? ": " : "", buf);
    else
        tt_diag_add(diag, TT_ERROR, NULL, 0, "Graphviz dot stopped (signal %d)%s%s",
                    WIFSIGNALED(status) ? WTERMSIG(status) : 0, n ? ": " : "", buf);
}

int tt_graph_svg(FILE *f, const tt_menu *m, int lang, tt_diag *diag)
{
    static char arg0[] = "dot", arg1[] = "-Tsvg";
    char *argv[] = {arg0, arg1, NULL};
    posix_spawn_file_actions_t fa;
    bool fa_ok = false;
    FILE *in = NULL, *errs = NULL;
    int pipefd[2] = {-1, -1};
    pid_t pid = -1;
    int err = 0, status = 0;

    /* tmpfile(): already unlinked, so nothing is left behind whatever happens. */
    errno = 0;
    if (!(in = tmpfile()) || !(errs = tmpfile())) {
        err = errno ? errno : EIO;
        tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot make a temporary file for dot (%s)",
                    strerror(err));
        goto out;
    }
    if ((err = tt_graph_write(in, m, lang, diag)))
        goto out;
    if (fseek(in, 0, SEEK_SET) != 0 || pipe(pipefd) != 0) {
        err = errno ? errno : EIO;
        tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot set up Graphviz dot (%s)", strerror(err));
        goto out;
    }
    if ((err = posix_spawn_file_actions_init(&fa)))
        goto out;
    fa_ok = true;
    if ((err = posix_spawn_file_actions_adddup2(&fa, fileno(in), 0)) ||
        (err = posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1)) ||
        (err = posix_spawn_file_actions_adddup2(&fa, fileno(errs), 2)) ||
        (err = posix_spawn_file_actions_addclose(&fa, pipefd[0])))
        goto out;
    if (fflush(f) != 0) {
        err = EIO;
        goto out;
    }
    err = posix_spawnp(&pid, "dot", &fa, NULL, argv, environ);
    if (err) {
        pid = -1;
        if (err == ENOENT)
            tt_diag_add(diag, TT_ERROR, NULL, 0,
                        "Graphviz is not installed (no 'dot' program on the PATH): install "
                        "the graphviz package, or save the graph as text with "
                        "'tonetree graph MENU > menu.dot' and open it in any Graphviz viewer");
        else
            tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot run Graphviz dot (%s)",
                        strerror(err));
        goto out;
    }
    /* Our copy of the write end must go, or the read below never sees the end. */
    close(pipefd[1]);
    pipefd[1] = -1;
    if (!copy_out(pipefd[0], f, &err))
        tt_diag_add(diag, TT_ERROR, NULL, 0, "cannot write the drawing (%s)", strerror(err));
out:
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    if (pid > 0) {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (!err && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            dot_said(errs, status, diag);
            err = EIO;
        }
    }
    if (!err && (fflush(f) != 0 || ferror(f))) {
        tt_diag_add(diag, TT_ERROR, NULL, 0,
                    "cannot write the drawing: the disk may be full or the output closed");
        err = EIO;
    }
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    if (in)
        fclose(in);
    if (errs)
        fclose(errs);
    return err;
}
