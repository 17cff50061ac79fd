// SPDX-License-Identifier: MIT
/*
 * The program's terminal (docs/terminal.md).  When the host's stdin is a
 * terminal, elfvm names on the command line which of fds 0-2 are it
 * (tty=MASK, winsize=ROWSxCOLS); those fds, and /dev/tty, are then one
 * tty with Linux's n_tty line discipline in small: termios, canonical
 * editing (erase, word erase, kill, VEOF), echo, ISIG, VMIN/VTIME, IXON,
 * OPOST/ONLCR.  A kernel thread takes the input from the console's
 * elfvm.stdin port (kernel/virtio/console.c) as it arrives, so that
 * Ctrl-C acts while the program computes; it stops taking when the
 * program's buffer is full, and back-pressure reaches the host.  The
 * window size the host reports comes through ctl.c.  Without a terminal,
 * fd 0 is a stream (fd.c) and nothing here runs.  Not here: job control (one process, one
 * group: SIGTSTP's default action is to be ignored, as for an orphaned
 * process group), pseudo-terminals, TIOCSTI, VREPRINT and VLNEXT.
 */
#include "kernel/virtio/virtio.h"
#include "minifs/minifs.h"
#include "syscalls/syscalls.h"

#define TTY_BUF 4096        /* bytes the program has not read yet (N_TTY_BUF_SIZE) */
#define TTY_LINES 256       /* complete lines waiting in canonical mode */
#define TTY_PULL 256        /* bytes taken from the console at a time */
#define TTY_RDEV (136 << 8) /* /dev/pts/0 */
#define INTR_ESCALATE_NS 3000000000ULL

static struct {
	bool on;         /* the host's stdin is a terminal */
	bool ctty;       /* the process's controlling terminal (TIOCNOTTY ends it) */
	bool hungup;     /* the host side ended */
	bool stopped;    /* IXON: ^S seen */
	int mask;        /* guest fds that are the terminal */
	int echo_stream; /* where echo goes: 1 or 2 */
	struct termios t;
	struct winsize ws;
	int pgrp;
	/* The program's bytes: a ring; in canonical mode only up to the last
	 * complete line is readable, ends[] marking each line's end. */
	uint8_t buf[TTY_BUF];
	uint64_t head, tail;
	uint64_t ends[TTY_LINES];
	uint32_t ends_head, ends_tail;
	uint8_t line[TTY_BUF]; /* the line being edited */
	size_t line_len;
	uint64_t first_intr; /* when a VINTR went unanswered, 0: none */
	struct mutex lock;
	struct waitq rq; /* readers and pollers: data, hang-up */
	struct waitq wq; /* writers while ^S holds output */
} tty = {
	.pgrp = 1,
	.lock = MUTEX_INIT("tty"),
};

static const uint8_t default_cc[NCCS] = { 3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0 };

bool tty_present(void)
{
	return tty.on;
}

/* ---- output ---------------------------------------------------------------- */

/* Writes n bytes to the terminal with output processing (OPOST, ONLCR,
 * OCRNL, ONLRET only as far as \n and \r go). */
