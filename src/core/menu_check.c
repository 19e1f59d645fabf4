/*
 * Menu checks: what a menu means as a whole, once every node and value is known.
 *
 * A listener cannot see the tree: a key that goes nowhere, a choice on the key that repeats,
 * a page sequence that never ends or a node with no Spanish words would each strand someone
 * mid-call. So every such mistake is an error found here, at load time, with the line that
 * causes it and, where a near miss is likely (a typo in a node name), the name it probably
 * meant. A node nobody can reach is only a warning: it harms no listener, and a writer may
 * keep drafts in the file.
 *
 * Everything is linear in the number of nodes: links are resolved through the id hash map,
 * page loops are found with one colouring walk, reachability with one breadth-first walk.
 * "Did you mean" compares a name with every node id, so it draws on a fixed budget per load:
 * a file full of broken links still loads in bounded time, just with fewer suggestions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/suggest.h"
#include "core/menu_priv.h"

/* ---- Suggestions ----------------------------------------------------------------------------- */

bool tt_menu_suggest_init(struct tt_suggest *s, struct tt_load *ld, const char *word)
{
    if (ld->suggest_budget <= 0)
        return false;
    s->word = word;
    s->len = strlen(word);
    s->best[0] = '\0';
    s->dist = 3;
    s->budget = &ld->suggest_budget;
    return true;
}

void tt_menu_suggest_try(struct tt_suggest *s, const char *candidate)
{
    if (*s->budget <= 0)
        return;
    (*s->budget)--;
    size_t cl = strlen(candidate);
    if (cl >= sizeof(s->best))
        return;
    int d = tt_edit_distance(s->word, s->len, candidate, cl, s->dist - 1, s->budget);
    if (d > 0 && d < s->dist) {
        s->dist = d;
        memcpy(s->best, candidate, cl + 1);
    }
}

const char *tt_menu_suggest_best(const struct tt_suggest *s)
{
    return s->dist <= 2 ? s->best : NULL;
}

const char *tt_menu_suggest_node(struct tt_load *ld, const char *word)
{
    char low[TT_ID_MAX + 8];
    size_t n = strlen(word);
    struct tt_suggest s;
    if (n >= sizeof(low))
        return NULL;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)(word[i] >= 'A' && word[i] <= 'Z' ? word[i] - 'A' + 'a' : word[i]);
    if (!tt_menu_suggest_init(&s, ld, low))
        return NULL;
    const char *best = NULL;
    int dist = 3;
    for (size_t i = 0; i < ld->m->nnodes && dist > 1; i++) {
        tt_menu_suggest_try(&s, ld->m->nodes[i].id);
        if (s.dist < dist) {
            dist = s.dist;
            best = ld->m->nodes[i].id; /* the menu's own copy outlives the message */
        }
    }
    return best;
}

/* ---- Links ----------------------------------------------------------------------------------- */

/* A node's index from a name as written (values keep their case; ids are lowercase). */
static int resolve(struct tt_load *ld, const struct tt_ref *r, const char *what)
{
    char low[TT_ID_MAX + 1];
    size_t n = strlen(r->to);
    if (n <= TT_ID_MAX) {
        for (size_t i = 0; i <= n; i++)
            low[i] = (char)(r->to[i] >= 'A' && r->to[i] <= 'Z' ? r->to[i] - 'A' + 'a' : r->to[i]);
        int i = tt_menu_map_get(&ld->ids, 0, low, n);
        if (i >= 0)
            return i;
        if (!strcmp(low, TT_SETTINGS)) {
            tt_menu_msg_rule(ld, TT_ERROR, r->line, "dangling-key",
                             "%s goes to 'tonetree', which holds the settings and is not a node",
                             what);
            return -1;
        }
    }
    const char *best = tt_menu_suggest_node(ld, r->to);
    char hint[TT_ID_MAX + 24] = "";
    if (best)
        snprintf(hint, sizeof(hint), " (did you mean '%s'?)", best);
    tt_menu_msg_rule(ld, TT_ERROR, r->line, "dangling-key",
                     "%s goes to '%.40s', which is not a node%s", what, r->to, hint);
    return -1;
}

