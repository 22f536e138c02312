/*
 * tls_certs.h -- test certificates made at run time with OpenSSL's API in
 * a fresh temporary directory (nothing secret is checked in): ECDSA P-256
 * keys, a CA, certificates it signs (for localhost and 127.0.0.1, or
 * another name, or already expired), and a second CA nobody trusts.
 */
#ifndef GT_TLS_CERTS_H
#define GT_TLS_CERTS_H

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct tc_pair {
    EVP_PKEY *key;
    X509 *cert;
} tc_pair;

static EVP_PKEY *tc_key(void) { return EVP_EC_gen("P-256"); }

static void tc_ext(X509 *c, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v;
    X509V3_set_ctx(&v, issuer ? issuer : c, c, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v, nid, value);
    if (e) {
        X509_add_ext(c, e, -1);
        X509_EXTENSION_free(e);
    }
}

/* A certificate for cn valid from `from` to `to` seconds from now; signed
 * by ca (NULL: self-signed).  san like "DNS:localhost,IP:127.0.0.1". */
static tc_pair tc_make(const char *cn, const char *san, const tc_pair *ca, long from, long to,
                       bool is_ca)
{
    static long serial = 1;
    tc_pair p = {tc_key(), X509_new()};
    X509_set_version(p.cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(p.cert), serial++);
    X509_gmtime_adj(X509_getm_notBefore(p.cert), from);
    X509_gmtime_adj(X509_getm_notAfter(p.cert), to);
    X509_set_pubkey(p.cert, p.key);
    X509_NAME *n = X509_get_subject_name(p.cert);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(p.cert, ca ? X509_get_subject_name(ca->cert) : n);
    X509 *issuer = ca ? ca->cert : NULL;
    if (is_ca) {
        tc_ext(p.cert, issuer, NID_basic_constraints, "critical,CA:TRUE");
        tc_ext(p.cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        tc_ext(p.cert, issuer, NID_basic_constraints, "CA:FALSE");
    }
    tc_ext(p.cert, issuer, NID_subject_key_identifier, "hash");
    if (ca)
        tc_ext(p.cert, issuer, NID_authority_key_identifier, "keyid");
    if (san)
        tc_ext(p.cert, issuer, NID_subject_alt_name, san);
    X509_sign(p.cert, ca ? ca->key : p.key, EVP_sha256());
    return p;
}

static void tc_write(const char *dir, const char *name, const tc_pair *p)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.pem", dir, name);
    FILE *f = fopen(path, "w");
    PEM_write_X509(f, p->cert);
    fclose(f);
    snprintf(path, sizeof path, "%s/%s.key", dir, name);
    f = fopen(path, "w");
    PEM_write_PrivateKey(f, p->key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
}

static void tc_free(tc_pair *p)
{
    X509_free(p->cert);
    EVP_PKEY_free(p->key);
}

/* Writes ca, server (localhost, 127.0.0.1), other (CN other.example),
 * expired, client (CN client), rogue_ca and untrusted (signed by it) into
 * a new directory under /tmp; returns its path (static storage). */
static const char *tc_make_all(void)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/gt-tls-XXXXXX");
    if (!mkdtemp(dir))
        return NULL;
    const long day = 86400;
    tc_pair ca = tc_make("gentcp test CA", NULL, NULL, -day, 30 * day, true);
    tc_pair rogue = tc_make("rogue CA", NULL, NULL, -day, 30 * day, true);
    tc_pair ps[] = {
        tc_make("localhost", "DNS:localhost,IP:127.0.0.1", &ca, -day, 30 * day, false),
        tc_make("other.example", "DNS:other.example", &ca, -day, 30 * day, false),
        tc_make("localhost", "DNS:localhost,IP:127.0.0.1", &ca, -3 * day, -2 * day, false),
        tc_make("client", NULL, &ca, -day, 30 * day, false),
        tc_make("localhost", "DNS:localhost,IP:127.0.0.1", &rogue, -day, 30 * day, false),
    };
    const char *names[] = {"server", "other", "expired", "client", "untrusted"};
    tc_write(dir, "ca", &ca);
    tc_write(dir, "rogue_ca", &rogue);
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        tc_write(dir, names[i], &ps[i]);
        tc_free(&ps[i]);
    }
    tc_free(&ca);
    tc_free(&rogue);
    return dir;
}

/* rm -r of what tc_make_all wrote. */
static void tc_remove(const char *dir)
{
    const char *names[] = {"ca", "rogue_ca", "server", "other", "expired", "client", "untrusted"};
    char path[512];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.pem", dir, names[i]);
        unlink(path);
        snprintf(path, sizeof path, "%s/%s.key", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

#endif
