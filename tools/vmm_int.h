/* SPDX-License-Identifier: MIT */
/*
 * What the three files of the VMM share, and nothing else includes: vmm.c
 * starts QEMU and follows it, vmm_argv.c writes its command line and
 * vmm_lines.c reads the lines it sends back (the debugcon log, its stderr,
 * QMP).  The fd numbering below is the contract between the command line
 * and the child that sets those fds up.  What the rest of the elfvm
 * command calls is in tools/tools.h.
 */
#ifndef TOOLS_VMM_INT_H
#define TOOLS_VMM_INT_H

#include "tools/tools.h"

#include <sys/types.h>

/* The fds QEMU finds its chardev files on (set up by child_exec). */
enum {
	QFD_OUT = 1,
	QFD_QEMU_ERR = 2,
	QFD_ERR = 3,
	QFD_LOG = 4,
	QFD_QMP = 5,
	QFD_IN = 6,  /* elfvm.stdin's socket */
	QFD_CTL = 7, /* elfvm.ctl's socket */
	QFD_N = 8
};
/* What follow() reads: the debugcon log, QEMU's stderr, its QMP socket. */
enum { LB_LOG, LB_QEMU, LB_QMP, LB_N };

#define VM_MAX_ARGS (96 + SHARE_MAX_ARGS)

struct linebuf {
	int fd; /* -1 once at end of file */
	size_t len;
	char buf[4096];
};

struct vm_state {
	const struct vm_config *cfg;
	struct vm_result *res;
	int recorded;          /* a final record arrived */
	int stdout_is_pipe;    /* watch it for its reader leaving */
	int qmp_fd;            /* our end of QEMU's QMP socket */
	int qmp_ready;         /* capabilities asked for */
	pid_t qemu;            /* QEMU's pid */
	int64_t stopped_at;    /* when the VM was seen to stop without a record */
	char stop_why[256];    /* and why */
	char shutdown_why[64]; /* the reason of QMP's SHUTDOWN event */
	char qemu_first[256];  /* QEMU's first stderr line */
	struct relay *relay;   /* stdin and elfvm.ctl */
	int ctl_open;          /* the kernel reads elfvm.ctl (@@ctl) */
	int64_t forwarded[32]; /* when each signal was forwarded, 0: never */
	int64_t grace_at;      /* the first forwarded signal's time */
	int first_sig;         /* and which it was */
	int64_t dumped_at;     /* when "threads" was sent, its grace over */
	int kill_sig;          /* the signal that ended the VM from here */
	int escaped;           /* Ctrl-] q */
};

/* ---- vmm_argv.c ----------------------------------------------------------- */

/* The strings of QEMU's command line that vm_build_argv writes. */
struct vm_argbufs {
	char smp[16];
	char net[2100];
	char bios[2 * PATH_MAX + 8];
	char drive[2 * PATH_MAX + 64];
	char fwcfg[2 * PATH_MAX + 64];
	char core[2 * PATH_MAX + 32];
};
/* Fills argv (VM_MAX_ARGS) with QEMU's command line for cfg; the strings
 * live in argv's own literals, cfg, cmdline and b.  cmdline is the
 * kernel's words for -append, or with cfg->disk the name of the file
 * that carries them to the UEFI loader through fw_cfg. */
void vm_build_argv(const struct vm_config *cfg, const char *cmdline, struct vm_argbufs *b,
		   const char **argv);
/* Prints argv on stderr as one line a shell can run (ELFVM_PRINT_QEMU=1). */
void vm_print_argv(const char *const *argv);

/* ---- vmm_lines.c ---------------------------------------------------------- */

/* One line of the debugcon log, QEMU's stderr or its QMP socket, without
 * its newline; each updates st (a final record, a stop, QEMU's first
 * words) and writes to cfg->log, cfg->trace or cfg->used as asked. */
void vm_on_log_line(struct vm_state *st, char *line);
void vm_on_qemu_line(struct vm_state *st, char *line);
void vm_on_qmp_line(struct vm_state *st, char *line);
/* Reads what lb->fd has and hands each whole line to fn; at end of file
 * it closes the fd and sets it to -1. */
void vm_lb_read(struct linebuf *lb, struct vm_state *st, void (*fn)(struct vm_state *, char *));

#endif
