/* SPDX-License-Identifier: MIT */
/*
 * lwIP's compiler and platform glue for elfvm's kernel (lwIP's arch.h asks
 * for it): freestanding types from gcc's headers, byte swaps from gcc's
 * builtins, assertions that panic and randomness from the kernel
 * (kernel/net/port.c).  lwIP's own files never include kernel/kernel.h
 * (its names clash with lwIP's, e.g. mem_init), so what they need from the
 * kernel is declared here and in kernel/net/libc/.
 */
#ifndef KERNEL_NET_ARCH_CC_H
#define KERNEL_NET_ARCH_CC_H

#include <stddef.h>
#include <stdint.h>

#define LWIP_NO_INTTYPES_H 1
#define LWIP_NO_CTYPE_H 1
#define LWIP_NO_UNISTD_H 1
#define LWIP_NO_LIMITS_H 1 /* gcc's limits.h wants a libc's under it */
#ifndef INT_MAX
#define INT_MAX __INT_MAX__
#endif
#define SSIZE_MAX __LONG_MAX__
typedef long ssize_t;
#define X8_F "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "lu"

#define LWIP_ERR_T int

#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_ntohs(x) lwip_htons(x)
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))
#define lwip_ntohl(x) lwip_htonl(x)

_Noreturn void lwip_port_assert(const char *msg, int line, const char *file);
unsigned lwip_port_rand(void);

#define LWIP_PLATFORM_ASSERT(x) lwip_port_assert(x, __LINE__, __FILE__)
#define LWIP_PLATFORM_DIAG(x) \
	do { \
	} while (0)
#define LWIP_RAND() ((u32_t)lwip_port_rand())

#endif
