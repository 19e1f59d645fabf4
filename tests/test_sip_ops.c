/*
 * `tonetree sip` as its operator and a phone see it: hold and back, a menu reloaded by SIGHUP
 * while a call runs (the running call keeps its menu, new calls get the new one, a broken file
 * is refused with its line), SIGTERM draining (OPTIONS and new INVITEs get 503 with
 * Retry-After, the running call keeps its audio, exit 0 once it ends), Ctrl-C (every call
 * gets a BYE, exit 130), and the limits that end a call by themselves (no media from the
 * caller, a call too long).
 *
 * The caller is tests/siplib.c's, on plain UDP sockets: every request and every packet is the
 * test's own, so what the service answers can be checked exactly. The menu is a copy of
 * tests/data/sip.ini in the test's folder (so that it can be changed and reloaded), with its
 * phrases from tests/prompts; the prompts are made at the normal speed only (--speeds normal),
 * into build/sip-test-cache, which the SIP tests share. Loopback only; the service is stopped
 * by its pid; every wait is bounded.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "proclib.h"
#include "sip/codec.h"
#include "siplib.h"
#include "testlib.h"

#define CACHE "build/sip-test-cache"

struct fx {
    char *dir;
    char menu[PATH_MAX], log[PATH_MAX], err[PATH_MAX];
    pid_t pid;
    int port, metrics;
    struct tl_sip c;
};

static char top[PATH_MAX];

static void write_menu(struct fx *f, const char *extra_main, const char *extra_nodes)
{
    char *orig = tl_slurp("tests/data/sip.ini");
    char *at = strstr(orig, "1 = info\n");
    assert_non_null(at);
    at += strlen("1 = info\n");
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof(tmp), "%s.new", f->menu);
    FILE *m = fopen(tmp, "w");
    assert_non_null(m);
    /* the main node's keys, then whatever it gets more, then the rest of the file */
    fprintf(m, "%.*s%s%s%s", (int)(at - orig), orig, extra_main, at, extra_nodes);
    assert_int_equal(fclose(m), 0);
    assert_int_equal(rename(tmp, f->menu), 0); /* never a half-written file for a reload */
    free(orig);
}

static int setup_with(void **state, const char *const *extra)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->dir = tl_tmpdir();
    snprintf(f->menu, sizeof(f->menu), "%s/sip.ini", f->dir);
    snprintf(f->log, sizeof(f->log), "%s/calls.log", f->dir);
    snprintf(f->err, sizeof(f->err), "%s/sip.err", f->dir);
    write_menu(f, "", "");
    mkdir("build", 0755);
    mkdir(CACHE, 0755);
    char prompts[PATH_MAX + 16];
    snprintf(prompts, sizeof(prompts), "%s/tests/prompts", top);
    /* port 0: the system chooses a free one and the service says which, so two runs of the
     * suite on one machine cannot collide; RTP takes any free port of a wide range */
    const char *argv[24] = {"tonetree", "sip", f->menu, "--prompts", prompts,
                            "--listen", "127.0.0.1:0", "--rtp-ports", "30000-59999",
                            "--log", f->log, "--cache", CACHE, "--speeds", "normal",
                            "--metrics", "127.0.0.1:0"};
    for (int i = 17; extra && *extra && i < 23; i++)
        argv[i] = *extra++;
    struct tl_proc p = {.argv = argv, .in = -1, .err = f->err, .home = f->dir, .tmp = f->dir};
    f->pid = tl_proc_start(&p);
    tl_sip_wait_ready(f->pid, f->err, 300.0, &f->port, &f->metrics);
    tl_sip_open(&f->c, f->port, 0, f->metrics);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, NULL);
}

/* A menu with a person to talk to: key 2 at the main menu says where the caller goes, then
 * transfers them; if that fails, key 2 there leads back. */
#define PERSON "sip:clerk@127.0.0.1:5999"
static int setup_transfer(void **state)
{
    int rc = setup_with(state, NULL);
    struct fx *f = *state;
    write_menu(f, "2 = person\n",
               "\n[person]\ntitle = a person at the clerk's office\n"
               "title.es = una persona de la oficina del secretario\n"
               "text = I am putting you through to the clerk's office.\n"
               "text.es = Le paso con la oficina del secretario.\n"
               "transfer = " PERSON "\n2 = main\n");
    kill(f->pid, SIGHUP);
    tl_wait_file(f->err, "menu reloaded (edition 2)", 0, 120.0);
    return rc;
}

/* A service with short limits, to see them end calls: a call of 3 s at most, and 1.5 s
 * without RTP from the caller. */
