/* The change spool: round trips (empty, 1 MiB, random sizes, 100k small
 * records), stats, misuse, and damaged files (cut at many points, bad
 * magic, garbage, flipped bytes, trailing bytes) refused as LM_ECORRUPT,
 * never read as a shorter stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "livemig/err.h"
#include "livemig/spool.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static char path[96];

static int setup(void **state)
{
    const char *tmp = getenv("TMPDIR");

    (void)state;
    snprintf(dir, sizeof(dir), "%s/lmspoolXXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/spool", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return rmdir(dir);
}

/* A small deterministic PRNG (xorshift64*): record i's bytes come from
 * seed i, so reading can check them without keeping them. */
static uint64_t rnd(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 0x2545F4914F6CDD1DULL;
}

static void fill_rec(uint8_t *p, size_t n, uint64_t seed, bool compressible)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;

    for (size_t i = 0; i < n; i++)
        p[i] = compressible ? (uint8_t)("change "[i % 7] + (i / 7 % 3)) : (uint8_t)rnd(&x);
    if (n > 0)
        p[0] = (uint8_t)seed; /* records differ even when compressible */
}

typedef struct plan {
    size_t n;
    size_t *len;
    uint64_t *tag;
} plan;

static void plan_free(plan *p)
{
    free(p->len);
    free(p->tag);
}

static size_t max_len(const plan *p)
{
    size_t m = 0;

    for (size_t i = 0; i < p->n; i++)
        if (p->len[i] > m)
            m = p->len[i];
    return m;
}

/* Write p's records (odd ones random, even ones compressible), rewind. */
static lm_spool *write_plan(const plan *p)
{
    lm_spool *s = NULL;
    lm_err err = LM_ERR_INIT;
    uint8_t *buf = malloc(max_len(p) + 1);

    assert_non_null(buf);
    assert_int_equal(lm_spool_create(&s, path, &err), 0);
    for (size_t i = 0; i < p->n; i++) {
        fill_rec(buf, p->len[i], i, i % 2 == 0);
        if (lm_spool_write(s, p->tag[i], buf, p->len[i], &err) != 0)
            fail_msg("write %zu: %s", i, err.msg);
    }
    free(buf);
    if (lm_spool_rewind(s, &err) != 0)
        fail_msg("rewind: %s", err.msg);
    return s;
}

/* Read everything back: the records of p in order, then LM_EEOF (also on
 * a second call). */
static void read_plan(lm_spool *s, const plan *p)
{
    lm_err err = LM_ERR_INIT;
    uint8_t *want = malloc(max_len(p) + 1);
    const uint8_t *data;
    uint64_t tag;
    size_t len;

    assert_non_null(want);
    for (size_t i = 0; i < p->n; i++) {
        int rc = lm_spool_read(s, &tag, &data, &len, &err);
        if (rc != 0)
            fail_msg("read %zu: rc %d %s", i, rc, err.msg);
        assert_true(tag == p->tag[i]);
        assert_int_equal(len, p->len[i]);
        fill_rec(want, len, i, i % 2 == 0);
        if (len && memcmp(data, want, len) != 0)
            fail_msg("record %zu (%zu bytes) differs", i, len);
    }
    free(want);
    assert_int_equal(lm_spool_read(s, &tag, &data, &len, &err), LM_EEOF);
    assert_int_equal(lm_spool_read(s, &tag, &data, &len, &err), LM_EEOF);
    assert_int_equal(err.code, 0);
}

static void make_plan(plan *p, size_t n)
{
    p->n = n;
    p->len = calloc(n ? n : 1, sizeof(*p->len));
    p->tag = calloc(n ? n : 1, sizeof(*p->tag));
    assert_non_null(p->len);
    assert_non_null(p->tag);
}

