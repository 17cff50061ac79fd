// SPDX-License-Identifier: MIT
/* threads: POSIX threads work.  Four threads each add 1 to a shared
 * counter 100000 times under a mutex, keep a thread-local value of their
 * own, and load distinct patterns into xmm registers across a busy loop
 * with sched_yield (so preemption and context switches must keep each
 * thread's vector state apart); main joins them, collects their results,
 * and checks a condition-variable handshake. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

enum { THREADS = 4, ADDS = 100000 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter, ready;
static __thread long mine;

/* xmm_hold(pattern[16]): loads xmm0-7 from pattern, spins with sched_yield,
 * returns 1 if they still hold it. */
int xmm_hold(const unsigned char *pattern);
#define LD(n) "	movdqu " #n "*16(%rdi), %xmm" #n "\n"
#define CK(n) \
	"	movdqu " #n "*16(%rdi), %xmm8\n	pcmpeqb %xmm" #n \
	", %xmm8\n" \
	"	pmovmskb %xmm8, %eax\n	cmpl $0xffff, %eax\n	jne 9f\n"
__asm__(".text\n.globl xmm_hold\n.type xmm_hold,@function\nxmm_hold:\n"
	"	pushq %rbx\n"
	"	movq %rdi, %rbx\n" LD(0) LD(1) LD(2) LD(3) LD(4) LD(5) LD(6)
		LD(7) "	movl $200, %edx\n"
		      "1:	movl $20000, %ecx\n"
		      "2:	decl %ecx\n"
		      "	jnz 2b\n"
		      "	movl $24, %eax\n" /* sched_yield */
		      "	syscall\n"
		      "	decl %edx\n"
		      "	jnz 1b\n"
		      "	movq %rbx, %rdi\n" CK(0) CK(1) CK(2) CK(3) CK(4) CK(5) CK(6)
			      CK(7) "	movl $1, %eax\n"
				    "	popq %rbx\n"
				    "	ret\n"
				    "9:	xorl %eax, %eax\n"
				    "	popq %rbx\n"
				    "	ret\n");

struct job {
	long id;
	long tls_seen;
	int xmm_ok;
	pthread_t t;
};

static void *work(void *arg)
{
	struct job *j = arg;
	unsigned char pattern[8 * 16];
	for (unsigned i = 0; i < sizeof pattern; i++)
		pattern[i] = (unsigned char)(j->id * 37 + i);
	mine = j->id * 1000;
	for (int i = 0; i < ADDS; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
		if (i % 10000 == 0)
			sched_yield();
	}
	j->xmm_ok = xmm_hold(pattern);
	j->tls_seen = mine;
	pthread_mutex_lock(&lock);
	ready++;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	return (void *)(j->id + 100);
}

int main(void)
{
	struct job jobs[THREADS];
	int bad = 0;
	mine = -1;
	for (long i = 0; i < THREADS; i++) {
		jobs[i].id = i + 1;
		if (pthread_create(&jobs[i].t, NULL, work, &jobs[i]) != 0) {
			printf("FAIL: pthread_create\n");
			return 1;
		}
	}
	pthread_mutex_lock(&lock);
	while (ready < THREADS)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	printf("ok condition variable saw all %d threads finish\n", THREADS);
	for (int i = 0; i < THREADS; i++) {
		void *ret;
		pthread_join(jobs[i].t, &ret);
		if ((long)ret != jobs[i].id + 100 || jobs[i].tls_seen != jobs[i].id * 1000 ||
		    !jobs[i].xmm_ok) {
			printf("FAIL: thread %ld: result %ld, thread-local %ld, xmm %s\n", jobs[i].id,
			       (long)ret, jobs[i].tls_seen, jobs[i].xmm_ok ? "kept" : "changed");
			bad = 1;
		}
	}
	if (!bad)
		printf("ok %d threads joined with their own results, TLS and xmm state\n", THREADS);
	if (counter != (long)THREADS * ADDS || mine != -1) {
		printf("FAIL: counter %ld, expected %ld; main's TLS %ld\n", counter,
		       (long)THREADS * ADDS, mine);
		bad = 1;
	} else {
		printf("ok mutex kept the counter exact\n");
	}
	return bad;
}
