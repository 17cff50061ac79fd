/* SPDX-License-Identifier: MIT */
/*
 * What remote.c and remote_vol.c share about host-backed inodes: the
 * mounts and the per-inode state beside a struct inode.  The rest of
 * minifs and the syscalls see only minifs.h's mfs_remote_* functions.
 */
#ifndef MINIFS_REMOTE_H
#define MINIFS_REMOTE_H

#include <stdbool.h>
#include <stdint.h>

struct p9_dev;
struct p9_attr;
struct inode;
struct name_node;

enum { MOUNT_SYS, MOUNT_RO, MOUNT_RW };

struct mfs_mount {
	struct p9_dev *p;
	int kind;          /* MOUNT_* */
	uint32_t base;     /* fid of the share's SUBDIR, the mount point
	                      (P9_NOFID: a sys mount not used yet) */
	struct inode *top; /* the mount point */
	char sub[128];     /* SUBDIR, walked at the first use of a sys mount */
	bool failed;       /* that walk failed: the host lends nothing here */
};

struct mfs_remote {
	struct mfs_mount *m;
	uint32_t fid;  /* walked, never opened (P9_NOFID: not walked yet) */
	uint32_t ofid; /* opened for reads and writes, or P9_NOFID */
	bool ofid_rw;  /* ofid is open read-write */
	bool image;    /* a directory of the image under a sys mount */
	bool absent;   /* the host has no such directory */
	bool complete; /* listing holds every host name (sys directories) */
	struct name_node **misses, **listing;
	bool on_list;              /* on remote.c's list of mapped files */
	struct inode *next_mapped; /* that list */
};

/* remote.c */
extern bool mfs_remote_trace; /* trace=1: log @@used for what sys mounts bring in */
struct mfs_remote *mfs_remote_new(struct mfs_mount *m, uint32_t fid);
void mfs_remote_set_attr(struct inode *ino, const struct p9_attr *a);
/* The fid of a host-backed directory, walked from its mount the first
 * time; P9_NOFID when the host has no such directory. */
uint32_t mfs_remote_dir_fid(struct inode *dir);
/* The fid of m's mount point: a sys mount attaches and walks its SUBDIR the
 * first time the host is needed, so a program that never misses a file
 * costs no round trip.  P9_NOFID when the share has no such directory. */
uint32_t mfs_mount_base(struct mfs_mount *m);
/* Writes back the pages of every rw volume file that was mapped. */
void mfs_remote_writeback_mapped(void);
/* Sets of names (a directory's misses, its whole host listing). */
bool mfs_nameset_has(struct name_node *const *set, const char *s, size_t len);
void mfs_nameset_add(struct name_node ***set, const char *s, size_t len);
void mfs_nameset_free(struct name_node ***set);

#endif