static void out_bytes(int stream, const uint8_t *p, size_t n)
{
	uint8_t tmp[512];
	size_t k = 0;

	if (!(tty.t.c_oflag & OPOST) || !(tty.t.c_oflag & (ONLCR | OCRNL))) {
		console_write(stream, p, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (k + 2 > sizeof(tmp)) {
			console_write(stream, tmp, k);
			k = 0;
		}
		if (p[i] == '\n' && (tty.t.c_oflag & ONLCR))
			tmp[k++] = '\r';
		tmp[k++] = p[i] == '\r' && (tty.t.c_oflag & OCRNL) ? '\n' : p[i];
	}
	console_write(stream, tmp, k);
}

static void echo_char(uint8_t c)
{
	if (c < 32 && c != '\n' && c != '\t' && (tty.t.c_lflag & ECHOCTL)) {
		uint8_t s[2] = { '^', (uint8_t)(c + 64) };
		out_bytes(tty.echo_stream, s, 2);
	} else if (c == 127 && (tty.t.c_lflag & ECHOCTL)) {
		out_bytes(tty.echo_stream, (const uint8_t *)"^?", 2);
	} else {
		out_bytes(tty.echo_stream, &c, 1);
	}
}

/* Erases the last character of the line on the screen: two columns for
 * one echoed as ^X. */
static void echo_erase(uint8_t c)
{
	int cols = (c < 32 || c == 127) && (tty.t.c_lflag & ECHOCTL) ? 2 : 1;

	if (c == '\t')
		cols = 1; /* columns of a tab are not tracked */
	for (int i = 0; i < cols; i++)
		out_bytes(tty.echo_stream, (const uint8_t *)"\b \b", 3);
}

/* ^S/^Q, TCXONC or new termios may have changed whether output flows:
 * writers wait on wq, pollers of EPOLLOUT on rq. */
static void output_resumed(void)
{
	wake_up(&tty.wq);
	poll_wake(&tty.rq, EPOLLOUT | EPOLLWRNORM);
}

/* ---- input: the line discipline ------------------------------------------ */

static size_t buf_free(void)
{
	return TTY_BUF - (size_t)(tty.head - tty.tail);
}

static void buf_put(uint8_t c)
{
	if (buf_free())
		tty.buf[tty.head++ % TTY_BUF] = c;
}

/* Ends the line being edited (eof: without a character of its own). */
static void line_commit(void)
{
	for (size_t i = 0; i < tty.line_len && buf_free(); i++)
		buf_put(tty.line[i]);
	tty.line_len = 0;
	if (tty.ends_head - tty.ends_tail < TTY_LINES)
		tty.ends[tty.ends_head++ % TTY_LINES] = tty.head;
}

static void flush_input(void)
{
	tty.tail = tty.head;
	tty.ends_tail = tty.ends_head;
	tty.line_len = 0;
}

/* Erases one character, a word (VWERASE) or the line (VKILL). */
static void erase(uint8_t kind)
{
	bool word = kind == tty.t.c_cc[VWERASE];
	bool all = kind == tty.t.c_cc[VKILL];
	bool seen_word = false;
	bool echo = (tty.t.c_lflag & ECHO) && (all ? (tty.t.c_lflag & ECHOK) : (tty.t.c_lflag & ECHOE));

	while (tty.line_len) {
		uint8_t c = tty.line[tty.line_len - 1];
		if (word) {
			bool space = c == ' ' || c == '\t';
			if (space && seen_word)
				break;
			seen_word |= !space;
		}
		tty.line_len--;
		if (echo)
			echo_erase(c);
		if (!word && !all)
			break;
	}
}

/* VINTR, VQUIT, VSUSP.  A VINTR whose SIGINT the program leaves untaken
 * (ignored, blocked) and a second one INTR_ESCALATE_NS later end the VM
 * with status 130, so that a stuck program can always be left. */
static void isig(uint8_t c, int sig)
{
	if (!(tty.t.c_lflag & NOFLSH))
		flush_input();
	if (tty.t.c_lflag & ECHO)
		echo_char(c);
	if (sig == SIGINT) {
		struct k_sigaction act;
		uint64_t now = clock_monotonic_ns();
		signal_action(SIGINT, NULL, &act);
		bool untaken = act.handler == SIG_IGN || (signal_shared_pending & SIGMASK(SIGINT));
		if (untaken && tty.first_intr && now - tty.first_intr >= INTR_ESCALATE_NS) {
			const char msg[] =
				"\r\nelfvm: the program ignores Ctrl-C; the VM is stopped\r\n";
			console_write(2, msg, sizeof(msg) - 1);
			vm_exit_signal(SIGINT);
		}
		if (!untaken || !tty.first_intr)
			tty.first_intr = untaken ? now : 0;
	}
	signal_send(NULL, sig, SI_KERNEL);
}

/* One byte from the host, as n_tty_receive_char does it. */
static void receive(uint8_t c)
{
	tcflag_t i = tty.t.c_iflag, l = tty.t.c_lflag;
	const cc_t *cc = tty.t.c_cc;

	if (i & ISTRIP)
		c &= 0x7f;
	if (i & IXON) {
		if (c == cc[VSTOP] || c == cc[VSTART]) {
			tty.stopped = c == cc[VSTOP];
			output_resumed();
			return;
		}
		if (tty.stopped && (i & IXANY)) {
			tty.stopped = false;
			output_resumed();
		}
	}
	if (c == '\r' && (i & IGNCR))
		return;
	if (c == '\r' && (i & ICRNL))
		c = '\n';
	else if (c == '\n' && (i & INLCR))
		c = '\r';
	if (l & ISIG) {
		int sig = c == cc[VINTR]   ? SIGINT
			  : c == cc[VQUIT] ? SIGQUIT
			  : c == cc[VSUSP] ? SIGTSTP
					   : 0;
		if (c && sig) {
			isig(c, sig);
			return;
		}
	}
	if (!(l & ICANON)) {
		buf_put(c);
		if (l & ECHO)
			echo_char(c);
		return;
	}
	if (c && (c == cc[VERASE] || c == cc[VKILL] || (c == cc[VWERASE] && (l & IEXTEN)))) {
		erase(c);
		return;
	}
	if (c && c == cc[VEOF]) {
		line_commit();
		return;
	}
	bool eol = c == '\n' || (c && (c == cc[VEOL] || c == cc[VEOL2]));
	if (tty.line_len >= TTY_BUF - 1 - (eol ? 0 : 1))
		return; /* a full line takes only its end (Linux beeps) */
	tty.line[tty.line_len++] = c;
	if ((l & ECHO) || (c == '\n' && (l & ECHONL)))
		echo_char(c);
	if (eol)
		line_commit();
}

static bool room(void)
{
	return buf_free() >= TTY_PULL && tty.line_len + TTY_PULL < TTY_BUF;
}

static bool pull_ready(void)
{
	return tty.hungup || (room() && (virtio_console_input_poll() & EPOLLIN));
}

/* The kernel thread that feeds the line discipline. */
static void tty_pump(void *arg)
{
	uint8_t tmp[TTY_PULL];
	struct uio u;

	(void)arg;
	while (!tty.hungup) {
		wait_event_uninterruptible(virtio_console_input_wq(), pull_ready());
		mutex_lock(&tty.lock);
		uio_init_kernel(&u, tmp, sizeof(tmp));
		long n = room() ? virtio_console_read(&u) : -EAGAIN;
		if (n == 0) {
			tty.hungup = true;
			line_commit(); /* what was typed stays readable, then 0 */
		}
		for (long k = 0; k < n; k++)
			receive(tmp[k]);
		mutex_unlock(&tty.lock);
		if (n >= 0)
			poll_wake(&tty.rq, EPOLLIN | EPOLLRDNORM | (tty.hungup ? EPOLLHUP : 0));
	}
	kthread_exit();
}

/* ---- the file ----------------------------------------------------------- */

/* Bytes a read may take now (canonical: up to the end of the first line). */
static size_t readable(void)
{
	if (!(tty.t.c_lflag & ICANON))
		return (size_t)(tty.head - tty.tail);
	if (tty.ends_head == tty.ends_tail)
		return 0;
	return (size_t)(tty.ends[tty.ends_tail % TTY_LINES] - tty.tail);
}

static bool read_ready(size_t want)
{
	if (tty.hungup)
		return true;
	if (tty.t.c_lflag & ICANON)
		return tty.ends_head != tty.ends_tail;
	return readable() >= want;
}

static long take(struct uio *u)
{
	size_t n = MIN(readable(), u->count);
	long done = 0;

	while (n) {
		size_t off = tty.tail % TTY_BUF, k = MIN(n, TTY_BUF - off);
		long r = uio_copy_out(u, tty.buf + off, k);
		if (r <= 0)
			return done ? done : r < 0 ? r : 0;
		tty.tail += (uint64_t)r;
		done += r;
		n -= (size_t)r;
	}
	/* A line read to its end (an end-of-file line has no bytes). */
	if ((tty.t.c_lflag & ICANON) && tty.ends_head != tty.ends_tail &&
	    tty.ends[tty.ends_tail % TTY_LINES] == tty.tail)
		tty.ends_tail++;
	wake_up(virtio_console_input_wq()); /* room again for the pump */
	return done;
}

static long tty_read(struct file *f, struct uio *u, uint64_t *off)
{
	bool nonblock = f->flags & O_NONBLOCK;
	long r;

	(void)off;
	if (!u->count)
		return 0;
	mutex_lock(&tty.lock);
	if (!(tty.t.c_lflag & ICANON)) {
		size_t vmin = tty.t.c_cc[VMIN], want = MAX(MIN(vmin, u->count), 1);
		uint64_t vtime = tty.t.c_cc[VTIME] * 100000000ULL;
		if (!vmin && !vtime) {
			r = take(u);
			goto out;
		}
		/* VTIME: the whole wait when VMIN is 0, else the gap between bytes. */
		while (!read_ready(want)) {
			size_t had = readable();
			if (nonblock) {
				r = had ? take(u) : -EAGAIN;
				goto out;
			}
			if (vtime && (!vmin || had)) {
				mutex_unlock(&tty.lock);
				r = wait_event_deadline(&tty.rq, tty.hungup || readable() != had,
							clock_monotonic_ns() + vtime);
				mutex_lock(&tty.lock);
				if (r == -ETIMEDOUT)
					break;
			} else {
				r = wait_event_interruptible_mutex(
					&tty.rq, read_ready(want), false, &tty.lock);
			}
			if (r == -EINTR || r == -ERESTARTSYS) {
				r = readable() ? take(u) : -ERESTARTSYS;
				goto out;
			}
		}
		r = take(u);
		goto out;
	}
	r = wait_event_interruptible_mutex(&tty.rq, read_ready(1), nonblock, &tty.lock);
	if (r == 0)
		r = take(u);
out:
	mutex_unlock(&tty.lock);
	return r;
}

static long tty_write(struct file *f, struct uio *u, uint64_t *off)
{
	uint8_t tmp[256];
	long done = 0;
	int stream = f->stream == 2 ? 2 : 1;

	(void)off;
	while (u->count) {
		long r = wait_event_interruptible(&tty.wq, !tty.stopped, f->flags & O_NONBLOCK);
		if (r < 0)
			return done ? done : r;
		r = uio_copy_in(u, tmp, sizeof(tmp));
		if (r <= 0)
			return done ? done : r;
		out_bytes(stream, tmp, (size_t)r);
		done += r;
	}
	return done;
}

static unsigned tty_poll(struct file *f)
{
	(void)f;
	unsigned m = tty.stopped ? 0 : EPOLLOUT | EPOLLWRNORM;

	if (read_ready(1) && (tty.hungup || readable() || (tty.t.c_lflag & ICANON)))
		m |= EPOLLIN | EPOLLRDNORM;
	return m | (tty.hungup ? EPOLLHUP : 0);
}

static long set_termios(unsigned cmd, uint64_t arg)
{
	struct termios t;

	if (copy_from_user(&t, (void *)arg, sizeof(t)) < 0)
		return -EFAULT;
	if (cmd != TCSETS)
		console_flush(); /* TCSETSW, TCSETSF: after the output drained */
	mutex_lock(&tty.lock);
	if (cmd == TCSETSF)
		flush_input();
	/* Leaving canonical mode makes the line being edited readable. */
	if ((tty.t.c_lflag & ICANON) && !(t.c_lflag & ICANON)) {
		for (size_t i = 0; i < tty.line_len; i++)
			buf_put(tty.line[i]);
		tty.line_len = 0;
		tty.ends_tail = tty.ends_head;
	}
	tty.t = t;
	if (!(t.c_iflag & IXON))
		tty.stopped = false;
	mutex_unlock(&tty.lock);
	output_resumed();
	poll_wake(&tty.rq, 0);
	wake_up(virtio_console_input_wq());
	return 0;
}

static long tty_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	void __user *p = (void __user *)arg;
	int v;

	(void)f;
	switch (cmd) {
	case TCGETS: return copy_to_user(p, &tty.t, sizeof(tty.t));
	case TCSETS:
	case TCSETSW:
	case TCSETSF: return set_termios(cmd, arg);
	case TIOCGWINSZ: return copy_to_user(p, &tty.ws, sizeof(tty.ws));
	case TIOCSWINSZ: {
		struct winsize ws;
		if (copy_from_user(&ws, p, sizeof(ws)) < 0)
			return -EFAULT;
		bool changed = memcmp(&ws, &tty.ws, sizeof(ws)) != 0;
		tty.ws = ws;
		if (changed)
			signal_send(NULL, SIGWINCH, SI_KERNEL);
		return 0;
	}
	case TIOCGPGRP:
		if (!tty.ctty)
			return -ENOTTY;
		return copy_to_user(p, &tty.pgrp, sizeof(int));
	case TIOCSPGRP:
		if (copy_from_user(&v, p, sizeof(v)) < 0)
			return -EFAULT;
		if (!tty.ctty)
			return -ENOTTY;
		if (v < 0)
			return -EINVAL;
		return v == 1 ? (tty.pgrp = v, 0) : -ESRCH; /* the one process group */
	case TIOCGSID: return tty.ctty ? copy_to_user(p, &(int){ 1 }, sizeof(int)) : -ENOTTY;
	case TIOCSCTTY: tty.ctty = true; return 0;
	case TIOCNOTTY:
		if (!tty.ctty)
			return -ENOTTY;
		tty.ctty = false;
		return 0;
	case FIONREAD: v = (int)(tty.head - tty.tail); return copy_to_user(p, &v, sizeof(v));
	case TIOCOUTQ: return copy_to_user(p, &(int){ 0 }, sizeof(int));
	case TCFLSH:
		if (arg > TCIOFLUSH)
			return -EINVAL;
		if (arg != TCOFLUSH) {
			mutex_lock(&tty.lock);
			flush_input();
			mutex_unlock(&tty.lock);
			wake_up(virtio_console_input_wq());
		}
		return 0; /* output has left already: nothing to drop */
	case TCXONC:
		if (arg > TCION)
			return -EINVAL;
		if (arg == TCOOFF || arg == TCOON) {
			tty.stopped = arg == TCOOFF;
			output_resumed();
		} else {
			uint8_t c = tty.t.c_cc[arg == TCIOFF ? VSTOP : VSTART];
			console_write(tty.echo_stream, &c, 1);
		}
		return 0;
	case TCSBRK:
	case TCSBRKP: console_flush(); return 0;
	}
	return -ENOTTY;
}