static int setup_short(void **state)
{
    static const char *const extra[] = {"--max-length", "3", "--media-timeout", "1.5", NULL};
    return setup_with(state, extra);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->pid > 0) {
        kill(f->pid, SIGKILL);
        waitpid(f->pid, NULL, 0);
    }
    tl_sip_close(&f->c);
    tl_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* A call up, its media latched by one packet of silence from the caller. */
static void call(struct fx *f, struct tl_dialog *d, uint16_t *seq)
{
    assert_int_equal(tl_sip_call_up(&f->c, d), 200);
    uint8_t silence[160];
    memset(silence, 0xff, sizeof(silence)); /* PCMU silence */
    *seq = 1;
    tl_sip_rtp(d->rtp, d->their_rtp, 0, (*seq)++, 0, 0x4242, silence, sizeof(silence));
}

/* The call's log line, once it has ended. */
static char *log_line(struct fx *f, const struct tl_dialog *d)
{
    char want[160];
    snprintf(want, sizeof(want), "call-id=%s ", d->callid);
    char *log = tl_slurp(f->log), *line = strstr(log, want);
    if (!line)
        fail_msg("no log line for %s in:\n%s", d->callid, log);
    char *copy = strndup(line, strcspn(line, "\n"));
    free(log);
    return copy;
}

static void expect_nodes(struct fx *f, const struct tl_dialog *d, const char *nodes)
{
    char *line = log_line(f, d);
    print_message("%s\n", line);
    char want[128];
    snprintf(want, sizeof(want), "nodes=%s ", nodes);
    if (!strstr(line, want))
        fail_msg("the call went through other nodes than %s: %s", nodes, line);
    free(line);
}

static void on_hold_nothing_is_sent_and_back_from_hold_the_audio_comes_again(void **state)
{
    struct fx *f = *state;
    struct tl_dialog d;
    uint16_t seq;
    call(f, &d, &seq);
    int before = tl_sip_count_packets(d.rtp, 1.0);
    assert_int_equal(tl_sip_reinvite(&f->c, &d, "sendonly"), 200);
    tl_sip_count_packets(d.rtp, 0.2); /* what was on its way */
    int held = tl_sip_count_packets(d.rtp, 1.0);
    assert_int_equal(tl_sip_reinvite(&f->c, &d, "sendrecv"), 200);
    int after = tl_sip_count_packets(d.rtp, 1.0);
    print_message("packets a second: %d before hold, %d on hold, %d after\n", before, held,
                  after);
    assert_true(before >= 25); /* 50 a second: at least half on a loaded machine */
    assert_int_equal(held, 0);
    assert_true(after >= 25);
    tl_sip_hang_up(&f->c, &d);
    tl_sleep(0.2);
    expect_nodes(f, &d, "main");
}

static void sighup_gives_new_calls_the_new_menu_the_running_call_keeps_its_own_and_a_broken_file_is_refused(
    void **state)
{
    struct fx *f = *state;
    struct tl_dialog a, b, c;
    uint16_t sa, sb, sc;
    call(f, &a, &sa);
    /* a new node, forms, on key 2 */
    write_menu(f, "2 = forms\n",
               "\n[forms]\ntitle = the forms\ntitle.es = los formularios\n"
               "text = The forms are at the front desk.\n"
               "text.es = Los formularios están en la entrada.\n");
    kill(f->pid, SIGHUP);
    tl_wait_file(f->err, "menu reloaded (edition 2)", 0, 120.0);
    call(f, &b, &sb);
    tl_sleep(0.5);
    tl_sip_press_event(a.rtp, a.their_rtp, &sa, 16000, 0x4242, 2); /* old menu: no key 2 */
    tl_sip_press_event(b.rtp, b.their_rtp, &sb, 16000, 0x4242, 2); /* new menu: forms */
    tl_sleep(0.5);
    tl_sip_hang_up(&f->c, &a);
    tl_sip_hang_up(&f->c, &b);
    /* a broken file: refused, with its line; the good edition goes on */
    write_menu(f, "3 = nowhere\n", "");
    char *err = tl_slurp(f->err);
    size_t from = strlen(err);
    free(err);
    kill(f->pid, SIGHUP);
    tl_wait_file(f->err, "the menu was not reloaded", from, 60.0);
    err = tl_slurp(f->err);
    print_message("%s", err + from);
    assert_non_null(strstr(err + from, "sip.ini:"));
    assert_non_null(strstr(err + from, "nowhere"));
    free(err);
    call(f, &c, &sc);
    tl_sleep(0.5);
    tl_sip_press_event(c.rtp, c.their_rtp, &sc, 16000, 0x4242, 2);
    tl_sleep(0.5);
    tl_sip_hang_up(&f->c, &c);
    tl_sleep(0.2);
    expect_nodes(f, &a, "main");
    expect_nodes(f, &b, "main>forms");
    expect_nodes(f, &c, "main>forms");
    char *line = log_line(f, &a);
    assert_non_null(strstr(line, "invalid=1 "));
    free(line);
}

