/* SPDX-License-Identifier: MIT */
/* lwIP's mem.c includes <stdlib.h> for malloc, but lwipopts.h points its
 * allocator at the kernel heap; netif_find ("et1") needs atoi, which
 * kernel/net/port.c provides. */
#ifndef KERNEL_NET_LIBC_STDLIB_H
#define KERNEL_NET_LIBC_STDLIB_H
#include <stddef.h>
int atoi(const char *s);
#endif