static const struct file_ops tty_ops = {
	.read = tty_read,
	.write = tty_write,
	.ioctl = tty_ioctl,
	.poll = tty_poll,
};

bool tty_file(const struct file *f)
{
	return f->ops == &tty_ops;
}

void tty_stat(struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = 0x16;
	st->st_ino = 3;
	st->st_nlink = 1;
	st->st_mode = S_IFCHR | 0620;
	st->st_rdev = TTY_RDEV;
	st->st_blksize = 1024;
}

struct file *tty_file_for(int fd)
{
	if (!tty.on || !(tty.mask & 1 << fd))
		return NULL;
	struct file *f = file_alloc(&tty_ops, fd ? O_WRONLY : O_RDONLY);
	if (f) {
		f->stream = fd;
		f->wq = &tty.rq;
	}
	return f;
}

long tty_open(unsigned flags, struct file **out)
{
	if (!tty.on || !tty.ctty)
		return -ENXIO; /* no controlling terminal, as Linux says */
	struct file *f =
		file_alloc(&tty_ops, flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC));
	if (!f)
		return -ENOMEM;
	f->stream = tty.echo_stream;
	f->wq = &tty.rq;
	*out = f;
	return 0;
}

/* ---- start-up -------------------------------------------------------------- */

static bool parse_uint(const char **s, unsigned *v)
{
	unsigned n = 0;
	const char *p = *s;

	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9' && n < 100000)
		n = n * 10 + (unsigned)(*p++ - '0');
	*s = p;
	*v = n;
	return true;
}