static void test_round_trip(void **state)
{
    plan p;
    lm_spool *s;
    uint64_t x = 42, recs, raw, file, want_raw = 16;
    struct stat st;

    (void)state;
    make_plan(&p, 300);
    for (size_t i = 0; i < p.n; i++) {
        uint64_t r = rnd(&x);
        p.tag[i] = r;
        /* Mostly under the 256 KiB read buffer, some past it. */
        p.len[i] = r % 10 == 0 ? (size_t)(r >> 20) % (600 << 10) : (size_t)(r >> 20) % 5000;
    }
    p.len[0] = 0;
    p.len[1] = 1 << 20; /* random bytes: barely compress */
    p.len[2] = 1 << 20; /* compressible */
    p.len[3] = 0;
    p.len[p.n - 1] = 0;
    p.tag[0] = 0;
    p.tag[1] = UINT64_MAX;
    for (size_t i = 0; i < p.n; i++)
        want_raw += 16 + p.len[i];
    s = write_plan(&p);
    lm_spool_stats(s, &recs, &raw, &file);
    assert_int_equal(recs, p.n);
    assert_true(raw == want_raw);
    assert_int_equal(stat(path, &st), 0);
    assert_true(file == (uint64_t)st.st_size);
    assert_true(file < raw); /* half the records compress well */
    read_plan(s, &p);
    /* Stats still describe what was written. */
    lm_spool_stats(s, &recs, NULL, NULL);
    assert_int_equal(recs, p.n);
    lm_spool_free(s);
    assert_int_equal(access(path, F_OK), -1); /* free removes the file */
    plan_free(&p);
}

static void test_many_small(void **state)
{
    plan p;
    lm_spool *s;
    uint64_t recs, raw, file;

    (void)state;
    make_plan(&p, 100000);
    for (size_t i = 0; i < p.n; i++) {
        p.tag[i] = 0x100000000ULL + i * 48; /* like LSNs */
        p.len[i] = i % 97;
    }
    s = write_plan(&p);
    read_plan(s, &p);
    lm_spool_stats(s, &recs, &raw, &file);
    assert_int_equal(recs, 100000);
    assert_true(file < raw); /* half the records are random bytes */
    lm_spool_free(s);
    plan_free(&p);
}

static void test_empty_spool(void **state)
{
    plan p;
    lm_spool *s;
    uint64_t recs, raw, file;

    (void)state;
    make_plan(&p, 0);
    s = write_plan(&p);
    lm_spool_stats(s, &recs, &raw, &file);
    assert_int_equal(recs, 0);
    assert_int_equal(raw, 16);
    assert_true(file > 8);
    read_plan(s, &p);
    lm_spool_free(s);
    plan_free(&p);
    lm_spool_free(NULL);
}

static void test_misuse(void **state)
{
    lm_spool *s = NULL;
    lm_err err = LM_ERR_INIT;
    const uint8_t *data;
    uint64_t tag;
    size_t len;
    char bad[128];

    (void)state;
    assert_int_equal(lm_spool_create(&s, path, &err), 0);
    assert_int_equal(lm_spool_read(s, &tag, &data, &len, &err), LM_EINVAL);
    lm_err_clear(&err);
    assert_int_equal(lm_spool_write(s, 1, "x", 1, &err), 0);
    assert_int_equal(lm_spool_rewind(s, &err), 0);
    assert_int_equal(lm_spool_write(s, 1, "x", 1, &err), LM_EINVAL);
    assert_non_null(strstr(err.msg, "write after rewind"));
    lm_err_clear(&err);
    assert_int_equal(lm_spool_rewind(s, &err), LM_EINVAL);
    lm_err_clear(&err);
    assert_int_equal(lm_spool_read(s, &tag, &data, &len, &err), 0);
    assert_int_equal(len, 1);
    assert_int_equal(lm_spool_read(s, &tag, &data, &len, &err), LM_EEOF);
    lm_spool_free(s);

    snprintf(bad, sizeof(bad), "%s/no/such/dir/spool", dir);
    assert_int_equal(lm_spool_create(&s, bad, &err), LM_EIO);
    assert_null(s);
    assert_non_null(strstr(err.msg, "No such file or directory"));
    assert_non_null(strstr(err.msg, bad));
}

/* A spool of a few records of every size class, rewound (zstd is
 * deterministic: the file is the same each time). */
static lm_spool *small_spool(plan *p)
{
    make_plan(p, 40);
    for (size_t i = 0; i < p->n; i++) {
        p->tag[i] = i * 7;
        p->len[i] = i == 20 ? 300000 : i * 13;
    }
    return write_plan(p);
}

static uint8_t *slurp(size_t *size)
{
    struct stat st;
    uint8_t *b;
    int fd;

    assert_int_equal(stat(path, &st), 0);
    *size = (size_t)st.st_size;
    b = malloc(*size + 1);
    assert_non_null(b);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, b, *size), (ssize_t)*size);
    close(fd);
    return b;
}

