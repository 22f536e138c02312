/*
 * pkt_http.c -- {packet, http | httph | http_bin | httph_bin}.
 *
 * Framing: one line ending in '\n'; in header state a line followed by SP
 * or TAB continues (so a header line is complete only when the byte after
 * it is known):
 *
 *   start line:   Data "\n"
 *   header line:  Data "\n" (SP|TAB Data "\n")*   then any other byte
 *
 * Parsing reproduces OTP's packet_parse_http, quirks included:
 *   - the line end removed is "\r\n" or "\n" (a line "\r\n" or "\n" is
 *     http_eoh in header state, http_error in start state);
 *   - "HTTP/" starts a status line (case-sensitive), anything else is a
 *     request line; "GET /" alone is HTTP/0.9 ({0,9});
 *   - nothing after the request's minor version is checked;
 *   - the method is the run of token characters before a blank;
 *   - absolute URIs split at the first '/' (path) and first ':' (port), so
 *     userinfo ends up in the host and makes the port undefined;
 *   - header names are canonicalised ("cOnTeNt-tYpe" -> "Content-Type") up
 *     to 50 bytes; a longer name is reported raw and never recognised;
 *   - numbers use C int arithmetic and wrap.
 * Anything that does not parse is {http_error, Line} with the whole line.
 *
 * The tables are const; there is no init function and no mutable state.
 */
#include <stdlib.h>
#include <string.h>

#include "packet/packet.h"

/* ---- tables ------------------------------------------------------------ */

#define GT__STR_LEN(id, s) sizeof(s) - 1,
#define GT__STR(id, s) s,

static const char *const hdr_names[] = {GT_HTTP_HEADER_MAP(GT__STR)};
static const char *const meth_names[] = {GT_HTTP_METHOD_MAP(GT__STR)};
static const uint8_t meth_lens[] = {GT_HTTP_METHOD_MAP(GT__STR_LEN)};

#define NHDR (sizeof(hdr_names) / sizeof(hdr_names[0]))
#define NMETH (sizeof(meth_lens) / sizeof(meth_lens[0]))

_Static_assert(NHDR == GT_HTTP_H_COUNT_ - 1, "header table and enum agree");
_Static_assert(NMETH == GT_HTTP_M_COUNT_ - 1, "method table and enum agree");

/* Token characters: 33..126 except the RFC 2616 separators, plus 127
 * (Erlang's table leaves DEL out of the separator set). */
#define T8(a, b, c, d, e, f, g, h) a, b, c, d, e, f, g, h
static const uint8_t is_token[256] = {
    /*   0 */ T8(0, 0, 0, 0, 0, 0, 0, 0), T8(0, 0, 0, 0, 0, 0, 0, 0),
    /*  16 */ T8(0, 0, 0, 0, 0, 0, 0, 0), T8(0, 0, 0, 0, 0, 0, 0, 0),
    /*  32  ' ' ! " # $ % & ' */ T8(0, 1, 0, 1, 1, 1, 1, 1),
    /*  40  ( ) * + , - . / */ T8(0, 0, 1, 1, 0, 1, 1, 0),
    /*  48  0-7 */ T8(1, 1, 1, 1, 1, 1, 1, 1),
    /*  56  8 9 : ; < = > ? */ T8(1, 1, 0, 0, 0, 0, 0, 0),
    /*  64  @ A-G */ T8(0, 1, 1, 1, 1, 1, 1, 1),
    /*  72 */ T8(1, 1, 1, 1, 1, 1, 1, 1), T8(1, 1, 1, 1, 1, 1, 1, 1),
    /*  88  X Y Z [ \ ] ^ _ */ T8(1, 1, 1, 0, 0, 0, 1, 1),
    /*  96  ` a-g */ T8(1, 1, 1, 1, 1, 1, 1, 1),
    /* 104 */ T8(1, 1, 1, 1, 1, 1, 1, 1), T8(1, 1, 1, 1, 1, 1, 1, 1),
    /* 120  x y z { | } ~ DEL */ T8(1, 1, 1, 0, 1, 0, 1, 1),
    /* 128..255: 0 */
};

const char *gt_http_field_name(gt_http_field f)
{
    return (f > GT_HTTP_H_OTHER && f < GT_HTTP_H_COUNT_) ? hdr_names[f - 1] : NULL;
}

