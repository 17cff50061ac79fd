/* SPDX-License-Identifier: MIT */
/*
 * minifs's public interface.  cpio.c is pure code (host-testable): it walks
 * a "newc" archive without copying anything; minifs.c serves the files.
 */
#ifndef MINIFS_MINIFS_H
#define MINIFS_MINIFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef __user
#define __user
#endif
struct vm_backing;

/* ---- cpio.c --------------------------------------------------------------- */

struct cpio_entry {
	const char *name; /* not NUL-terminated: use namelen; leading "/" and
	                      "./" already stripped */
	size_t namelen;
	uint32_t mode; /* st_mode: type and permission bits */
	uint32_t uid, gid, nlink, mtime;
	const void *data; /* points into the archive */
	size_t size;
};

/*
 * Reads the entry at *off in the archive [buf, buf+len).  Returns 1 with *e
 * filled and *off moved past the entry; 0 at the end (after the last
 * TRAILER!!! when only zero padding follows, or at len); -1 when the
 * archive is malformed (bad magic, hex field, name or size past the end),
 * with a one-line reason in *why.  Concatenated archives are read as one;
 * TRAILER!!! entries are skipped, never returned.
 */
int cpio_next(const void *buf, size_t len, size_t *off, struct cpio_entry *e, const char **why);

/* ---- the tree (inode.c) ------------------------------------------------- */
struct stat;
struct mfs_gen;

/*
 * One inode per file, directory, symlink or device.  A regular file keeps
 * its data in whole pages (pages[i] is the physical address of page i, 0 a
 * hole of zeroes), so mmap maps those very pages.  A file unpacked from the
 * image keeps pointing at its bytes there (image/image_size) and copies a
 * page only when it is first read or mapped.
 */
struct inode {
	uint64_t ino;
	uint32_t mode, uid, gid, nlink;
	uint32_t rdev;               /* device nodes: major << 8 | minor */
	uint64_t size;               /* regular files and symlinks */
	int64_t atime, mtime, ctime; /* nanoseconds since the epoch */
	int refs;                    /* open files, mappings, and 1 while linked */
	struct inode *parent;        /* directories: "..", the root its own */
	struct dentry *children;     /* directories, in creation order */
	uint64_t *pages;             /* regular files */
	size_t npages;               /* capacity of pages[] */
	const uint8_t *image;        /* unpacked from the image: its bytes there */
	uint64_t image_size;         /*   valid for [0, image_size) */
	char *target;                /* symlinks, NUL-terminated */
	char *path;                  /* where it was created (for maps), or NULL */
	const struct mfs_gen *gen;   /* synthetic files and directories (/proc) */
	long gen_arg;
	void *sock;                /* S_IFSOCK: the AF_UNIX socket bound to this name, or NULL */
	struct mfs_remote *remote; /* host-backed (remote.c), or NULL */
};

struct dentry {
	struct dentry *next;
	struct inode *inode;
	size_t len;
	char name[];
};

/* Synthetic inodes: a file's text is made when it is opened; a directory's
 * entries are made when it is read or searched. */
struct mfs_gen {
	/* Writes the file's content into buf; returns the length it needed. */
	size_t (*text)(const struct inode *ino, char *buf, size_t size);
	/* Fills a directory's children (called before each lookup/getdents,
	 * with the tree lock held). */
	void (*fill)(struct inode *dir);
};

#define NAME_MAX 255
#define PATH_MAX 4096

extern struct inode *mfs_root;
/* The tree lock (a mutex): held around every walk and change of the
 * tree's shape.  mfs_dir_lookup, mfs_link, mfs_unlink, mfs_create,
 * mfs_clear_dir, mfs_walk and mfs_dir_path need it held (they panic
 * otherwise); mfs_lookup takes it itself.  Not held across a whole path
 * syscall: a walk's result is used without a reference (docs/threads.md). */
