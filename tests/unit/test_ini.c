/* INI reader for --config files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "livemig/ini.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct seen {
    char text[2048];
    int calls;
    int stop_at; /* return an error on this call (1-based), 0 never */
} seen;

static int collect(void *ctx, const char *section, const char *key, const char *value, int line,
                   lm_err *err)
{
    seen *s = ctx;
    size_t used = strlen(s->text);

    s->calls++;
    if (s->stop_at == s->calls)
        return lm_err_set(err, LM_EINVAL, "stop at %s", key);
    snprintf(s->text + used, sizeof(s->text) - used, "%d:[%s]%s=%s|", line, section, key, value);
    return 0;
}

static int parse(const char *text, seen *s, lm_err *err)
{
    return lm_ini_parse(text, strlen(text), "t.ini", collect, s, err);
}

static void test_sections_keys_comments(void **state)
{
    seen s = {{0}, 0, 0};
    lm_err err = LM_ERR_INIT;
    const char *text = "# comment\n"
                       "top = 1\n"
                       "\n"
                       "[livemig]\n"
                       "  dsn = mysql://root@127.0.0.1/test  \n"
                       "; another comment\n"
                       "[ migrate ]\r\n"
                       "chunk-size=500\r\n"
                       "execute\n"
                       "alter = \"ADD COLUMN c int, DROP COLUMN d\"\n"
                       "empty =\n"
                       "quoted = 'x = y'";

    assert_int_equal(parse(text, &s, &err), 0);
    assert_string_equal(s.text, "2:[]top=1|5:[livemig]dsn=mysql://root@127.0.0.1/test|"
                                "8:[migrate]chunk-size=500|9:[migrate]execute=|"
                                "10:[migrate]alter=ADD COLUMN c int, DROP COLUMN d|"
                                "11:[migrate]empty=|12:[migrate]quoted=x = y|");
}

static void test_errors(void **state)
{
    seen s = {{0}, 0, 0};
    lm_err err = LM_ERR_INIT;

    assert_int_equal(parse("[livemig\nx=1\n", &s, &err), LM_EINVAL);
    assert_non_null(strstr(err.msg, "t.ini:1: malformed section header"));

    lm_err_clear(&err);
    assert_int_equal(parse("[a]\n = 3\n", &s, &err), LM_EINVAL);
    assert_non_null(strstr(err.msg, "t.ini:2: missing key"));

    lm_err_clear(&err);
    assert_int_equal(parse("[]\n", &s, &err), LM_EINVAL);
    assert_non_null(strstr(err.msg, "empty section"));

    lm_err_clear(&err);
    assert_int_equal(lm_ini_parse("a=1\0b=2", 7, "t.ini", collect, &s, &err), LM_EINVAL);
    assert_non_null(strstr(err.msg, "NUL"));
}

static void test_callback_stops(void **state)
{
    seen s = {{0}, 0, 2};
    lm_err err = LM_ERR_INIT;

    assert_int_equal(parse("a=1\nb=2\nc=3\n", &s, &err), LM_EINVAL);
    assert_string_equal(err.msg, "stop at b");
    assert_int_equal(s.calls, 2);
}

static void test_file(void **state)
{
    seen s = {{0}, 0, 0};
    lm_err err = LM_ERR_INIT;
    char path[] = "/tmp/lm-test-ini.XXXXXX";
    int fd = mkstemp(path);
    FILE *f;

    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs("\xef\xbb\xbf[livemig]\nverbose\n", f);
    fclose(f);
    assert_int_equal(lm_ini_parse_file(path, collect, &s, &err), 0);
    assert_string_equal(s.text, "2:[livemig]verbose=|");
    unlink(path);

    lm_err_clear(&err);
    assert_int_equal(lm_ini_parse_file(path, collect, &s, &err), LM_EINVAL);
    assert_non_null(strstr(err.msg, "cannot open config file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sections_keys_comments),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