const char *gt_http_method_name(gt_http_method m)
{
    return (m > GT_HTTP_M_OTHER && m < GT_HTTP_M_COUNT_) ? meth_names[m - 1] : NULL;
}

/* Generated from GT_HTTP_HEADER_MAP: a switch on the length, then on the
 * first letter, then one memcmp.  (The unit test checks every entry.) */
static gt_http_field hdr_lookup(const char *s, size_t len)
{
    switch (len) {
    case 3:
        switch (s[0]) {
        case 'A':
            if (memcmp(s + 1, "ge", 2) == 0)
                return GT_HTTP_H_AGE;
            break;
        case 'V':
            if (memcmp(s + 1, "ia", 2) == 0)
                return GT_HTTP_H_VIA;
            break;
        default:
            break;
        }
        break;
    case 4:
        switch (s[0]) {
        case 'D':
            if (memcmp(s + 1, "ate", 3) == 0)
                return GT_HTTP_H_DATE;
            break;
        case 'E':
            if (memcmp(s + 1, "tag", 3) == 0)
                return GT_HTTP_H_ETAG;
            break;
        case 'F':
            if (memcmp(s + 1, "rom", 3) == 0)
                return GT_HTTP_H_FROM;
            break;
        case 'H':
            if (memcmp(s + 1, "ost", 3) == 0)
                return GT_HTTP_H_HOST;
            break;
        case 'V':
            if (memcmp(s + 1, "ary", 3) == 0)
                return GT_HTTP_H_VARY;
            break;
        default:
            break;
        }
        break;
    case 5:
        switch (s[0]) {
        case 'A':
            if (memcmp(s + 1, "llow", 4) == 0)
                return GT_HTTP_H_ALLOW;
            break;
        case 'R':
            if (memcmp(s + 1, "ange", 4) == 0)
                return GT_HTTP_H_RANGE;
            break;
        default:
            break;
        }
        break;
    case 6:
        switch (s[0]) {
        case 'A':
            if (memcmp(s + 1, "ccept", 5) == 0)
                return GT_HTTP_H_ACCEPT;
            break;
        case 'C':
            if (memcmp(s + 1, "ookie", 5) == 0)
                return GT_HTTP_H_COOKIE;
            break;
        case 'P':
            if (memcmp(s + 1, "ragma", 5) == 0)
                return GT_HTTP_H_PRAGMA;
            if (memcmp(s + 1, "ublic", 5) == 0)
                return GT_HTTP_H_PUBLIC;
            break;
        case 'S':
            if (memcmp(s + 1, "erver", 5) == 0)
                return GT_HTTP_H_SERVER;
            break;
        default:
            break;
        }
        break;
    case 7:
        switch (s[0]) {
        case 'E':
            if (memcmp(s + 1, "xpires", 6) == 0)
                return GT_HTTP_H_EXPIRES;
            break;
        case 'R':
            if (memcmp(s + 1, "eferer", 6) == 0)
                return GT_HTTP_H_REFERER;
            break;
        case 'U':
            if (memcmp(s + 1, "pgrade", 6) == 0)
                return GT_HTTP_H_UPGRADE;
            break;
        case 'W':
            if (memcmp(s + 1, "arning", 6) == 0)
                return GT_HTTP_H_WARNING;
            break;
        default:
            break;
        }
        break;
    case 8:
        switch (s[0]) {
        case 'I':
            if (memcmp(s + 1, "f-Match", 7) == 0)
                return GT_HTTP_H_IF_MATCH;
            if (memcmp(s + 1, "f-Range", 7) == 0)
                return GT_HTTP_H_IF_RANGE;
            break;
        case 'L':
            if (memcmp(s + 1, "ocation", 7) == 0)
                return GT_HTTP_H_LOCATION;
            break;
        default:
            break;
        }
        break;
    case 10:
        switch (s[0]) {
        case 'C':
            if (memcmp(s + 1, "onnection", 9) == 0)
                return GT_HTTP_H_CONNECTION;
            break;
        case 'K':
            if (memcmp(s + 1, "eep-Alive", 9) == 0)
                return GT_HTTP_H_KEEP_ALIVE;
            break;
        case 'S':
            if (memcmp(s + 1, "et-Cookie", 9) == 0)
                return GT_HTTP_H_SET_COOKIE;
            break;
        case 'U':
            if (memcmp(s + 1, "ser-Agent", 9) == 0)
                return GT_HTTP_H_USER_AGENT;
            break;
        default:
            break;
        }
        break;
    case 11:
        switch (s[0]) {
        case 'C':
            if (memcmp(s + 1, "ontent-Md5", 10) == 0)
                return GT_HTTP_H_CONTENT_MD5;
            break;
        case 'R':
            if (memcmp(s + 1, "etry-After", 10) == 0)
                return GT_HTTP_H_RETRY_AFTER;
            break;
        case 'S':
            if (memcmp(s + 1, "et-Cookie2", 10) == 0)
                return GT_HTTP_H_SET_COOKIE2;
            break;
        default:
            break;
        }
        break;
    case 12:
        switch (s[0]) {
        case 'C':
            if (memcmp(s + 1, "ontent-Base", 11) == 0)
                return GT_HTTP_H_CONTENT_BASE;
            if (memcmp(s + 1, "ontent-Type", 11) == 0)
                return GT_HTTP_H_CONTENT_TYPE;
            break;
        case 'M':
            if (memcmp(s + 1, "ax-Forwards", 11) == 0)
                return GT_HTTP_H_MAX_FORWARDS;
            break;
        default:
            break;
        }
        break;
    case 13:
        switch (s[0]) {
        case 'A':
            if (memcmp(s + 1, "uthorization", 12) == 0)
                return GT_HTTP_H_AUTHORIZATION;
            if (memcmp(s + 1, "ccept-Ranges", 12) == 0)
                return GT_HTTP_H_ACCEPT_RANGES;
            break;
        case 'C':
            if (memcmp(s + 1, "ache-Control", 12) == 0)
                return GT_HTTP_H_CACHE_CONTROL;
            if (memcmp(s + 1, "ontent-Range", 12) == 0)
                return GT_HTTP_H_CONTENT_RANGE;
            break;
        case 'I':
            if (memcmp(s + 1, "f-None-Match", 12) == 0)
                return GT_HTTP_H_IF_NONE_MATCH;
            break;
        case 'L':
            if (memcmp(s + 1, "ast-Modified", 12) == 0)
                return GT_HTTP_H_LAST_MODIFIED;
            break;
        default:
            break;
        }
        break;
    case 14:
        switch (s[0]) {
        case 'A':
            if (memcmp(s + 1, "ccept-Charset", 13) == 0)
                return GT_HTTP_H_ACCEPT_CHARSET;
            break;
        case 'C':
            if (memcmp(s + 1, "ontent-Length", 13) == 0)
                return GT_HTTP_H_CONTENT_LENGTH;
            break;
        default:
            break;
        }
        break;
    case 15:
        switch (s[0]) {
        case 'A':
            if (memcmp(s + 1, "ccept-Encoding", 14) == 0)
                return GT_HTTP_H_ACCEPT_ENCODING;
            if (memcmp(s + 1, "ccept-Language", 14) == 0)
                return GT_HTTP_H_ACCEPT_LANGUAGE;
            break;
        case 'X':
            if (memcmp(s + 1, "-Forwarded-For", 14) == 0)
                return GT_HTTP_H_X_FORWARDED_FOR;
            break;
        default:
            break;
        }
        break;
    case 16:
        switch (s[0]) {
        case 'C':
            if (memcmp(s + 1, "ontent-Encoding", 15) == 0)
                return GT_HTTP_H_CONTENT_ENCODING;
            if (memcmp(s + 1, "ontent-Language", 15) == 0)
                return GT_HTTP_H_CONTENT_LANGUAGE;
            if (memcmp(s + 1, "ontent-Location", 15) == 0)
                return GT_HTTP_H_CONTENT_LOCATION;
            break;
        case 'P':
            if (memcmp(s + 1, "roxy-Connection", 15) == 0)
                return GT_HTTP_H_PROXY_CONNECTION;
            break;
        case 'W':
            if (memcmp(s + 1, "ww-Authenticate", 15) == 0)
                return GT_HTTP_H_WWW_AUTHENTICATE;
            break;
        default:
            break;
        }
        break;
    case 17:
        switch (s[0]) {
        case 'I':
            if (memcmp(s + 1, "f-Modified-Since", 16) == 0)
                return GT_HTTP_H_IF_MODIFIED_SINCE;
            break;
        case 'T':
            if (memcmp(s + 1, "ransfer-Encoding", 16) == 0)
                return GT_HTTP_H_TRANSFER_ENCODING;
            break;
        default:
            break;
        }
        break;
    case 18:
        switch (s[0]) {
        case 'P':
            if (memcmp(s + 1, "roxy-Authenticate", 17) == 0)
                return GT_HTTP_H_PROXY_AUTHENTICATE;
            break;
        default:
            break;
        }
        break;
    case 19:
        switch (s[0]) {
        case 'I':
            if (memcmp(s + 1, "f-Unmodified-Since", 18) == 0)
                return GT_HTTP_H_IF_UNMODIFIED_SINCE;
            break;
        case 'P':
            if (memcmp(s + 1, "roxy-Authorization", 18) == 0)
                return GT_HTTP_H_PROXY_AUTHORIZATION;
            break;
        default:
            break;
        }
        break;
    default:
        break;
    }
    return GT_HTTP_H_OTHER;
}