/* Which engine key is key, or -1. */
static int engine_key_of(const struct tt_keys *keys, char key)
{
    for (int e = 0; e < TT_ROLE_COUNT; e++)
        if (tt_menu_key_get(keys, (enum tt_menu_role)e) == key)
            return e;
    return -1;
}

static void check_choices(struct tt_load *ld, int node)
{
    tt_menu *m = ld->m;
    struct tt_node *nd = &m->nodes[node];
    const struct tt_node_src *src = &ld->src[node];
    int count = 0;
    for (int slot = 0; slot < TT_MAX_CHOICES; slot++) {
        const struct tt_ref *r = &src->choice[slot];
        if (!r->to)
            continue;
        char key = (char)('0' + slot), what[8];
        int e = engine_key_of(&m->keys, key);
        if (e >= 0) {
            char set[48] = "";
            if (ld->key_line[e])
                snprintf(set, sizeof(set), " (set by %s on line %d)", tt_menu_key_name(e),
                         ld->key_line[e]);
            tt_menu_msg_rule(ld, TT_ERROR, r->line, "reserved-key",
                             "key %c is %s%s: pick another digit for this choice", key,
                             tt_menu_key_does(e), set);
        }
        int lk = tt_menu_lang_of_key(m, key);
        if (e < 0 && lk >= 0) {
            char set[48] = "by default";
            if (ld->lang_key_line[lk])
                snprintf(set, sizeof(set), "set on line %d", ld->lang_key_line[lk]);
            tt_menu_msg_rule(ld, TT_ERROR, r->line, "reserved-key",
                             "key %c switches to %s on every node (key.lang.%s, %s): pick "
                             "another digit for this choice, or set key.lang.%s in [tonetree]",
                             key, m->lang[lk], m->lang[lk], set, m->lang[lk]);
            e = TT_ROLE_COUNT;
        }
        snprintf(what, sizeof(what), "key %c", key);
        int to = resolve(ld, r, what);
        if (e < 0)
            nd->choice[slot] = to;
        count++;
    }
    if (count > 4)
        tt_menu_msg_rule(ld, TT_WARNING, nd->line, "too-many-choices",
                         "node '%s' offers %d choices: more than 4 are hard to keep in mind by "
                         "ear; consider grouping them",
                         nd->id, count);
    if (src->next.to)
        nd->next = resolve(ld, &src->next, "next");
}

/* Each page has at most one page before it (its prev, derived here from next). */
static void derive_prev(struct tt_load *ld)
{
    tt_menu *m = ld->m;
    for (size_t i = 0; i < m->nnodes; i++) {
        int to = m->nodes[i].next;
        if (to < 0)
            continue;
        int before = m->nodes[to].prev;
        if (before < 0) {
            m->nodes[to].prev = (int)i;
            continue;
        }
        tt_menu_msg_rule(ld, TT_ERROR, ld->src[i].next.line, "page-shared",
                         "'%s' is already the next page after '%s' (line %d): a page can follow "
                         "only one page",
                         m->nodes[to].id, m->nodes[before].id, ld->src[before].next.line);
    }
}

/* A page sequence that comes back on itself would turn pages forever: one colouring walk
 * (each node has at most one next) finds every loop once. */