static bool parse_winsize(const char *v, size_t len, void *arg)
{
	const char *p = v;
	unsigned r, c;

	(void)arg;
	if (parse_uint(&p, &r) && *p++ == 'x' && parse_uint(&p, &c) && (size_t)(p - v) == len && r &&
	    c && r < 65536 && c < 65536) {
		tty.ws.ws_row = (uint16_t)r;
		tty.ws.ws_col = (uint16_t)c;
	}
	return true;
}

void tty_init(void)
{
	char v[16];
	const char *p = cmdline_get("tty", v, sizeof(v));
	unsigned mask;

	tty.t = (struct termios){
		.c_iflag = ICRNL | IXON,
		.c_oflag = OPOST | ONLCR,
		.c_cflag = B38400 | CS8 | CREAD | HUPCL,
		.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
	};
	memcpy(tty.t.c_cc, default_cc, sizeof(default_cc));
	tty.ws = (struct winsize){ 24, 80, 0, 0 };
	cmdline_each("winsize", parse_winsize, NULL);
	/* A terminal needs its input port and an output that is the terminal. */
	if (p && parse_uint(&p, &mask) && !*p && (mask & 1) && (mask & 6) && mask < 8 &&
	    virtio_console_has_input()) {
		tty.on = tty.ctty = true;
		tty.mask = (int)mask;
		tty.echo_stream = mask & 2 ? 1 : 2;
		if (!kthread_create(tty_pump, NULL))
			vm_exit_error("out of memory starting the terminal");
	}
}

void tty_host_winsize(unsigned rows, unsigned cols)
{
	if (!tty.on || !rows || !cols || rows > 65535 || cols > 65535 ||
	    (tty.ws.ws_row == rows && tty.ws.ws_col == cols))
		return;
	tty.ws.ws_row = (uint16_t)rows;
	tty.ws.ws_col = (uint16_t)cols;
	signal_send(NULL, SIGWINCH, SI_KERNEL);
}
