/*
 * Keys in SIP INFO bodies: the two body formats phones and gateways send a key press in,
 * read from (pointer, length) as SIP hands a body over (not NUL-terminated).
 *
 *  - application/dtmf-relay (Cisco's, the common one): lines of "Name=value",
 *    "Signal=5\r\nDuration=160\r\n". Names are compared without case, spaces and tabs around
 *    names and values are dropped, lines may end in CRLF, LF or CR. Signal is required, once;
 *    Duration (milliseconds) is optional and only reported; other lines are skipped.
 *  - application/dtmf: the body is the key itself, "5", with any white space around it.
 *
 * The key, in either: one of 0-9 * # A-D (a-d too), or its RFC 4733 event code in decimal,
 * 0-16, which some phones send: 10 is '*', 11 '#', 12-15 'A'-'D'. 16, or '!', is a hook
 * flash: understood, but not a key. This is the set Asterisk's INFO receiver accepts
 * (res_pjsip_dtmf_info.c), so it is what senders that work with Asterisk send. A value with
 * anything more in it ("5x", "17", "star") is malformed rather than guessed at.
 *
 * The content type is compared as SIP compares media types: type and subtype without case
 * (RFC 2045 §5.1), white space allowed around the slash (SLASH = SWS "/" SWS, RFC 3261
 * §25.1), parameters after ';' ignored. Any other type is ENOTSUP, so the caller can answer 415 (with Accept naming the
 * two); a malformed body is EINVAL, a 400. An INFO with no body at all is how some user agents
 * check that a dialog is still alive, and is answered 200 (Asterisk does the same): an empty
 * body is read as no key, whatever the content type.
 */
#ifndef TT_SIP_INFO_H
#define TT_SIP_INFO_H

#include <stdbool.h>
#include <stddef.h>

struct tt_info_key {
    char key;             /* '0'-'9', '*', '#' or 'A'-'D'; 0 when the body holds none */
    bool flash;           /* the body was a hook flash (no key) */
    unsigned duration_ms; /* dtmf-relay's Duration; 0 when absent or not a number */
};

/**
 * Read the key an INFO body carries.
 * @param ctype      the Content-Type header's value (NULL or empty when there is none)
 * @param body       the body, body_len bytes
 * @param out        the key found (zeroed first)
 * @return 0 (out->key is the key, or 0 for a flash or an empty body), ENOTSUP for a content
 *         type that is not one of the two, EINVAL for a malformed body
 */
int tt_info_parse(const char *ctype, size_t ctype_len, const char *body, size_t body_len,
                  struct tt_info_key *out);

#endif