static int check_loops(struct tt_load *ld)
{
    tt_menu *m = ld->m;
    size_t n = m->nnodes;
    unsigned char *state = calloc(n ? n : 1, 1); /* 0 new, 1 on the current walk, 2 done */
    int *path = malloc((n ? n : 1) * sizeof(int));
    if (!state || !path) {
        free(state);
        free(path);
        return ENOMEM;
    }
    for (size_t s = 0; s < n; s++) {
        size_t len = 0;
        int v = (int)s;
        while (v >= 0 && !state[v]) {
            state[v] = 1;
            path[len++] = v;
            v = m->nodes[v].next;
        }
        if (v >= 0 && state[v] == 1) {
            size_t at = len;
            while (path[at - 1] != v)
                at--;
            at--;
            /* At most 8 names (8 * 68 bytes), then the one the loop comes back to. */
            char chain[640];
            size_t used = 0;
            for (size_t k = at; k < len; k++) {
                if (k - at == 8) {
                    used += (size_t)snprintf(chain + used, sizeof(chain) - used, "... -> ");
                    break;
                }
                used += (size_t)snprintf(chain + used, sizeof(chain) - used, "%s -> ",
                                         m->nodes[path[k]].id);
            }
            snprintf(chain + used, sizeof(chain) - used, "%s", m->nodes[v].id);
            tt_menu_msg_rule(ld, TT_ERROR, ld->src[path[len - 1]].next.line, "page-loop",
                             "the pages loop: %s; the last page of a sequence must have no next",
                             chain);
        }
        for (size_t k = 0; k < len; k++)
            state[path[k]] = 2;
    }
    free(state);
    free(path);
    return 0;
}

/* ---- Words in every language ----------------------------------------------------------------- */

static void check_words(struct tt_load *ld, const char *id, int line, char *const *words,
                        const int *lines, const char *what)
{
    const tt_menu *m = ld->m;
    for (size_t l = 0; l < m->nlangs; l++) {
        char key[24];
        if (l == 0)
            snprintf(key, sizeof(key), "%s", what);
        else
            snprintf(key, sizeof(key), "%s.%s", what, m->lang[l]);
        if (!words[l])
            tt_menu_msg_rule(ld, TT_ERROR, line, l ? "missing-translation" : "missing-text",
                             "node '%s' has no %s in %s: add %s = ...", id, what, m->lang[l],
                             key);
        else if (!*words[l])
            tt_menu_msg_rule(ld, TT_ERROR, lines[l], "blank-text",
                             "the %s of node '%s' in %s is empty", what, id, m->lang[l]);
    }
}

static void check_translations(struct tt_load *ld)
{
    tt_menu *m = ld->m;
    for (size_t i = 0; i < m->nnodes; i++) {
        const struct tt_node *nd = &m->nodes[i];
        check_words(ld, nd->id, nd->line, nd->title, ld->src[i].title_line, "title");
        check_words(ld, nd->id, nd->line, nd->text, ld->src[i].text_line, "text");
        /* A short text is optional; once a node has one, every language needs it, or a
         * return visit would be short in one language and long in another. */
        bool any = false;
        for (size_t l = 0; l < m->nlangs; l++)
            any |= nd->brief[l] != NULL;
        if (any)
            check_words(ld, nd->id, nd->line, nd->brief, nd->brief_line, "short");
    }
    /* The menu's own title is optional, but once given it is needed in every language. */
    bool any = false;
    for (size_t l = 0; l < m->nlangs; l++)
        any |= m->title[l] != NULL;
    for (size_t l = 0; any && l < m->nlangs; l++)
        if (!m->title[l])
            tt_menu_msg_rule(ld, TT_ERROR, ld->settings_line, "missing-translation",
                             "[tonetree] has a title, but none in %s: add title%s%s = ...",
                             m->lang[l], l ? "." : "", l ? m->lang[l] : "");
}

/* ---- Reachability ---------------------------------------------------------------------------- */

