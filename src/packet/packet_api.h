/*
 * packet_api.h -- the public packet decoder: erlang:decode_packet/3 in C.
 *
 * This block is written to be pasted verbatim into include/gentcp.h (the
 * "Packet decoding" section).  Until then include "gentcp.h" first: it
 * defines gt_packet_type and GT_EBADARG, which are used here.
 *
 * Everything here is pure: no I/O, no allocation, no global state.  Results
 * borrow from the input bytes; nothing needs freeing.
 */
#ifndef GT_PACKET_API_H
#define GT_PACKET_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ------------------------------------------------------------------------ */
/* HTTP packets                                                             */
/* ------------------------------------------------------------------------ */

/* Methods Erlang reports as atoms ('GET' ...), in Erlang's table order.
 * Method matching is case-sensitive: "get" is GT_HTTP_M_OTHER. */
#define GT_HTTP_METHOD_MAP(XX)                                                 \
    XX(OPTIONS, "OPTIONS") XX(GET, "GET") XX(HEAD, "HEAD") XX(POST, "POST")    \
    XX(PUT, "PUT") XX(DELETE, "DELETE") XX(TRACE, "TRACE")

typedef enum gt_http_method {
    GT_HTTP_M_OTHER = 0, /* not a known method: see method_str */
#define GT__HTTP_M_ENUM(id, s) GT_HTTP_M_##id,
    GT_HTTP_METHOD_MAP(GT__HTTP_M_ENUM)
#undef GT__HTTP_M_ENUM
    GT_HTTP_M_COUNT_
} gt_http_method;

/* Header fields Erlang reports as atoms, numbered as Erlang numbers them in
 * {http_header, N, Name, _, _}: Cache-Control is 1 ... Proxy-Connection 52.
 * The string is the canonical spelling (also the atom's name). */
#define GT_HTTP_HEADER_MAP(XX)                                                 \
    XX(CACHE_CONTROL, "Cache-Control") XX(CONNECTION, "Connection")            \
    XX(DATE, "Date") XX(PRAGMA, "Pragma")                                      \
    XX(TRANSFER_ENCODING, "Transfer-Encoding") XX(UPGRADE, "Upgrade")          \
    XX(VIA, "Via") XX(ACCEPT, "Accept") XX(ACCEPT_CHARSET, "Accept-Charset")   \
    XX(ACCEPT_ENCODING, "Accept-Encoding")                                     \
    XX(ACCEPT_LANGUAGE, "Accept-Language")                                     \
    XX(AUTHORIZATION, "Authorization") XX(FROM, "From") XX(HOST, "Host")       \
    XX(IF_MODIFIED_SINCE, "If-Modified-Since") XX(IF_MATCH, "If-Match")        \
    XX(IF_NONE_MATCH, "If-None-Match") XX(IF_RANGE, "If-Range")                \
    XX(IF_UNMODIFIED_SINCE, "If-Unmodified-Since")                             \
    XX(MAX_FORWARDS, "Max-Forwards")                                           \
    XX(PROXY_AUTHORIZATION, "Proxy-Authorization") XX(RANGE, "Range")          \
    XX(REFERER, "Referer") XX(USER_AGENT, "User-Agent") XX(AGE, "Age")         \
    XX(LOCATION, "Location") XX(PROXY_AUTHENTICATE, "Proxy-Authenticate")      \
    XX(PUBLIC, "Public") XX(RETRY_AFTER, "Retry-After") XX(SERVER, "Server")   \
    XX(VARY, "Vary") XX(WARNING, "Warning")                                    \
    XX(WWW_AUTHENTICATE, "Www-Authenticate") XX(ALLOW, "Allow")                \
    XX(CONTENT_BASE, "Content-Base")                                           \
    XX(CONTENT_ENCODING, "Content-Encoding")                                   \
    XX(CONTENT_LANGUAGE, "Content-Language")                                   \
    XX(CONTENT_LENGTH, "Content-Length")                                       \
    XX(CONTENT_LOCATION, "Content-Location") XX(CONTENT_MD5, "Content-Md5")    \
    XX(CONTENT_RANGE, "Content-Range") XX(CONTENT_TYPE, "Content-Type")        \
    XX(ETAG, "Etag") XX(EXPIRES, "Expires")                                    \
    XX(LAST_MODIFIED, "Last-Modified") XX(ACCEPT_RANGES, "Accept-Ranges")      \
    XX(SET_COOKIE, "Set-Cookie") XX(SET_COOKIE2, "Set-Cookie2")                \
    XX(X_FORWARDED_FOR, "X-Forwarded-For") XX(COOKIE, "Cookie")                \
    XX(KEEP_ALIVE, "Keep-Alive") XX(PROXY_CONNECTION, "Proxy-Connection")

