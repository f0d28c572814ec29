/* Text of decimals and temporals written in place, returning the length
 * (temporal.c): the decoder formats straight into its arena instead of a
 * stack buffer followed by strlen and a copy. */
#ifndef LIVEMIG_BINLOG_TEXTFMT_H
#define LIVEMIG_BINLOG_TEXTFMT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* "00".."99" (jsonw.c). */
extern const char lm_bl_digit_pairs[200];

/* Two digits of v < 100; returns the end. */
static inline char *lm_bl_put2(char *q, unsigned v)
{
    memcpy(q, lm_bl_digit_pairs + 2 * v, 2);
    return q + 2;
}

/* Room the functions below need at out. */
#define LM_BL_TEXT_ROOM 96

/* NEWDECIMAL text (as lm_bl_decimal_text); -1 for a bad precision/scale. */
int lm_bl_decimal_str(const uint8_t *p, unsigned precision, unsigned scale, char *out);
size_t lm_bl_time2_str(const uint8_t *p, unsigned fsp, char *out);
size_t lm_bl_datetime2_str(const uint8_t *p, unsigned fsp, char *out);
size_t lm_bl_timestamp_str(int64_t sec, uint64_t usec, unsigned fsp, char *out);

#endif