/* Send OPTIONS; its status (0: none in 5 s). */
static int options(struct fx *f)
{
    char msg[1024], buf[4096];
    static int n;
    char cid[64];
    snprintf(cid, sizeof(cid), "options-%d-%d", (int)getpid(), ++n);
    int len = snprintf(msg, sizeof(msg),
                       "OPTIONS sip:ivr@127.0.0.1:%d SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-opt%d\r\n"
                       "From: <sip:probe@127.0.0.1:%d>;tag=p%d\r\nTo: <sip:ivr@127.0.0.1:%d>\r\n"
                       "Call-ID: %s\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                       "Content-Length: 0\r\n\r\n",
                       f->port, f->c.sock_port, n, f->c.sock_port, n, f->port, cid);
    tl_sip_send_to(f->c.sock, f->port, msg, (size_t)len);
    int code = tl_sip_final_response(&f->c, cid, "OPTIONS", buf, sizeof(buf), 5.0);
    if (code == 503)
        assert_non_null(strcasestr(buf, "Retry-After:"));
    return code;
}

static void sigterm_drains_new_calls_get_503_the_running_call_goes_on_then_exit_0(void **state)
{
    struct fx *f = *state;
    struct tl_dialog a, b;
    uint16_t sa;
    assert_int_equal(options(f), 200);
    call(f, &a, &sa);
    kill(f->pid, SIGTERM);
    tl_wait_file(f->err, "draining", 0, 10.0);
    assert_int_equal(options(f), 503);
    assert_int_equal(tl_sip_call_up(&f->c, &b), 503);
    close(b.rtp);
    int got = tl_sip_count_packets(a.rtp, 1.0);
    print_message("draining: the running call got %d packets in a second\n", got);
    assert_true(got >= 25);
    tl_sip_press_event(a.rtp, a.their_rtp, &sa, 16000, 0x4242, 1); /* it still takes keys */
    tl_sleep(0.5);
    tl_sip_hang_up(&f->c, &a);
    int st = tl_proc_finish(f->pid, 15.0);
    f->pid = 0;
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    expect_nodes(f, &a, "main>info");
}

static void ctrl_c_during_a_drain_cuts_it_short(void **state)
{
    struct fx *f = *state;
    struct tl_dialog a;
    uint16_t sa;
    call(f, &a, &sa);
    kill(f->pid, SIGTERM);
    tl_wait_file(f->err, "draining", 0, 10.0);
    kill(f->pid, SIGINT); /* the operator will not wait for the calls */
    assert_true(tl_sip_wait_bye(&f->c, &a, 10.0));
    int st = tl_proc_finish(f->pid, 15.0);
    f->pid = 0;
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 130);
    close(a.rtp);
}

static void ctrl_c_hangs_up_every_call_with_a_bye_and_exits_130(void **state)
{
    struct fx *f = *state;
    struct tl_dialog a, b;
    uint16_t sa, sb;
    call(f, &a, &sa);
    call(f, &b, &sb);
    kill(f->pid, SIGINT);
    assert_true(tl_sip_wait_bye(&f->c, &a, 10.0));
    assert_true(tl_sip_wait_bye(&f->c, &b, 10.0));
    int st = tl_proc_finish(f->pid, 15.0);
    f->pid = 0;
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 130);
    close(a.rtp);
    close(b.rtp);
    char *line = log_line(f, &a);
    assert_non_null(strstr(line, "end=shutdown "));
    free(line);
}

static void a_caller_who_sends_no_media_is_hung_up_after_the_media_timeout(void **state)
{
    struct fx *f = *state;
    struct tl_dialog d;
    uint16_t seq;
    call(f, &d, &seq); /* one packet, then nothing: a phone that died, a network that broke */
    double t0 = tl_now();
    assert_true(tl_sip_wait_bye(&f->c, &d, 10.0));
    double took = tl_now() - t0;
    print_message("no media: the engine hung up %.2f s after the caller's last packet "
                  "(--media-timeout 1.5)\n", took);
    assert_true(took >= 1.4);
    close(d.rtp);
    tl_sleep(0.2);
    char *line = log_line(f, &d);
    assert_non_null(strstr(line, "end=no-media "));
    free(line);
}