typedef enum gt_http_field {
    GT_HTTP_H_OTHER = 0, /* not a recognised header (Erlang's 0) */
#define GT__HTTP_H_ENUM(id, s) GT_HTTP_H_##id,
    GT_HTTP_HEADER_MAP(GT__HTTP_H_ENUM)
#undef GT__HTTP_H_ENUM
    GT_HTTP_H_COUNT_
} gt_http_field;

/* Longest header name Erlang canonicalises; longer names are reported
 * unchanged (and never recognised). */
#define GT_HTTP_MAX_NAME_LEN 50

/* A byte string inside a decoded packet.  Not NUL-terminated (except in
 * packets built by the socket layer, see gt_msg).  May contain any byte. */
typedef struct gt_http_str {
    const char *ptr;
    size_t len;
} gt_http_str;

typedef enum gt_http_kind {
    GT_HTTP_REQUEST = 1, /* {http_request, Method, Uri, {Major, Minor}}     */
    GT_HTTP_RESPONSE,    /* {http_response, {Major, Minor}, Status, Reason} */
    GT_HTTP_HEADER,      /* {http_header, N, Name, RawName, Value}          */
    GT_HTTP_EOH,         /* http_eoh                                        */
    GT_HTTP_ERROR        /* {http_error, Line}                              */
} gt_http_kind;

typedef enum gt_http_uri_kind {
    GT_URI_STAR = 1,  /* '*'                                               */
    GT_URI_ABS_PATH,  /* {abs_path, Path}                                  */
    GT_URI_ABSOLUTE,  /* {absoluteURI, http|https, Host, Port, Path}        */
    GT_URI_SCHEME,    /* {scheme, Scheme, Rest}: any other "x:..." form    */
    GT_URI_STRING     /* a bare string: no '/', no ':', not '*'            */
} gt_http_uri_kind;

typedef struct gt_http_uri {
    gt_http_uri_kind kind;
    bool https;         /* GT_URI_ABSOLUTE: https (else http)               */
    gt_http_str host;   /* GT_URI_ABSOLUTE: everything before the first ':'
                           of the authority (userinfo included, as Erlang);
                           GT_URI_SCHEME: the scheme                        */
    int32_t port;       /* GT_URI_ABSOLUTE: 0 = undefined; Erlang's int
                           arithmetic, so huge ports wrap (even negative)   */
    gt_http_str path;   /* ABS_PATH: the path; ABSOLUTE: path ("/" if none);
                           SCHEME: the text after ':'; STRING: the string   */
} gt_http_uri;

/*
 * One decoded HTTP packet.  Which fields are set depends on kind.  Strings
 * point into the decoded bytes, into this struct (name, for an unknown
 * header of at most GT_HTTP_MAX_NAME_LEN bytes) or into static tables: do
 * not copy the struct by value and use the copy after the original is gone.
 * The integers are Erlang's C ints: absurdly long digit strings wrap.
 */
struct gt_http_packet {
    gt_http_kind kind;
    bool binary;              /* from http_bin/httph_bin: Erlang gives
                                 binaries, else strings (lists)           */
    /* GT_HTTP_REQUEST */
    gt_http_method method;    /* GT_HTTP_M_OTHER: see method_str          */
    gt_http_str method_str;   /* the method as sent                       */
    gt_http_uri uri;
    /* GT_HTTP_REQUEST and GT_HTTP_RESPONSE ({0,9} for "GET /") */
    int32_t major, minor;
    /* GT_HTTP_RESPONSE */
    int32_t status;
    gt_http_str reason;
    /* GT_HTTP_HEADER */
    gt_http_field field;      /* Erlang's number; GT_HTTP_H_OTHER = 0     */
    gt_http_str name;         /* canonical name ("Content-Type"), or the
                                 raw name when longer than 50 bytes       */
    gt_http_str raw_name;     /* as sent                                  */
    gt_http_str value;        /* leading blanks skipped; continuation
                                 lines kept with their CRLF               */
    /* GT_HTTP_ERROR */
    gt_http_str line;         /* the whole line, line end included        */
    char name_buf_[GT_HTTP_MAX_NAME_LEN]; /* internal: canonical name     */
};