void mfs_lock(void);
void mfs_unlock(void);
void mfs_assert_locked(void);
/* A new inode, not yet linked anywhere (refs 0); NULL without memory. */
struct inode *mfs_new(uint32_t mode);
void mfs_get(struct inode *ino);
/* Drops a reference; the last one frees the inode and its pages. */
void mfs_put(struct inode *ino);
struct inode *mfs_dir_lookup(struct inode *dir, const char *name, size_t len);
/* Links ino into dir as name: 0, -EEXIST, -ENOMEM. */
long mfs_link(struct inode *dir, const char *name, size_t len, struct inode *ino);
/* Removes name from dir (the inode lives on while referenced): 0 or -ENOENT. */
long mfs_unlink(struct inode *dir, const char *name, size_t len);
/* Creates name in dir (a new inode of mode); returns it or NULL. */
struct inode *mfs_create(struct inode *dir, const char *name, uint32_t mode);
/* Removes every child of a synthetic directory before it is refilled. */
void mfs_clear_dir(struct inode *dir);
void mfs_stat(const struct inode *ino, struct stat *st);
/* Marks access and modification times now. */
void mfs_touch(struct inode *ino, bool modified);

/* ---- paths (path.c) ------------------------------------------------------------ */
#define WALK_FOLLOW 1 /* follow a symlink in the last component */
#define WALK_PARENT 2 /* the last component may be missing: return its dir */
#define WALK_DIR 4    /* the last component must be a directory */
struct walk {
	struct inode *dir;       /* the directory holding the last component */
	struct inode *inode;     /* the last component (NULL: missing, WALK_PARENT) */
	char name[NAME_MAX + 1]; /* the last component's name */
	size_t len;
	bool slash; /* the path ended in '/' */
};
/* Resolves path (kernel memory) from start (for relative paths) like
 * Linux's path walk: -ENOENT, -ENOTDIR, -ELOOP (40 links), -ENAMETOOLONG.
 * With WALK_PARENT a missing last component is not an error. */
long mfs_walk(struct inode *start, const char *path, int flags, struct walk *w);
/* The inode at an absolute path, following links, or NULL.  Takes the
 * tree lock. */
struct inode *mfs_lookup(const char *path);
/* Writes the absolute path of a directory; returns its length or -ERANGE. */
long mfs_dir_path(struct inode *dir, char *buf, size_t size);
/* The entry of dir that names child, or NULL. */
const struct dentry *mfs_entry_of(const struct inode *dir, const struct inode *child);

/* ---- file data (data.c) ---------------------------------------------------- */
/* Each returns bytes moved, or -errno (-EFAULT, -ENOSPC/-ENOMEM, -EFBIG). */
struct uio;
long mfs_read(struct inode *ino, struct uio *u, uint64_t off);
long mfs_write(struct inode *ino, struct uio *u, uint64_t off);
long mfs_truncate(struct inode *ino, uint64_t size);
/* How mmap reaches a file's pages (kernel/vm.c). */
extern const struct vm_backing mfs_backing;

/* ---- host files (remote.c, remote_vol.c; docs/9p.md) ---------------------- */
/* Joins the shares the command line's mount= words name; none: nothing. */
void mfs_remote_init(void);
/* The program is ending: writes back mapped pages of rw volume files and
 * logs the 9P round trips made (verbose). */
void mfs_remote_exit(void);
/* Drops ino's host state (its fids); the inode is being freed. */
void mfs_remote_free(struct inode *ino);
/* name is not in dir's entries and dir is host-backed: asks the host (or
 * the negative cache) and links what it finds.  0 with *out the inode or
 * NULL (no such name), or -errno.  Tree lock held. */
long mfs_remote_lookup(struct inode *dir, const char *name, size_t len, struct inode **out);
/* Fetches up to n pages of a sys file from index on into ino->pages
 * (index's page must be absent); 0 or -errno. */
long mfs_remote_fill(struct inode *ino, uint64_t index, size_t n);
/* Volume files (remote_vol.c): data straight from and to the host, as
 * mfs_read/mfs_write/mfs_truncate answer (which call these).  Writes and
 * truncation of a read-only inode are -EROFS. */
long mfs_remote_read(struct inode *ino, struct uio *u, uint64_t off);
long mfs_remote_write(struct inode *ino, struct uio *u, uint64_t off);
long mfs_remote_truncate(struct inode *ino, uint64_t size);
/* Changes below a volume, made on the host first (the tree follows when
 * it agrees): 0 or the host's -errno; -EROFS where nothing may change,
 * -EXDEV across shares.  dir is the directory of name; create leaves the
 * new file's inode in *out.  Called without the tree lock. */