static void rewrite(const uint8_t *b, size_t n)
{
    /* Same inode, so the spool's open descriptor sees the new bytes. */
    int fd = open(path, O_WRONLY | O_TRUNC);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, b, n), (ssize_t)n);
    close(fd);
}

/* Read s to its end: LM_ECORRUPT with words in the message (after
 * "spool PATH: "), after records that are each right. Returns how many
 * records came out. */
static size_t read_corrupt(lm_spool *s, const plan *p, const char *words)
{
    lm_err err = LM_ERR_INIT;
    const uint8_t *data;
    uint8_t *want = malloc(max_len(p) + 1);
    uint64_t tag;
    size_t len, i = 0;
    int rc;
    char prefix[128];

    while ((rc = lm_spool_read(s, &tag, &data, &len, &err)) == 0) {
        assert_true(i < p->n);
        assert_true(tag == p->tag[i]);
        assert_int_equal(len, p->len[i]);
        fill_rec(want, len, i, i % 2 == 0);
        assert_true(len == 0 || memcmp(data, want, len) == 0);
        i++;
    }
    free(want);
    if (rc != LM_ECORRUPT)
        fail_msg("rc %d after %zu records, expected LM_ECORRUPT (%s)", rc, i, err.msg);
    snprintf(prefix, sizeof(prefix), "spool %s: ", path);
    assert_true(strncmp(err.msg, prefix, strlen(prefix)) == 0);
    if (words && strstr(err.msg, words) == NULL)
        fail_msg("message '%s' lacks '%s'", err.msg, words);
    /* The failure sticks. */
    lm_err_clear(&err);
    assert_int_equal(lm_spool_read(s, &tag, &data, &len, &err), LM_ECORRUPT);
    return i;
}

/* Write the small spool, replace its file by (b, n), read it to the
 * expected failure; the number of good records read. */
static size_t damaged(const uint8_t *b, size_t n, const char *words)
{
    plan p;
    lm_spool *s = small_spool(&p);
    size_t got;

    rewrite(b, n);
    got = read_corrupt(s, &p, words);
    lm_spool_free(s);
    plan_free(&p);
    return got;
}

static void test_truncated(void **state)
{
    plan p;
    lm_spool *s = small_spool(&p);
    size_t size, got, last = 0;
    uint8_t *file = slurp(&size);

    (void)state;
    lm_spool_free(s);
    /* Every cut of the header and the first compressed bytes, then cuts
     * across the whole file: never a clean end. */
    for (size_t cut = 0; cut < size; cut += cut < 64 ? 1 : 997) {
        got = damaged(file, cut, cut < 8 ? "truncated header" : "truncated");
        assert_true(got >= last); /* a longer file yields no fewer */
        last = got;
    }
    /* The last byte (of zstd's frame checksum) missing: every record came
     * out, the end did not. */
    assert_int_equal(damaged(file, size - 1, "truncated after the end record"), p.n);
    plan_free(&p);
    free(file);
}

static void test_garbage(void **state)
{
    plan p;
    lm_spool *s = small_spool(&p);
    size_t size;
    uint8_t *file = slurp(&size), *g = malloc(size + 16);
    uint64_t x = 7;

    (void)state;
    lm_spool_free(s);
    assert_non_null(g);
    /* Not a spool. */
    memcpy(g, file, size);
    g[0] = 'X';
    assert_int_equal(damaged(g, size, "not a livemig spool (bad magic)"), 0);
    /* A spool header, then noise. */
    for (size_t i = 8; i < size; i++)
        g[i] = (uint8_t)rnd(&x);
    memcpy(g, file, 8);
    assert_int_equal(damaged(g, size, "damaged"), 0);
    /* Bytes after the frame. */
    memcpy(g, file, size);
    memcpy(g + size, "trailing", 8);
    assert_int_equal(damaged(g, size + 8, "trailing bytes"), p.n);
    /* A byte flipped anywhere after the header: refused, at the latest
     * when the frame's checksum is checked. */
    for (size_t i = 8; i < size; i += 61) {
        memcpy(g, file, size);
        g[i] ^= 0x20;
        (void)damaged(g, size, NULL);
    }
    plan_free(&p);
    free(file);
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),  cmocka_unit_test(test_many_small),
        cmocka_unit_test(test_empty_spool), cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_truncated),   cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