static void a_call_longer_than_max_length_is_hung_up(void **state)
{
    struct fx *f = *state;
    struct tl_dialog d;
    uint16_t seq;
    call(f, &d, &seq);
    double t0 = tl_now();
    uint8_t silence[160];
    memset(silence, 0xff, sizeof(silence));
    /* the caller keeps its media coming, so only the length can end the call */
    int bye = 0;
    for (uint32_t ts = 160; !bye && tl_now() - t0 < 10.0; ts += 160) {
        tl_sip_rtp(d.rtp, d.their_rtp, 0, seq++, ts, 0x4242, silence, sizeof(silence));
        bye = tl_sip_wait_bye(&f->c, &d, 0.02);
    }
    double took = tl_now() - t0;
    print_message("too long: the engine hung up %.2f s into the call (--max-length 3)\n", took);
    assert_true(bye);
    assert_true(took >= 2.9);
    close(d.rtp);
    tl_sleep(0.2);
    char *line = log_line(f, &d);
    assert_non_null(strstr(line, "end=too-long "));
    free(line);
}

/* Key 2: the words say where, then the engine asks the caller's phone to call the person
 * (REFER, RFC 3515). Returns the REFER as it came. */
static void press_for_a_person(struct fx *f, struct tl_dialog *d, uint16_t *seq, char *refer,
                               size_t cap)
{
    tl_sleep(0.5);
    tl_sip_press_event(d->rtp, d->their_rtp, seq, 16000, 0x4242, 2);
    if (!tl_sip_wait_request(&f->c, d, "REFER", refer, cap, 20.0))
        fail_msg("no REFER came after the transfer node's words");
    char to[300];
    assert_non_null(tl_sip_header(refer, "Refer-To", to, sizeof(to)));
    print_message("REFER with Refer-To: %s\n", to);
    assert_string_equal(to, "<" PERSON ">");
}

static void a_transfer_sends_refer_and_once_the_person_answers_the_engine_hangs_up(
    void **state)
{
    struct fx *f = *state;
    struct tl_dialog d;
    uint16_t seq;
    call(f, &d, &seq);
    char refer[8192];
    press_for_a_person(f, &d, &seq, refer, sizeof(refer));
    tl_sip_reply(&f->c, refer, 202, "Accepted");
    assert_int_equal(tl_sip_notify(&f->c, &d, "SIP/2.0 100 Trying\r\n"), 200);
    assert_int_equal(tl_sip_notify(&f->c, &d, "SIP/2.0 200 OK\r\n"), 200);
    assert_true(tl_sip_wait_bye(&f->c, &d, 10.0)); /* the caller is with the person now */
    close(d.rtp);
    tl_sleep(0.2);
    char *line = log_line(f, &d);
    print_message("%s\n", line);
    assert_non_null(strstr(line, "end=transferred "));
    assert_non_null(strstr(line, "nodes=main>person "));
    free(line);
}

static void a_transfer_that_fails_is_said_and_the_caller_can_go_back(void **state)
{
    struct fx *f = *state;
    struct tl_dialog d, e;
    uint16_t seq, seq2;
    call(f, &d, &seq);
    char refer[8192];
    press_for_a_person(f, &d, &seq, refer, sizeof(refer));
    tl_sip_reply(&f->c, refer, 202, "Accepted");
    assert_int_equal(tl_sip_notify(&f->c, &d, "SIP/2.0 486 Busy Here\r\n"), 200);
    /* "Sorry, I could not put you through." and the way back: 2 for the main menu */
    assert_true(tl_sip_count_packets(d.rtp, 1.0) >= 25);
    tl_sip_press_event(d.rtp, d.their_rtp, &seq, 48000, 0x4242, 2);
    tl_sleep(0.5);
    tl_sip_hang_up(&f->c, &d);
    /* and a phone that turns the REFER down gets the same */
    call(f, &e, &seq2);
    press_for_a_person(f, &e, &seq2, refer, sizeof(refer));
    tl_sip_reply(&f->c, refer, 603, "Decline");
    tl_sleep(1.0);
    tl_sip_press_event(e.rtp, e.their_rtp, &seq2, 48000, 0x4242, 2);
    tl_sleep(0.5);
    tl_sip_hang_up(&f->c, &e);
    tl_sleep(0.2);
    expect_nodes(f, &d, "main>person>main");
    expect_nodes(f, &e, "main>person>main");
}

