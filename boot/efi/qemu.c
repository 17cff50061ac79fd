// SPDX-License-Identifier: MIT
/*
 * What the loader asks of QEMU, and only under a hypervisor (CPUID's
 * hypervisor bit): the fw_cfg file a VMM passes extra command line words
 * in (QEMU's docs/specs/fw_cfg.rst, the port interface: selector 0x510,
 * data 0x511, big-endian directory at selector 0x19), the debugcon port
 * that carries the kernel log, and isa-debug-exit.  Where nothing answers
 * at these ports, reads return all ones and writes are dropped.
 */
#include <efi.h>
#include <efilib.h>

#include "boot/efi/loader.h"
#include "kernel/arch/x86_64/x86.h"
#include "kernel/platform.h"

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_FILE_DIR 0x0019

int efi_hypervisor(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	return (r[2] >> 31) & 1;
}

static void fw_cfg_bytes(void *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((UINT8 *)buf)[i] = inb(FW_CFG_PORT_DATA);
}

static UINT32 be32(const UINT8 *p)
{
	return (UINT32)p[0] << 24 | (UINT32)p[1] << 16 | (UINT32)p[2] << 8 | p[3];
}

char *efi_fw_cfg_read(const char *name, size_t *len)
{
	UINT8 sig[4], word[4], ent[64];

	outw(FW_CFG_PORT_SEL, FW_CFG_SIGNATURE);
	fw_cfg_bytes(sig, 4);
	if (CompareMem(sig, "QEMU", 4))
		return NULL;
	outw(FW_CFG_PORT_SEL, FW_CFG_FILE_DIR);
	fw_cfg_bytes(word, 4);
	UINT32 count = be32(word);
	size_t name_len = strlena((const CHAR8 *)name);
	for (UINT32 i = 0; i < count && i < 4096; i++) {
		fw_cfg_bytes(ent, sizeof(ent)); /* size, select, reserved, name[56] */
		if (CompareMem(ent + 8, name, name_len + 1))
			continue;
		UINT32 size = be32(ent);
		char *buf = AllocatePool(size + 1);
		if (!buf)
			return NULL;
		outw(FW_CFG_PORT_SEL, (UINT16)(ent[4] << 8 | ent[5]));
		fw_cfg_bytes(buf, size);
		buf[size] = 0;
		*len = size;
		return buf;
	}
	return NULL;
}

void efi_debugcon(const char *s)
{
	while (*s)
		outb(PORT_DEBUGCON, (UINT8)*s++);
}

void efi_debug_exit(unsigned status)
{
	outl(PORT_EXIT, status);
}