long mfs_remote_create(struct inode *dir, const char *name, unsigned flags, uint32_t mode,
		       struct inode **out);
long mfs_remote_mkdir(struct inode *dir, const char *name, uint32_t mode);
long mfs_remote_symlink(struct inode *dir, const char *name, const char *target);
long mfs_remote_unlink(struct inode *dir, const char *name, struct inode *ino, bool is_dir);
long mfs_remote_rename(struct inode *src, struct inode *odir, const char *oname, struct inode *ndir,
		       const char *nname);
long mfs_remote_link(struct inode *ino, struct inode *dir, const char *name);
/* valid: P9_ATTR_* bits (kernel/virtio/p9.h) of mode and the times. */
long mfs_remote_setattr(struct inode *ino, uint32_t valid, uint32_t mode, int64_t atime, int64_t mtime);
/* Opens a host file's I/O fid, read-write when write is set: the host's
 * -errno (-EACCES…) at open time rather than at the first write. */
long mfs_remote_open(struct inode *ino, bool write);
/* Re-reads a volume inode's attributes from the host (stat, open,
 * SEEK_END); 0 for other inodes. */
long mfs_remote_refresh(struct inode *ino);
/* Writes a rw volume file's mapped pages back (msync, munmap, close) and
 * with fsync asks the host to sync it too; 0 or -errno. */
long mfs_remote_writeback(struct inode *ino);
long mfs_remote_fsync(struct inode *ino, bool datasync);
struct statfs;
/* statfs of a volume, from the host; -ENOSYS for other inodes. */
long mfs_remote_statfs(struct inode *ino, struct statfs *s);
/* Whether ino lives on a volume (ro or rw): its data and attributes are
 * the host's, read and written through. */
bool mfs_remote_volume(const struct inode *ino);
/* Where a change to ino (its data, attributes, or entries when a
 * directory) is made: the tree, the host, or nowhere (-EROFS). */
enum mfs_where { MFS_LOCAL, MFS_READONLY, MFS_HOST };
enum mfs_where mfs_where(const struct inode *ino);
/* A directory listing fixed when getdents64 starts at 0 (remote.c). */
struct mfs_dirsnap;
struct mfs_dirent {
	size_t name_off, len;
	uint64_t ino;
	uint8_t type; /* DT_* */
};
long mfs_remote_snapshot(struct inode *dir, struct mfs_dirsnap **out);
bool mfs_dirsnap_get(const struct mfs_dirsnap *s, size_t i, struct mfs_dirent *e, const char **name);
void mfs_dirsnap_free(struct mfs_dirsnap *s);
/* The DT_* type of an inode. */
uint8_t mfs_dtype(const struct inode *ino);

/* ---- boot (boot.c), devices (dev.c), /proc and /sys (proc.c) ----------- */
/* Builds the tree from the image: the image's entries, /dev, /proc, /sys,
 * /tmp.  Ends the VM with a clear error when the image is malformed. */
void mfs_init(const void *image, size_t size);
void dev_init(void);
void proc_init(void);
/* The device behind a character device node, for the file layer. */
struct dev_ops {
	long (*read)(struct uio *u);
	long (*write)(struct uio *u);
};
const struct dev_ops *dev_find(uint32_t rdev);

/* What /proc shows about the process; the loader fills it before start. */
struct proc_process {
	const char *exe;     /* absolute path of the executable */
	const char *cmdline; /* argv strings, each NUL-terminated */
	size_t cmdline_len;
	const char *environ; /* envp strings, each NUL-terminated */
	size_t environ_len;
	const uint64_t *auxv; /* pairs, ending with AT_NULL */
	size_t auxv_len;      /* bytes */
};
void proc_set_process(const struct proc_process *p);
/* What proc_set_process was told (pointers into /proc's copies), and the
 * executable's name (comm, 16 bytes, as /proc/self/comm shows it). */
void proc_get_process(struct proc_process *p, char comm[16]);
/* The file layer tells /proc/self/fd about open fds: list fills fds with
 * the open descriptors and returns how many; link writes the link target
 * of one ("/path", "pipe:[N]", …) and returns its length or -EBADF. */
struct proc_fd_ops {
	int (*list)(int *fds, int max);
	long (*link)(int fd, char *buf, size_t size);
};
void proc_set_fd_ops(const struct proc_fd_ops *ops);

#endif
