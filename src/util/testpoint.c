#include "livemig/testpoint.h"

#include "livemig/log.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void lm_test_pause(const char *step)
{
    const char *want = getenv("LIVEMIG_TEST_PAUSE");

    if (want == NULL || strcmp(want, step) != 0)
        return;
    lm_info("test pause at %s", step);
    for (;;)
        pause();
}
