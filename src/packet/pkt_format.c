/*
 * pkt_format.c -- decode results as Erlang's ~w prints them.
 *
 * ~w never prints strings as "text": a string is a list of integers
 * ([71,69,84]), a binary is <<71,69,84>>, the empty ones are [] and <<>>.
 * Atoms that need quotes get them ('GET', 'Content-Type', '*').
 */
#include <stdio.h>
#include <string.h>

#include "packet/packet.h"

typedef struct out {
    char *buf;
    size_t cap;
    size_t len;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->len < o->cap) {
        size_t room = o->cap - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static void puts_(out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_int(out *o, long long v)
{
    char tmp[24];
    int k = snprintf(tmp, sizeof tmp, "%lld", v);
    put(o, tmp, (size_t)k);
}

/* "255," etc.: the decimal text of a byte followed by a comma. */
static void put_bytes(out *o, const uint8_t *p, size_t n)
{
    char tmp[256];
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned v = p[i];
        if (k > sizeof tmp - 8) {
            put(o, tmp, k);
            k = 0;
        }
        if (i)
            tmp[k++] = ',';
        if (v >= 100)
            tmp[k++] = (char)('0' + v / 100);
        if (v >= 10)
            tmp[k++] = (char)('0' + v / 10 % 10);
        tmp[k++] = (char)('0' + v % 10);
    }
    put(o, tmp, k);
}

static void put_bin(out *o, const void *p, size_t n)
{
    put(o, "<<", 2);
    put_bytes(o, p, n);
    put(o, ">>", 2);
}

static void put_string(out *o, bool binary, gt_http_str s)
{
    if (binary) {
        put_bin(o, s.ptr, s.len);
    } else {
        put(o, "[", 1);
        put_bytes(o, (const uint8_t *)s.ptr, s.len);
        put(o, "]", 1);
    }
}

static void put_quoted(out *o, const char *atom)
{
    put(o, "'", 1);
    puts_(o, atom);
    put(o, "'", 1);
}

static void put_version(out *o, int32_t major, int32_t minor)
{
    put(o, "{", 1);
    put_int(o, major);
    put(o, ",", 1);
    put_int(o, minor);
    put(o, "}", 1);
}

static void put_uri(out *o, bool b, const gt_http_uri *u)
{
    switch (u->kind) {
    case GT_URI_STAR:
        puts_(o, "'*'");
        break;
    case GT_URI_ABS_PATH:
        puts_(o, "{abs_path,");
        put_string(o, b, u->path);
        puts_(o, "}");
        break;
    case GT_URI_ABSOLUTE:
        puts_(o, u->https ? "{absoluteURI,https," : "{absoluteURI,http,");
        put_string(o, b, u->host);
        put(o, ",", 1);
        if (u->port == 0)
            puts_(o, "undefined");
        else
            put_int(o, u->port);
        put(o, ",", 1);
        put_string(o, b, u->path);
        puts_(o, "}");
        break;
    case GT_URI_SCHEME:
        puts_(o, "{scheme,");
        put_string(o, b, u->host);
        put(o, ",", 1);
        put_string(o, b, u->path);
        puts_(o, "}");
        break;
    case GT_URI_STRING:
    default:
        put_string(o, b, u->path);
        break;
    }
}

static void put_http(out *o, const struct gt_http_packet *h)
{
    bool b = h->binary;

    switch (h->kind) {
    case GT_HTTP_REQUEST:
        puts_(o, "{http_request,");
        if (h->method != GT_HTTP_M_OTHER)
            put_quoted(o, gt_http_method_name(h->method));
        else
            put_string(o, b, h->method_str);
        put(o, ",", 1);
        put_uri(o, b, &h->uri);
        put(o, ",", 1);
        put_version(o, h->major, h->minor);
        puts_(o, "}");
        break;
    case GT_HTTP_RESPONSE:
        puts_(o, "{http_response,");
        put_version(o, h->major, h->minor);
        put(o, ",", 1);
        put_int(o, h->status);
        put(o, ",", 1);
        put_string(o, b, h->reason);
        puts_(o, "}");
        break;
    case GT_HTTP_HEADER:
        puts_(o, "{http_header,");
        put_int(o, (long long)h->field);
        put(o, ",", 1);
        if (h->field != GT_HTTP_H_OTHER)
            put_quoted(o, gt_http_field_name(h->field));
        else
            put_string(o, b, gt_http_header_name(h));
        put(o, ",", 1);
        put_string(o, b, h->raw_name);
        put(o, ",", 1);
        put_string(o, b, h->value);
        puts_(o, "}");
        break;
    case GT_HTTP_EOH:
        puts_(o, "http_eoh");
        break;
    case GT_HTTP_ERROR:
    default:
        puts_(o, "{http_error,");
        put_string(o, b, h->line);
        puts_(o, "}");
        break;
    }
}

static size_t finish(out *o)
{
    if (o->cap)
        o->buf[o->len < o->cap ? o->len : o->cap - 1] = '\0';
    return o->len;
}

size_t gt_http_packet_format(const struct gt_http_packet *pkt, char *buf, size_t cap)
{
    out o = {buf, buf ? cap : 0, 0};
    if (pkt)
        put_http(&o, pkt);
    return finish(&o);
}

size_t gt_decode_result_format(const gt_decode_result *res, char *buf, size_t cap)
{
    out o = {buf, buf ? cap : 0, 0};

    if (!res)
        return finish(&o);
    switch (res->status) {
    case GT_DECODE_MORE:
        if (res->more == 0) {
            puts_(&o, "{more,undefined}");
        } else {
            puts_(&o, "{more,");
            put_int(&o, (long long)res->more);
            puts_(&o, "}");
        }
        break;
    case GT_DECODE_PACKET:
        puts_(&o, "{ok,");
        if (res->is_http)
            put_http(&o, &res->http);
        else
            put_bin(&o, res->packet, res->packet_len);
        put(&o, ",", 1);
        put_bin(&o, res->rest, res->rest_len);
        puts_(&o, "}");
        break;
    case GT_DECODE_INVALID:
    default:
        puts_(&o, "{error,invalid}");
        break;
    }
    return finish(&o);
}