static gt_http_method meth_lookup(const char *s, size_t len)
{
    for (size_t i = 0; i < NMETH; i++)
        if (meth_lens[i] == len && memcmp(meth_names[i], s, len) == 0)
            return (gt_http_method)(i + 1);
    return GT_HTTP_M_OTHER;
}

/* ---- framing ----------------------------------------------------------- */

static inline bool is_sp(uint8_t c) { return c == ' ' || c == '\t'; }
static inline bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

int64_t gt__pkt_http_len(const uint8_t *p, size_t n, uint64_t max_plen, uint64_t trunc_len,
                         int state, size_t *resume)
{
    /* Every '\n' before `from` ends a line that a continuation follows, and
     * the one at `from`, if any, has not been looked at: so a search can
     * resume there (*resume) once more bytes have come. */
    size_t from = resume && *resume <= n ? *resume : 0;
    int64_t r;

    if ((n == 1 && p[0] == '\n') || (n == 2 && p[0] == '\r' && p[1] == '\n'))
        return (int64_t)n;
    if (max_plen == 0) /* line_length limits http lines when packet_size is unset */
        max_plen = trunc_len;
    for (;;) {
        const uint8_t *nl = from < n ? memchr(p + from, '\n', n - from) : NULL;
        if (nl == NULL) {
            from = n;
            r = max_plen != 0 && n >= max_plen ? -1 : 0;
            break;
        }
        size_t plen = (size_t)(nl - p) + 1;
        if (state != 0 && plen < n && plen > 2 && is_sp(p[plen])) {
            from = plen; /* a continuation line follows */
            continue;
        }
        from = plen - 1;
        if (max_plen != 0 && plen > max_plen)
            r = -1;
        else if (state != 0 && plen >= n)
            r = 0; /* the next byte decides whether the header continues */
        else
            r = (int64_t)plen;
        break;
    }
    if (resume)
        *resume = from;
    return r;
}