/* The loudness of one PCMU packet (RMS of its samples), or -1 for what is not a PCMU packet. */
static double packet_rms(struct tt_codec_dec *dec, const uint8_t *pkt, size_t n)
{
    if (n < 12 + 80 || (pkt[1] & 0x7f) != 0)
        return -1;
    int16_t pcm[TT_CODEC_MAX_DECODED];
    size_t got = 0;
    assert_int_equal(tt_codec_decode(dec, pkt + 12, n - 12, pcm, TT_CODEC_MAX_DECODED, &got), 0);
    double sum = 0;
    for (size_t i = 0; i < got; i++)
        sum += (double)pcm[i] * pcm[i];
    return got ? sqrt(sum / (double)got) : 0;
}

static void a_key_cuts_the_prompt_within_a_packet_or_two_and_silence_follows(void **state)
{
    struct fx *f = *state;
    struct tl_dialog d;
    uint16_t seq;
    call(f, &d, &seq);
    struct tt_codec_dec *dec = NULL;
    assert_int_equal(tt_codec_dec_new(TT_CODEC_PCMU, 0, &dec), 0);
    /* wait until speech is coming: a run of loud packets */
    uint8_t pkt[2048];
    int loud = 0;
    for (double end = tl_now() + 15.0; loud < 10 && tl_now() < end;) {
        size_t n = tl_sip_recv_wait(d.rtp, (char *)pkt, sizeof(pkt), 1.0);
        loud = n && packet_rms(dec, pkt, n) > 300 ? loud + 1 : 0;
    }
    assert_int_equal(loud, 10);
    /* the key, sent as fast as a phone sends its first event packet */
    uint8_t ev[4] = {1, 10, 0, 160};
    tl_sip_rtp(d.rtp, d.their_rtp, 101, seq++, 32000, 0x4242, ev, 4);
    /* after it: a few packets still on their way, then silence for the pause before the
     * answer (the session waits 400 ms) */
    int before_silence = -1, silent_run = 0, loud_after = 0;
    for (int i = 0; i < 30; i++) {
        size_t n = tl_sip_recv_wait(d.rtp, (char *)pkt, sizeof(pkt), 1.0);
        assert_true(n > 0);
        double r = packet_rms(dec, pkt, n);
        if (r < 0)
            continue;
        if (r < 30) {
            if (before_silence < 0)
                before_silence = i;
            if (++silent_run >= 15)
                break;
        } else if (before_silence >= 0) {
            loud_after++; /* the answer began before 300 ms of silence, or the cut was undone */
            break;
        }
    }
    tt_codec_dec_free(dec);
    print_message("after the key: %d packets of the prompt, then %d silent (20 ms each)\n",
                  before_silence, silent_run);
    /* One packet in flight and the one that fades the cut; up to five on a loaded machine,
     * where the loop may catch up packets before it reads the key. */
    assert_true(before_silence >= 0 && before_silence <= 5);
    assert_true(silent_run >= 15);
    assert_int_equal(loud_after, 0);
    tl_sip_hang_up(&f->c, &d);
}

static void the_answer_names_only_the_codec_used_and_telephone_event(void **state)
{
    struct fx *f = *state;
    struct tl_dialog d;
    memset(&d, 0, sizeof(d));
    d.rtp = tl_sip_udp_bind(0);
    char sdp[512];
    /* a phone that lists PCMA first, then G.722 and PCMU: we send G.722 (wideband), and the
     * answer must say so alone, or the phone may send PCMA, whose tones we would not hear */
    snprintf(sdp, sizeof(sdp),
             "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
             "m=audio %d RTP/AVP 8 9 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:9 G722/8000\r\n"
             "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
             "a=fmtp:101 0-15\r\n",
             tl_sip_local_port(d.rtp));
    int rtp = d.rtp;
    assert_int_equal(tl_sip_invite_with(&f->c, &d, sdp), 200);
    d.rtp = rtp;
    print_message("answer:\n%s", d.answer);
    const char *m = strstr(d.answer, "m=audio ");
    assert_non_null(m);
    char line[128];
    snprintf(line, sizeof(line), "%.*s", (int)strcspn(m, "\r\n"), m);
    assert_non_null(strstr(line, "RTP/AVP 9 101"));
    assert_null(strstr(d.answer, "PCMA"));
    assert_null(strstr(d.answer, "PCMU"));
    tl_sip_hang_up(&f->c, &d);
}

/* An answer to the service's offer: PCMU and telephone-event 101, media to our socket. */
static void pcmu_answer(char *sdp, size_t cap, int port)
{
    snprintf(sdp, cap,
             "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
             "m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
             "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n",
             port);
}