/* The canonical name of a known header field ("Content-Length"), or NULL. */
const char *gt_http_field_name(gt_http_field f);

/* The name of a known method ("GET"), or NULL. */
const char *gt_http_method_name(gt_http_method m);

/* ------------------------------------------------------------------------ */
/* erlang:decode_packet/3                                                   */
/* ------------------------------------------------------------------------ */

/* The Options list of decode_packet/3 after Erlang has read it (for a
 * repeated option the last one counts).  A NULL pointer means []. */
typedef struct gt_decode_opts {
    uint64_t packet_size; /* {packet_size, N}: 0 = no limit; <= 2^32-1     */
    uint64_t line_length; /* {line_length, N}: 0 = none; <= 2^32-1; line:
                             truncate longer lines; http: the line limit
                             when packet_size is 0                        */
    int line_delimiter;   /* {line_delimiter, B}: -1 = not given ('\n');
                             0..255, and only allowed with GT_PKT_LINE    */
} gt_decode_opts;

#define GT_DECODE_OPTS_INIT {0, 0, -1}

typedef enum gt_decode_status {
    GT_DECODE_PACKET = 0, /* {ok, Packet, Rest}                            */
    GT_DECODE_MORE,       /* {more, Length}: more bytes needed             */
    GT_DECODE_INVALID     /* {error, invalid}: bad header or oversize      */
} gt_decode_status;

typedef struct gt_decode_result {
    gt_packet_type type;
    gt_decode_status status;
    /* GT_DECODE_MORE: the total packet length if known, else 0 (Erlang's
       'undefined'). */
    size_t more;
    /* GT_DECODE_PACKET: the packet as Erlang returns it (1/2/4 without
       their length header; fcgi without its padding; the rest whole), and
       the bytes after it.  Both point into the input. */
    const uint8_t *packet;
    size_t packet_len;
    const uint8_t *rest;
    size_t rest_len;
    /* GT_DECODE_PACKET of an http type: the decoded term */
    bool is_http;
    struct gt_http_packet http;
} gt_decode_result;

/*
 * gt_decode_packet -- erlang:decode_packet(Type, Bin, Options).
 *
 * Decodes the first packet of type t in the len bytes at bytes.  Returns 0
 * and fills *res (status says which of ok / more / error it is), or
 * GT_EBADARG -- with *res untouched -- where Erlang raises badarg: an
 * unknown type, packet_size or line_length above 2^32-1, a line_delimiter
 * outside 0..255 or given with a type other than line.
 *
 * res borrows from bytes (and res->http from itself, see struct
 * gt_http_packet): keep bytes alive while res is used.  Never allocates;
 * linear in len.  bytes may be NULL when len is 0.
 */
int gt_decode_packet(gt_packet_type t, const void *bytes, size_t len,
                     const gt_decode_opts *opts, gt_decode_result *res);

/*
 * gt_decode_result_format -- res as Erlang's io:format("~w", [Result])
 * prints it, e.g. "{ok,{http_request,'GET',{abs_path,[47]},{1,1}},<<>>}".
 *
 * Writes at most cap bytes including a terminating NUL into buf (buf may be
 * NULL when cap is 0) and returns the length of the full text, so a result
 * >= cap means it was cut short (call again with a bigger buffer, as with
 * snprintf).
 */
size_t gt_decode_result_format(const gt_decode_result *res, char *buf, size_t cap);

/* Same for one HTTP packet alone ("{http_header,14,'Host',...}"). */
size_t gt_http_packet_format(const struct gt_http_packet *pkt, char *buf, size_t cap);

#endif /* GT_PACKET_API_H */