static int check_reachable(struct tt_load *ld)
{
    tt_menu *m = ld->m;
    size_t n = m->nnodes, head = 0, tail = 0;
    if (m->start < 0)
        return 0;
    unsigned char *seen = calloc(n, 1);
    int *queue = malloc(n * sizeof(int));
    if (!seen || !queue) {
        free(seen);
        free(queue);
        return ENOMEM;
    }
    seen[m->start] = 1;
    queue[tail++] = m->start;
    while (head < tail) {
        const struct tt_node *nd = &m->nodes[queue[head++]];
        int links[TT_MAX_CHOICES + 2];
        memcpy(links, nd->choice, sizeof(nd->choice));
        links[TT_MAX_CHOICES] = nd->next;
        links[TT_MAX_CHOICES + 1] = nd->prev;
        for (int k = 0; k < TT_MAX_CHOICES + 2; k++) {
            if (links[k] >= 0 && !seen[links[k]]) {
                seen[links[k]] = 1;
                queue[tail++] = links[k];
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!seen[i])
            tt_menu_msg_rule(ld, TT_WARNING, m->nodes[i].line, "unreachable-node",
                             "node '%s' cannot be reached: no choice or page leads to it from "
                             "the start node '%s'",
                             m->nodes[i].id, m->nodes[m->start].id);
    free(seen);
    free(queue);
    return 0;
}

/* A transfer sends the caller away once the node's text has been said: the node cannot also
 * take digits, or be a page that goes on to a next one. */
static void check_transfer(struct tt_load *ld, int node)
{
    struct tt_node *n = &ld->m->nodes[node];
    if (!n->transfer)
        return;
    if (n->input)
        tt_menu_msg_rule(ld, TT_ERROR, n->transfer_line, "transfer",
                         "node '%s' takes digits, so it cannot also transfer the caller: put "
                         "the transfer on a node of its own",
                         n->id);
    if (n->next >= 0)
        tt_menu_msg_rule(ld, TT_ERROR, n->next_line, "transfer",
                         "node '%s' transfers the caller, so it cannot be a page with a next "
                         "page",
                         n->id);
}

/* Input nodes take digits, so their digits cannot also be choices, and they need somewhere
 * to send the entry; the input keys mean nothing on other nodes. */
static void check_input(struct tt_load *ld, int node)
{
    struct tt_node *n = &ld->m->nodes[node];
    if (!n->input) {
        if (n->in_min || n->in_max || n->lookup || n->lookup_line || n->sensitive)
            tt_menu_msg_rule(ld, TT_ERROR, n->lookup_line ? n->lookup_line : n->line,
                             "input-key",
                             "node '%s' has input settings (min, max, sensitive, confirm, "
                             "lookup) but no input = digits: add it, or remove them",
                             n->id);
        return;
    }
    if (!n->in_min)
        n->in_min = 1;
    if (!n->in_max)
        n->in_max = 20;
    if (n->in_min > n->in_max)
        tt_menu_msg_rule(ld, TT_ERROR, n->input_line, "input-key",
                         "node '%s' wants at least %d digits but at most %d: min must not be "
                         "more than max",
                         n->id, n->in_min, n->in_max);
    if (!n->lookup && !n->lookup_line)
        tt_menu_msg_rule(ld, TT_ERROR, n->input_line, "input-key",
                         "node '%s' takes digits but has no lookup = <command> to answer them",
                         n->id);
    for (int k = 0; k < TT_MAX_CHOICES; k++)
        if (n->choice[k] >= 0)
            tt_menu_msg_rule(ld, TT_ERROR, n->choice_line[k], "input-key",
                             "node '%s' takes digits, so key %d cannot also be a choice there",
                             n->id, k);
    if (n->next >= 0)
        tt_menu_msg_rule(ld, TT_ERROR, n->next_line, "input-key",
                         "node '%s' takes digits, so it cannot be a page with a next page",
                         n->id);
}

int tt_menu_check(struct tt_load *ld)
{
    tt_menu *m = ld->m;
    int err;
    if (ld->start.to)
        m->start = resolve(ld, &ld->start, "start");
    else if (ld->settings_line)
        tt_menu_msg(ld, TT_ERROR, ld->settings_line,
                    "[tonetree] has no start: add start = <the node to begin with>");
    if (ld->safety.to)
        m->safety = resolve(ld, &ld->safety, "safety");
    for (size_t i = 0; i < m->nnodes; i++)
        check_choices(ld, (int)i);
    derive_prev(ld);
    for (size_t i = 0; i < m->nnodes; i++) {
        check_input(ld, (int)i);
        check_transfer(ld, (int)i);
    }
    err = check_loops(ld);
    if (err)
        return err;
    check_translations(ld);
    return check_reachable(ld);
}
