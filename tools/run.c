/* SPDX-License-Identifier: MIT */
/*
 * The `run` and `pack` verbs, and the image they build (docs/protocol.md):
 * the program at its absolute path plus the .elfvm/ control files, as a
 * cpio "newc" archive.  The guest environment is the host's environment
 * passed through, then each --env K=V (a later one wins), as when the
 * program runs natively.  Finding and checking the program is inspect.c's
 * job, starting QEMU and reading its records is vmm.c's.
 */
#include "tools/tools.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---- the image ------------------------------------------------------------ */

/* Concatenates the strings of v, each ending in NUL.  Returns a malloc'd
 * buffer (length in *len), or NULL when memory runs out. */
static char *join_nul(char *const *v, size_t *len)
{
	size_t n = 0;
	char *buf, *p;

	for (int i = 0; v && v[i]; i++)
		n += strlen(v[i]) + 1;
	buf = p = malloc(n ? n : 1);
	if (!buf)
		return NULL;
	for (int i = 0; v && v[i]; i++)
		p = stpcpy(p, v[i]) + 1;
	*len = n;
	return buf;
}

static int add_strings(struct cpio_out *o, const char *name, char *const *v,
		       uint32_t now)
{
	size_t len;
	char *buf = join_nul(v, &len);
	int r;

	if (!buf)
		return -1;
	r = cpio_add_path(o, name, 0100644, buf, len, now);
	free(buf);
	return r;
}

