/* Float and double text as mariadb-binlog -vv prints them (dtoa.c). */
#ifndef LIVEMIG_BINLOG_DTOA_H
#define LIVEMIG_BINLOG_DTOA_H

#include <stddef.h>
#include <stdint.h>

/* 10^0 … 10^19 (dtoa.c), shared with the integer writer. */
extern const uint64_t lm_bl_pow10[20];

/* Longest text lm_bl_dtoa writes, with the NUL. */
#define LM_BL_DTOA_MAX 32

/* The text of "%.*g" (exponent without '+' or padding) at the smallest
 * precision, from 15 for doubles (6 for FLOAT values, is_float) or from 1
 * for subnormals, that reads back as d, up to 17 (9). out needs
 * LM_BL_DTOA_MAX bytes; returns the length. */
size_t lm_bl_dtoa(double d, int is_float, char *out);

/* The same text by snprintf and strtod at each precision in turn: the
 * definition, used when the fast path cannot decide, and by tests. */
size_t lm_bl_dtoa_slow(double d, int is_float, char *out);

#endif