static void an_invite_without_an_offer_gets_ours_and_the_answer_in_the_ack_starts_the_call(
    void **state)
{
    struct fx *f = *state;
    struct tl_dialog d;
    memset(&d, 0, sizeof(d));
    int rtp = tl_sip_udp_bind(0);
    char answer[512];
    pcmu_answer(answer, sizeof(answer), tl_sip_local_port(rtp));
    assert_int_equal(tl_sip_invite_full(&f->c, &d, NULL, answer), 200);
    d.rtp = rtp;
    print_message("the service's offer:\n%s", d.answer);
    /* wideband first: the phone takes the first it has */
    assert_non_null(strstr(d.answer, "RTP/AVP 9 0 8 101"));
    assert_non_null(strstr(d.answer, "telephone-event/8000"));
    /* and real-time text (RFC 4103), red first, its fmtp naming t140's number */
    const char *text = strstr(d.answer, "m=text ");
    assert_non_null(text);
    assert_true(atoi(text + 7) > 0); /* a port: offered, not declined */
    assert_non_null(strstr(text, "RTP/AVP 100 98"));
    assert_non_null(strstr(text, "a=rtpmap:100 red/1000"));
    assert_non_null(strstr(text, "a=fmtp:100 98/98/98"));
    assert_non_null(strstr(text, "a=rtpmap:98 t140/1000"));
    /* the call runs on the answer in the ACK: audio comes, and a key is taken */
    uint16_t seq = 1;
    uint8_t silence[160];
    memset(silence, 0xff, sizeof(silence));
    tl_sip_rtp(d.rtp, d.their_rtp, 0, seq++, 0, 0x5353, silence, sizeof(silence));
    assert_true(tl_sip_count_packets(d.rtp, 1.0) >= 25);
    tl_sip_press_event(d.rtp, d.their_rtp, &seq, 8000, 0x5353, 1);
    tl_sleep(0.5);
    tl_sip_hang_up(&f->c, &d);
    tl_sleep(0.2);
    expect_nodes(f, &d, "main>info");
}

static void keys_by_sip_info_count_and_a_body_of_another_kind_gets_415(void **state)
{
    struct fx *f = *state;
    struct tl_dialog d;
    uint16_t seq;
    call(f, &d, &seq);
    tl_sleep(0.5);
    assert_int_equal(tl_sip_info(&f->c, &d, "application/xml", "<dtmf>1</dtmf>"), 415);
    assert_int_equal(tl_sip_info(&f->c, &d, "application/dtmf-relay", "Signal=1\r\nDuration=160\r\n"),
                     200); /* main: 1 goes to info */
    tl_sleep(0.5);
    assert_int_equal(tl_sip_info(&f->c, &d, "application/dtmf", "1"), 200); /* info: no 1 */
    tl_sleep(0.5);
    assert_int_equal(tl_sip_info(&f->c, &d, "application/dtmf-relay", "Signal=x\r\n"), 400);
    tl_sip_hang_up(&f->c, &d);
    tl_sleep(0.2);
    expect_nodes(f, &d, "main>info");
    char *line = log_line(f, &d);
    assert_non_null(strstr(line, "invalid=1 "));
    free(line);
}

/* The audio a socket gets in 0.2 s once what was on its way is read: none, when the service
 * sends elsewhere. */
static int packets_now(int s)
{
    tl_sip_count_packets(s, 0.2);
    return tl_sip_count_packets(s, 0.5);
}

static void a_reinvite_moves_the_media_with_an_offer_or_without_one_and_the_call_goes_on(
    void **state)
{
    struct fx *f = *state;
    struct tl_dialog d;
    uint16_t seq;
    call(f, &d, &seq);
    int a = d.rtp;
    assert_true(tl_sip_count_packets(a, 1.0) >= 25);
    /* a PBX moves the media with an offer: the audio follows to the new port */
    int b = tl_sip_udp_bind(0);
    char sdp[512];
    snprintf(sdp, sizeof(sdp),
             "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
             "m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
             "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n",
             tl_sip_local_port(b));
    assert_int_equal(tl_sip_reinvite_full(&f->c, &d, sdp, NULL), 200);
    int at_a = packets_now(a);
    int at_b = tl_sip_count_packets(b, 1.0);
    uint8_t silence[160];
    memset(silence, 0xff, sizeof(silence));
    tl_sip_rtp(b, d.their_rtp, 0, seq++, 8000, 0x4242, silence, sizeof(silence));
    /* and without one: the service offers in its 200, the answer in the ACK moves it again */
    int c = tl_sip_udp_bind(0);
    char answer[512];
    pcmu_answer(answer, sizeof(answer), tl_sip_local_port(c));
    assert_int_equal(tl_sip_reinvite_full(&f->c, &d, NULL, answer), 200);
    print_message("the service's offer in a re-INVITE without one:\n%s", d.answer);
    assert_non_null(strstr(d.answer, "m=audio "));
    assert_non_null(strstr(d.answer, "telephone-event/8000"));
    int at_b2 = packets_now(b);
    int at_c = tl_sip_count_packets(c, 1.0);
    print_message("packets: %d at the first port after the move, %d at the second; then %d at "
                  "the second and %d at the third\n",
                  at_a, at_b, at_b2, at_c);
    assert_int_equal(at_a, 0);
    assert_true(at_b >= 25);
    assert_int_equal(at_b2, 0);
    assert_true(at_c >= 25);
    /* keys from the third place count: the call is the same call, at the same node */
    tl_sip_rtp(c, d.their_rtp, 0, seq++, 16000, 0x4242, silence, sizeof(silence));
    tl_sip_press_event(c, d.their_rtp, &seq, 24000, 0x4242, 1);
    tl_sleep(0.5);
    close(a);
    close(b);
    d.rtp = c;
    tl_sip_hang_up(&f->c, &d);
    tl_sleep(0.2);
    expect_nodes(f, &d, "main>info");
}

