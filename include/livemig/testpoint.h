/* Test points: LIVEMIG_TEST_PAUSE=STEP makes livemig stop at STEP (log
 * "test pause at STEP" and sleep until killed), so tests can kill it at
 * exact moments, e.g. in the middle of the cutover. */
#ifndef LIVEMIG_TESTPOINT_H
#define LIVEMIG_TESTPOINT_H

void lm_test_pause(const char *step);

#endif
