/* SPDX-License-Identifier: MIT */
/*
 * What the portable kernel needs from the CPU, and nothing more: the
 * interrupt flag, the idle halt and the spin-wait hint (inline, from the
 * architecture's irq.h).  Only kernel/ includes this; loader/, minifs/ and
 * syscalls/ reach the CPU through kernel.h's functions (locks, waits, the
 * TLB, features, random bits) and never see an instruction.  Every x86
 * instruction, CPUID leaf and port lives in the architecture's directory.
 */
#ifndef KERNEL_ARCH_H
#define KERNEL_ARCH_H

#include "kernel/arch/x86_64/irq.h"

#endif
