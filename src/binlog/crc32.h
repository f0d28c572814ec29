/* CRC-32 (IEEE 802.3, zlib's crc32) of binlog events. */
#ifndef LIVEMIG_BINLOG_CRC32_H
#define LIVEMIG_BINLOG_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Same value as zlib's crc32(crc, p, n), with carry-less multiply
 * folding where the CPU has it (several times Debian's zlib on events of
 * a few KB); crc is 0 to start. */
uint32_t lm_bl_crc32(uint32_t crc, const uint8_t *p, size_t n);

/* The portable path alone (for the tests). */
uint32_t lm_bl_crc32_generic(uint32_t crc, const uint8_t *p, size_t n);

#endif