/* ---- parsing ----------------------------------------------------------- */

typedef struct cursor {
    const char *p;
    size_t n; /* bytes left */
} cursor;

static void skip_sp(cursor *c)
{
    while (c->n && is_sp((uint8_t)*c->p)) {
        c->p++;
        c->n--;
    }
}

/* Reads 1*DIGIT into *v (int arithmetic, wrapping); returns digits read. */
static size_t read_int(cursor *c, int32_t *v)
{
    uint32_t acc = 0;
    size_t k = 0;

    while (c->n && is_digit((uint8_t)*c->p)) {
        acc = acc * 10u + (uint32_t)(*c->p - '0');
        c->p++;
        c->n--;
        k++;
    }
    *v = (int32_t)acc;
    return k;
}

/* "Major.Minor" after "HTTP/"; false when malformed. */
static bool read_version(cursor *c, int32_t *major, int32_t *minor)
{
    if (read_int(c, major) == 0 || c->n == 0 || *c->p != '.')
        return false;
    c->p++;
    c->n--;
    return read_int(c, minor) != 0;
}

static gt_http_str mkstr(const char *p, size_t n)
{
    return (gt_http_str){p, n};
}

static bool prefix_ci(const char *s, size_t n, const char *lit, size_t k)
{
    if (n < k)
        return false;
    for (size_t i = 0; i < k; i++) {
        uint8_t a = (uint8_t)s[i];
        if (a >= 'A' && a <= 'Z')
            a = (uint8_t)(a + 32);
        if (a != (uint8_t)lit[i])
            return false;
    }
    return true;
}