static void before_the_callers_first_packet_media_from_another_address_is_ignored(void **state)
{
    struct fx *f = *state;
    struct tl_dialog d;
    assert_int_equal(tl_sip_call_up(&f->c, &d), 200);
    /* 127.0.0.2 is loopback too, but not the address the caller's SDP gave: its packets come
     * first, and press 1; they must neither take the call's audio nor press a key */
    int other = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(other >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.2", &sin.sin_addr);
    assert_int_equal(bind(other, (struct sockaddr *)&sin, sizeof(sin)), 0);
    uint8_t silence[160];
    memset(silence, 0xff, sizeof(silence));
    uint16_t oseq = 1;
    tl_sip_rtp(other, d.their_rtp, 0, oseq++, 0, 0x7777, silence, sizeof(silence));
    tl_sip_press_event(other, d.their_rtp, &oseq, 8000, 0x7777, 1);
    int stolen = tl_sip_count_packets(other, 1.0);
    /* the caller's own first packet, later: the call is the caller's */
    uint16_t seq = 1;
    tl_sip_rtp(d.rtp, d.their_rtp, 0, seq++, 0, 0x4242, silence, sizeof(silence));
    int own = tl_sip_count_packets(d.rtp, 1.0);
    print_message("packets a second: %d to the other address, %d to the caller\n", stolen, own);
    assert_int_equal(stolen, 0);
    assert_true(own >= 25);
    close(other);
    tl_sip_hang_up(&f->c, &d);
    tl_sleep(0.2);
    expect_nodes(f, &d, "main");
}

/* A CANCEL that arrives once the service has answered (it answers at once: there is no ringing
 * to cancel) changes nothing: the CANCEL gets its own final answer, the call is up and ends
 * with a BYE as any other, and nothing is left behind. */
static void a_cancel_after_the_answer_leaves_the_call_up_and_nothing_behind(void **state)
{
    struct fx *f = *state;
    int rtp = tl_sip_udp_bind(0);
    char sdp[512], inv[4096], cancel[1024], buf[8192];
    snprintf(sdp, sizeof(sdp),
             "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
             "m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
             "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n",
             tl_sip_local_port(rtp));
    char callid[64];
    snprintf(callid, sizeof(callid), "cancel-%d@127.0.0.1", (int)getpid());
    const char *common = "From: <sip:hostile@127.0.0.1:%d>;tag=c1\r\nTo: <sip:ivr@127.0.0.1:%d>\r\n"
                         "Call-ID: %s\r\n";
    char hdr[512];
    snprintf(hdr, sizeof(hdr), common, f->c.sock_port, f->port, callid);
    int ni = snprintf(inv, sizeof(inv),
                      "INVITE sip:ivr@127.0.0.1:%d SIP/2.0\r\n"
                      "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-cancel1\r\n%s"
                      "CSeq: 1 INVITE\r\nContact: <sip:hostile@127.0.0.1:%d>\r\nMax-Forwards: 70\r\n"
                      "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
                      f->port, f->c.sock_port, hdr, f->c.sock_port, strlen(sdp), sdp);
    int nc = snprintf(cancel, sizeof(cancel),
                      "CANCEL sip:ivr@127.0.0.1:%d SIP/2.0\r\n"
                      "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-cancel1\r\n%s"
                      "CSeq: 1 CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                      f->port, f->c.sock_port, hdr);
    tl_sip_send_to(f->c.sock, f->port, inv, (size_t)ni);
    tl_sip_send_to(f->c.sock, f->port, cancel, (size_t)nc);
    int inv_code = 0, cancel_code = 0;
    char to_tag[64] = "";
    for (double end = tl_now() + 5.0; (!inv_code || !cancel_code) && tl_now() < end;) {
        if (!tl_sip_recv_wait(f->c.sock, buf, sizeof(buf), end - tl_now()))
            break;
        char cseq[64], to[256];
        int code = atoi(buf + 8);
        if (strncmp(buf, "SIP/2.0 ", 8) || code < 200 || !tl_sip_header(buf, "CSeq", cseq, sizeof(cseq)))
            continue;
        if (strstr(cseq, "CANCEL"))
            cancel_code = code;
        else if (strstr(cseq, "INVITE") && !inv_code) {
            inv_code = code;
            const char *tag = tl_sip_header(buf, "To", to, sizeof(to)) ? strstr(to, "tag=") : NULL;
            if (tag)
                snprintf(to_tag, sizeof(to_tag), "%.*s", (int)strcspn(tag + 4, ";>\r\n"), tag + 4);
        }
    }
    print_message("INVITE: %d, CANCEL: %d\n", inv_code, cancel_code);
    assert_int_equal(inv_code, 200);
    assert_true(cancel_code == 200 || cancel_code == 481);
    struct tl_dialog d = {.rtp = rtp, .cseq = 1};
    snprintf(d.callid, sizeof(d.callid), "%s", callid);
    snprintf(d.from_tag, sizeof(d.from_tag), "c1");
    snprintf(d.to_tag, sizeof(d.to_tag), "%s", to_tag);
    char ack[1024];
    int na = snprintf(ack, sizeof(ack),
                      "ACK sip:ivr@127.0.0.1:%d SIP/2.0\r\n"
                      "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-cancelack\r\n"
                      "From: <sip:hostile@127.0.0.1:%d>;tag=c1\r\nTo: <sip:ivr@127.0.0.1:%d>;tag=%s\r\n"
                      "Call-ID: %s\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                      f->port, f->c.sock_port, f->c.sock_port, f->port, to_tag, callid);
    tl_sip_send_to(f->c.sock, f->port, ack, (size_t)na);
    assert_true(tl_sip_count_packets(rtp, 1.0) >= 25);
    assert_int_equal(tl_sip_metric(&f->c, "tonetree_calls_active"), 1);
    tl_sip_hang_up(&f->c, &d);
    tl_sleep(0.2);
    assert_int_equal(tl_sip_metric(&f->c, "tonetree_calls_active"), 0);
    expect_nodes(f, &d, "main");
}

int main(void)
{
    assert_non_null(getcwd(top, sizeof(top)));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            a_key_cuts_the_prompt_within_a_packet_or_two_and_silence_follows, setup, teardown),
        cmocka_unit_test_setup_teardown(
            on_hold_nothing_is_sent_and_back_from_hold_the_audio_comes_again, setup, teardown),
        cmocka_unit_test_setup_teardown(
            sighup_gives_new_calls_the_new_menu_the_running_call_keeps_its_own_and_a_broken_file_is_refused,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            sigterm_drains_new_calls_get_503_the_running_call_goes_on_then_exit_0, setup,
            teardown),
        cmocka_unit_test_setup_teardown(ctrl_c_hangs_up_every_call_with_a_bye_and_exits_130,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(ctrl_c_during_a_drain_cuts_it_short, setup, teardown),
        cmocka_unit_test_setup_teardown(the_answer_names_only_the_codec_used_and_telephone_event,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            an_invite_without_an_offer_gets_ours_and_the_answer_in_the_ack_starts_the_call,
            setup, teardown),
        cmocka_unit_test_setup_teardown(keys_by_sip_info_count_and_a_body_of_another_kind_gets_415,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_reinvite_moves_the_media_with_an_offer_or_without_one_and_the_call_goes_on, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            before_the_callers_first_packet_media_from_another_address_is_ignored, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            a_cancel_after_the_answer_leaves_the_call_up_and_nothing_behind, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_caller_who_sends_no_media_is_hung_up_after_the_media_timeout, setup_short,
            teardown),
        cmocka_unit_test_setup_teardown(a_call_longer_than_max_length_is_hung_up, setup_short,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            a_transfer_sends_refer_and_once_the_person_answers_the_engine_hangs_up,
            setup_transfer, teardown),
        cmocka_unit_test_setup_teardown(a_transfer_that_fails_is_said_and_the_caller_can_go_back,
                                        setup_transfer, teardown),
    };
    if (getenv("TT_TEST")) /* one test by name (a pattern), to look at it alone */
        cmocka_set_test_filter(getenv("TT_TEST"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