int image_build(struct cpio_out *o, const struct image_spec *s)
{
	const struct prog_file *p = s->prog;
	uint32_t now = (uint32_t)time(NULL);

	if (cpio_add_path(o, p->path + 1, p->mode, p->data, p->size, p->mtime) < 0 ||
	    cpio_add_path(o, ".elfvm/exe", 0100644, p->path, strlen(p->path), now) < 0 ||
	    add_strings(o, ".elfvm/argv", s->argv, now) < 0 ||
	    add_strings(o, ".elfvm/envp", s->envp, now) < 0)
		return -ENOMEM;
	if (s->stdin_data && cpio_add_path(o, ".elfvm/stdin", 0100644, s->stdin_data,
					   s->stdin_len, now) < 0)
		return -ENOMEM;
	return cpio_finish(o) < 0 ? -ENOMEM : 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t r = write(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int image_write(const struct cpio_out *o, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int r;

	if (fd < 0)
		return -errno;
	r = write_all(fd, o->buf, o->len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

int image_write_temp(const struct cpio_out *o, char *path, size_t n)
{
	const char *dir = getenv("TMPDIR");
	int fd, r;

	if (!dir || !*dir)
		dir = "/tmp";
	if ((size_t)snprintf(path, n, "%s/elfvm-XXXXXX", dir) >= n)
		return -ENAMETOOLONG;
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	r = write_all(fd, o->buf, o->len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		unlink(path);
	return r;
}

/* ---- the environment and stdin -------------------------------------------- */

static int same_key(const char *a, const char *b)
{
	size_t ka = strcspn(a, "="), kb = strcspn(b, "=");

	return ka == kb && !memcmp(a, b, ka);
}

/* The host's environment, then extra (K=V) replacing the same keys; a later
 * extra replaces an earlier one.  Returns a malloc'd array (the strings are
 * not copied), or NULL. */
static char **env_build(char **extra, int nextra)
{
	int n = 0, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc((size_t)(n + nextra + 1), sizeof(*env));
	if (!env)
		return NULL;
	for (int i = 0; i < n; i++) {
		int replaced = 0;
		for (int j = 0; j < nextra && !replaced; j++)
			replaced = same_key(environ[i], extra[j]);
		if (!replaced)
			env[k++] = environ[i];
	}
	for (int j = 0; j < nextra; j++) {
		int later = 0;
		for (int l = j + 1; l < nextra && !later; l++)
			later = same_key(extra[j], extra[l]);
		if (!later)
			env[k++] = extra[j];
	}
	return env;
}

/* Reads all of stdin when it is not a terminal.  Returns 1 with the bytes
 * in *data (malloc), 0 when stdin is a terminal, or -errno.  A closed
 * stdin reads as empty. */
static int read_stdin(unsigned char **data, size_t *len)
{
	size_t cap = 65536, n = 0;
	unsigned char *buf;

	if (isatty(0))
		return 0;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			unsigned char *b = realloc(buf, cap *= 2);
			if (!b) {
				free(buf);
				return -ENOMEM;
			}
			buf = b;
		}
		r = read(0, buf + n, cap - n);
		if (r > 0) {
			n += (size_t)r;
		} else if (r == 0 || errno == EBADF) {
			break;
		} else if (errno == EAGAIN) { /* an O_NONBLOCK stdin */
			poll(&(struct pollfd){ .fd = 0, .events = POLLIN }, 1, -1);
		} else if (errno != EINTR) {
			int e = errno;
			free(buf);
			return -e;
		}
	}
	*data = buf;
	*len = n;
	return 1;
}

/* ---- options -------------------------------------------------------------- */

struct opts {
	const char *verb;   /* "run" or "pack" */
	const char *mem, *log, *kernel, *machine, *output;
	const char *timeout_text;
	double timeout;
	int cpus, strace, verbose;
	enum vm_accel accel;
	char **env;
	int nenv;
};

static const char run_usage[] =
	"usage: elfvm run [OPTIONS] PROGRAM [ARGS...]\n"
	"\n"
	"Runs PROGRAM (a path, or a name looked up in PATH) as its own VM under\n"
	"QEMU.  Its stdout and stderr arrive on elfvm's; stdin, when it is not a\n"
	"terminal, is read whole and given to the program.  The program sees the\n"
	"host's environment plus each --env.  Options end at PROGRAM (or --).\n"
	"\n"
	"  --mem SIZE          guest memory, e.g. 512M or 2G (default 256M)\n"
	"  --cpus N            virtual CPUs (default 1)\n"
	"  --accel auto|kvm|tcg  auto: KVM when /dev/kvm can be opened, else TCG\n"
	"  --env K=V           add or replace one environment variable (repeatable)\n"
	"  --timeout SECONDS   kill the VM after SECONDS; exit status 124\n"
	"  --strace            print each system call to stderr (or to --log)\n"
	"  --log FILE          write the kernel log to FILE, including the crash\n"
	"                      report (registers, backtrace) when the program dies\n"
	"                      of a signal\n"
	"  --verbose           more kernel log, shown on stderr\n"
	"  --kernel PATH       the kernel (default: kernel.elf beside elfvm)\n"
	"  --machine microvm|q35  QEMU machine type (default microvm)\n"
	"  -h, --help          this text\n"
	"\n"
	"Exit status: the program's own; 128+N when it died of signal N; 124 on\n"
	"--timeout; 125 when elfvm cannot run it (one line on stderr says why).\n";

static const char pack_usage[] =
	"usage: elfvm pack -o IMAGE [--env K=V]... PROGRAM [ARGS...]\n"
	"\n"
	"Writes the image `elfvm run` would boot, without stdin, to IMAGE (- for\n"
	"stdout): a cpio \"newc\" archive holding PROGRAM at its absolute path and\n"
	"the .elfvm/ control files (docs/protocol.md).  Inspect it with\n"
	"`cpio -itv < IMAGE`.  Exit status 0, or 125 with one line on stderr.\n"
	"\n"
	"  -o, --output IMAGE  the file to write\n"
	"  --env K=V           add or replace one environment variable (repeatable)\n"
	"  -h, --help          this text\n";

static int bad_opt(const struct opts *o, const char *fmt, const char *arg)
{
	fprintf(stderr, "elfvm %s: ", o->verb);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see 'elfvm %s --help')\n", o->verb);
	return -1;
}

/* One option that takes a value.  Returns 0, or -1 after a message. */
static int set_value(struct opts *o, const char *name, const char *v)
{
	char *end;

	if (!strcmp(name, "--env")) {
		if (!strchr(v, '=') || *v == '=')
			return bad_opt(o, "--env wants K=V, not '%s'", v);
		o->env[o->nenv++] = (char *)v;
	} else if (!strcmp(name, "-o") || !strcmp(name, "--output")) {
		o->output = v;
	} else if (!strcmp(name, "--mem")) {
		if (vm_check_mem(v) < 0)
			return bad_opt(o, "bad --mem '%s': want e.g. 256M or 2G", v);
		o->mem = v;
	} else if (!strcmp(name, "--cpus")) {
		long n = strtol(v, &end, 10);
		if (*v < '0' || *v > '9' || *end || n < 1 || n > 255)
			return bad_opt(o, "bad --cpus '%s': want 1 to 255", v);
		o->cpus = (int)n;
	} else if (!strcmp(name, "--accel")) {
		if (vm_parse_accel(v, &o->accel) < 0)
			return bad_opt(o, "bad --accel '%s': want auto, kvm or tcg", v);
	} else if (!strcmp(name, "--timeout")) {
		o->timeout = strtod(v, &end);
		if (end == v || *end || !isfinite(o->timeout) || o->timeout <= 0)
			return bad_opt(o, "bad --timeout '%s': want seconds > 0", v);
	} else if (!strcmp(name, "--machine")) {
		if (strcmp(v, "microvm") && strcmp(v, "q35"))
			return bad_opt(o, "bad --machine '%s': want microvm or q35", v);
		o->machine = v;
	} else if (!strcmp(name, "--log")) {
		o->log = v;
	} else {
		o->kernel = v; /* --kernel */
	}
	return 0;
}

/* Does name take a value in this verb? */
static int takes_value(const struct opts *o, const char *name)
{
	static const char *const run_only[] = { "--mem", "--cpus", "--accel", "--timeout",
						"--log", "--kernel", "--machine", NULL };

	if (!strcmp(name, "--env"))
		return 1;
	if (!strcmp(o->verb, "pack"))
		return !strcmp(name, "-o") || !strcmp(name, "--output");
	for (int i = 0; run_only[i]; i++)
		if (!strcmp(name, run_only[i]))
			return 1;
	return 0;
}

/* Parses the options before PROGRAM.  Returns the index of PROGRAM, 0 when
 * --help was printed, or -1 after a message. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		char name[32];
		const char *a = argv[i], *eq = strchr(a, '=');
		int run = !strcmp(o->verb, "run");

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(run ? run_usage : pack_usage, stdout);
			return 0;
		}
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
		if (run && !eq && !strcmp(a, "--strace")) {
			o->strace = 1;
		} else if (run && !eq && !strcmp(a, "--verbose")) {
			o->verbose = 1;
		} else if (!takes_value(o, name)) {
			return bad_opt(o, "unknown option '%s'", a);
		} else if (eq) {
			if (set_value(o, name, eq + 1) < 0)
				return -1;
		} else if (i + 1 >= argc) {
			return bad_opt(o, "%s needs a value", a);
		} else if (set_value(o, name, argv[++i]) < 0) {
			return -1;
		}
	}
	if (i >= argc)
		return bad_opt(o, "%s", "missing PROGRAM");
	return i;
}

/* ---- the verbs ------------------------------------------------------------ */

static int fail125(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "elfvm: " and the message.  Returns 125. */
static int fail125(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("elfvm: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return ELFVM_EXIT_FAIL;
}

/* What both verbs do first: options, the program, the environment.
 * Returns PROGRAM's index, 0 after --help, or -1 after a message. */
static int prepare(struct opts *o, int argc, char **argv, struct prog_file *p,
		   char ***envp)
{
	char why[PATH_MAX + 256];
	int i;

	o->env = calloc((size_t)argc, sizeof(*o->env));
	if (!o->env)
		return fail125("out of memory"), -1;
	i = parse_opts(argc, argv, o);
	if (i <= 0)
		return i;
	if (prog_load(argv[i], p, why, sizeof(why)) < 0)
		return fail125("%s", why), -1;
	*envp = env_build(o->env, o->nenv);
	if (!*envp) {
		prog_free(p);
		return fail125("out of memory"), -1;
	}
	return i;
}

/* Prints the one line an end of the VM deserves, if any. */
static void report(const struct opts *o, const struct vm_result *res)
{
	switch (res->end) {
	case VM_END_EXIT:
	case VM_END_SIGNAL: /* the crash report is in the log, by design */
	case VM_END_INTERRUPTED:
		break;
	case VM_END_ERROR:
	case VM_END_TIMEOUT:
		fprintf(stderr, "elfvm: %s\n", res->message);
		break;
	case VM_END_PANIC:
		fprintf(stderr, "elfvm: kernel panic: %s (see the log%s%s)\n", res->message,
			o->log ? " in " : o->verbose ? " above" : ": --log FILE",
			o->log ? o->log : "");
		break;
	case VM_END_QEMU:
		fprintf(stderr, "elfvm: qemu failed: %s\n", res->message);
		break;
	}
}

/* Boots the image at path and returns the exit status. */
static int boot(const struct opts *o, const char *kernel, const char *path, FILE *log)
{
	char cmdline[64];
	struct vm_result *res = malloc(sizeof(*res));
	struct vm_config cfg = {
		.kernel = kernel, .initrd = path, .cmdline = cmdline,
		.mem = o->mem, .cpus = o->cpus, .accel = o->accel,
		.machine = o->machine, .timeout = o->timeout,
		.log = log ? log : o->verbose ? stderr : NULL,
		.trace = log ? log : stderr,
	};
	int status;

	if (!res)
		return fail125("out of memory");
	snprintf(cmdline, sizeof(cmdline), "%s%s%s", o->strace ? "strace=1" : "",
		 o->strace && o->verbose ? " " : "", o->verbose ? "verbose=1" : "");
	status = vm_run(&cfg, res);
	unlink(path);
	report(o, res);
	if (res->end == VM_END_INTERRUPTED) {
		/* Die of the same signal, so that a shell sees what happened. */
		signal(res->code, SIG_DFL);
		raise(res->code);
	}
	free(res);
	return status;
}

/* Builds the image with stdin, writes it to a temporary file and boots it. */
static int run_program(const struct opts *o, const struct prog_file *p,
		       char **argv, char **envp)
{
	struct cpio_out img = { 0 };
	struct image_spec spec = { .prog = p, .argv = argv, .envp = envp };
	char kernel[PATH_MAX], path[PATH_MAX];
	unsigned char *in = NULL;
	FILE *log = NULL;
	struct stat st;
	int r, status = ELFVM_EXIT_FAIL;

	if (o->kernel)
		snprintf(kernel, sizeof(kernel), "%s", o->kernel);
	else if ((r = vm_default_kernel(kernel, sizeof(kernel))) < 0)
		return fail125("cannot find the kernel: %s", strerror(-r));
	if (stat(kernel, &st) < 0 || !S_ISREG(st.st_mode))
		return fail125("kernel not found: %s (build it with make, or give "
			       "--kernel PATH)", kernel);
	if (o->log && !(log = fopen(o->log, "we")))
		return fail125("%s: %s", o->log, strerror(errno));
	r = read_stdin(&in, &spec.stdin_len);
	if (r < 0) {
		fail125("cannot read stdin: %s", strerror(-r));
		goto out;
	}
	spec.stdin_data = r ? in : NULL;
	if (image_build(&img, &spec) < 0) {
		fail125("out of memory building the image");
		goto out;
	}
	free(in);
	in = NULL;
	r = image_write_temp(&img, path, sizeof(path));
	cpio_free(&img);
	if (r < 0) {
		fail125("cannot write the image in %s: %s", path, strerror(-r));
		goto out;
	}
	status = boot(o, kernel, path, log);
out:
	free(in);
	cpio_free(&img);
	if (log)
		fclose(log);
	return status;
}

int run_main(int argc, char **argv)
{
	struct opts o = { .verb = "run", .cpus = 1 };
	struct prog_file prog;
	char **envp = NULL;
	int i = prepare(&o, argc, argv, &prog, &envp), status;

	if (i <= 0) {
		free(o.env);
		return i == 0 ? 0 : ELFVM_EXIT_FAIL;
	}
	status = run_program(&o, &prog, argv + i, envp);
	prog_free(&prog);
	free(envp);
	free(o.env);
	return status;
}

/* Writes the image to o->output, "-" meaning stdout.  Returns 0 or 125. */
static int pack_write(const struct opts *o, const struct cpio_out *img)
{
	int to_stdout = !strcmp(o->output, "-");
	int r = to_stdout ? write_all(1, img->buf, img->len) : image_write(img, o->output);

	if (r < 0)
		return fail125("%s: %s", to_stdout ? "stdout" : o->output, strerror(-r));
	return 0;
}

int pack_main(int argc, char **argv)
{
	struct opts o = { .verb = "pack", .cpus = 1 };
	struct prog_file prog;
	struct cpio_out img = { 0 };
	char **envp = NULL;
	int i = prepare(&o, argc, argv, &prog, &envp), r;

	if (i > 0 && !o.output) {
		bad_opt(&o, "%s", "missing -o IMAGE");
		prog_free(&prog);
		i = -1;
	}
	if (i <= 0) {
		free(envp);
		free(o.env);
		return i == 0 ? 0 : ELFVM_EXIT_FAIL;
	}
	struct image_spec spec = { .prog = &prog, .argv = argv + i, .envp = envp };
	if (image_build(&img, &spec) < 0)
		r = fail125("out of memory building the image");
	else
		r = pack_write(&o, &img);
	cpio_free(&img);
	prog_free(&prog);
	free(envp);
	free(o.env);
	return r;
}