/* http://host[:port][/path] after the scheme. */
static void parse_absolute(gt_http_uri *u, const char *s, size_t n)
{
    const char *slash = memchr(s, '/', n), *colon;

    if (slash == NULL) {
        u->path = mkstr("/", 1);
    } else {
        u->path = mkstr(slash, n - (size_t)(slash - s));
        n = (size_t)(slash - s);
    }
    u->port = 0;
    colon = n ? memchr(s, ':', n) : NULL;
    if (colon == NULL) {
        u->host = mkstr(s, n);
        return;
    }
    u->host = mkstr(s, (size_t)(colon - s));
    cursor c = {colon + 1, n - (size_t)(colon - s) - 1};
    int32_t port;
    read_int(&c, &port);
    if (c.n == 0 && port != 0)
        u->port = port;
}

static void parse_uri(gt_http_uri *u, const char *s, size_t n)
{
    memset(u, 0, sizeof *u);
    if (n == 1 && s[0] == '*') {
        u->kind = GT_URI_STAR;
    } else if (n <= 1 || s[0] == '/') {
        u->kind = GT_URI_ABS_PATH;
        u->path = mkstr(s, n);
    } else if (prefix_ci(s, n, "http://", 7)) {
        u->kind = GT_URI_ABSOLUTE;
        parse_absolute(u, s + 7, n - 7);
    } else if (prefix_ci(s, n, "https://", 8)) {
        u->kind = GT_URI_ABSOLUTE;
        u->https = true;
        parse_absolute(u, s + 8, n - 8);
    } else {
        const char *colon = memchr(s, ':', n);
        if (colon == NULL) {
            u->kind = GT_URI_STRING;
            u->path = mkstr(s, n);
        } else {
            u->kind = GT_URI_SCHEME;
            u->host = mkstr(s, (size_t)(colon - s));
            u->path = mkstr(colon + 1, n - (size_t)(colon - s) - 1);
        }
    }
}

/* Status-Line after "HTTP/". */
static bool parse_response(cursor c, struct gt_http_packet *out)
{
    const char *p0;

    if (!read_version(&c, &out->major, &out->minor))
        return false;
    p0 = c.p;
    skip_sp(&c);
    if (c.p == p0)
        return false;
    read_int(&c, &out->status); /* no digits: status 0 */
    p0 = c.p;
    skip_sp(&c);
    if (c.p == p0 && c.n > 0)
        return false;
    out->kind = GT_HTTP_RESPONSE;
    out->reason = mkstr(c.p, c.n);
    return true;
}

static bool parse_request(cursor c, struct gt_http_packet *out)
{
    const char *meth = c.p, *uri;
    size_t meth_len, uri_len;

    while (c.n && is_token[(uint8_t)*c.p]) {
        c.p++;
        c.n--;
    }
    meth_len = (size_t)(c.p - meth);
    if (c.n == 0 || meth_len == 0 || !is_sp((uint8_t)*c.p))
        return false;
    skip_sp(&c);
    uri = c.p;
    while (c.n && !is_sp((uint8_t)*c.p)) {
        c.p++;
        c.n--;
    }
    uri_len = (size_t)(c.p - uri);
    if (uri_len == 0)
        return false;
    skip_sp(&c);
    if (c.n == 0) {
        out->major = 0;
        out->minor = 9;
    } else {
        if (c.n < 8 || memcmp(c.p, "HTTP/", 5) != 0)
            return false;
        c.p += 5;
        c.n -= 5;
        if (!read_version(&c, &out->major, &out->minor))
            return false;
    }
    out->kind = GT_HTTP_REQUEST;
    out->method = meth_lookup(meth, meth_len);
    out->method_str = mkstr(meth, meth_len);
    parse_uri(&out->uri, uri, uri_len);
    return true;
}

static bool parse_header(cursor c, const char *line, struct gt_http_packet *out)
{
    size_t name_len, k;
    bool up = true;

    while (is_token[(uint8_t)*c.p]) {
        c.p++;
        if (--c.n == 0)
            return false;
    }
    name_len = (size_t)(c.p - line);
    /* Canonical case for the first 50 bytes: upper after the start and
     * after a '-' (but "--" resets, as Erlang's flag does), lower elsewhere. */
    k = name_len < GT_HTTP_MAX_NAME_LEN ? name_len : GT_HTTP_MAX_NAME_LEN;
    for (size_t i = 0; i < k; i++) {
        uint8_t ch = (uint8_t)line[i];
        if (up)
            ch = (uint8_t)((unsigned)(ch - 'a') < 26u ? ch - 32 : ch);
        else
            ch = (uint8_t)((unsigned)(ch - 'A') < 26u ? ch + 32 : ch);
        out->name[i] = (char)ch;
        up = !up && line[i] == '-';
    }
    out->name[k] = '\0';
    if (*c.p != ':')
        return false;
    out->raw_name = mkstr(line, name_len);
    if (name_len <= GT_HTTP_MAX_NAME_LEN) {
        out->field = hdr_lookup(out->name, name_len);
    } else {
        out->name[0] = '\0'; /* Erlang's Name is the raw name */
        out->field = GT_HTTP_H_OTHER;
    }
    c.p++;
    c.n--;
    skip_sp(&c);
    out->kind = GT_HTTP_HEADER;
    out->value = mkstr(c.p, c.n);
    return true;
}

void gt__http_parse(const uint8_t *buf, size_t len, int *state, bool binary,
                    struct gt_http_packet *out)
{
    const char *line = (const char *)buf;
    cursor c = {line, len};
    bool ok;

    out->binary = binary;
    out->method = GT_HTTP_M_OTHER;
    out->field = GT_HTTP_H_OTHER;
    /* drop the line end: "\r\n" (any "\r?" pair, as Erlang) or "\n" */
    if (c.n >= 2 && line[c.n - 2] == '\r')
        c.n -= 2;
    else if (c.n >= 1 && line[c.n - 1] == '\n')
        c.n -= 1;

    if (*state == 0) {
        if (c.n >= 5 && memcmp(line, "HTTP/", 5) == 0)
            ok = parse_response((cursor){line + 5, c.n - 5}, out);
        else
            ok = parse_request(c, out);
        if (ok)
            *state = 1;
    } else if (c.n == 0) {
        out->kind = GT_HTTP_EOH;
        *state = 0;
        ok = true;
    } else {
        ok = parse_header(c, line, out);
    }
    if (!ok) {
        out->kind = GT_HTTP_ERROR;
        out->line = mkstr(line, len);
    }
}

/* ---- the socket layer's message payload ------------------------------- */

/* Copies s to *dst (NUL-terminated) and points s there. */
static void relocate(gt_http_str *s, char **dst)
{
    if (s->ptr == NULL) {
        s->ptr = *dst;
        s->len = 0;
    } else if (s->len) {
        memcpy(*dst, s->ptr, s->len);
    }
    s->ptr = *dst;
    (*dst)[s->len] = '\0';
    *dst += s->len + 1;
}

struct gt_http_packet *gt__http_packet_new(gt_packet_type t, const uint8_t *frame, size_t len,
                                           int *http_state)
{
    struct gt_http_packet tmp, *pkt;
    int st = (t == GT_PKT_HTTPH || t == GT_PKT_HTTPH_BIN) ? 1 : *http_state;
    gt_http_str *strs[8];
    size_t nstr = 0, bytes = 0;
    char *dst;

    memset(&tmp, 0, sizeof tmp);
    gt__http_parse(frame, len, &st, t == GT_PKT_HTTP_BIN || t == GT_PKT_HTTPH_BIN, &tmp);
    switch (tmp.kind) {
    case GT_HTTP_REQUEST:
        strs[nstr++] = &tmp.method_str;
        strs[nstr++] = &tmp.uri.host;
        strs[nstr++] = &tmp.uri.path;
        break;
    case GT_HTTP_RESPONSE:
        strs[nstr++] = &tmp.reason;
        break;
    case GT_HTTP_HEADER:
        strs[nstr++] = &tmp.raw_name;
        strs[nstr++] = &tmp.value;
        break;
    case GT_HTTP_ERROR:
        strs[nstr++] = &tmp.line;
        break;
    default:
        break;
    }
    for (size_t i = 0; i < nstr; i++)
        bytes += strs[i]->len + 1;
    pkt = malloc(sizeof *pkt + bytes);
    if (pkt == NULL)
        return NULL;
    dst = (char *)(pkt + 1);
    for (size_t i = 0; i < nstr; i++)
        relocate(strs[i], &dst);
    memcpy(pkt, &tmp, sizeof tmp);
    *http_state = st;
    return pkt;
}
