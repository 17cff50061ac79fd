// SPDX-License-Identifier: MIT
/* args: argv and the environment reach the program intact.
 * Prints argc and every argument after argv[0] (argv[0] is where the
 * program lives, which differs between the host and the VM), escaping bytes
 * outside printable ASCII so spaces, empty strings, newlines and UTF-8 are
 * visible; then the environment entries starting with ELFVM_TEST_, sorted
 * (their order in envp is not part of the contract).  Also checks that
 * argv[argc] and the envp terminator are NULL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static void put_escaped(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '\\')
			putchar(*p);
		else
			printf("\\x%02x", *p);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv, char **envp)
{
	int bad = 0;

	printf("argc=%d\n", argc);
	if (argv[argc] != NULL) {
		printf("FAIL: argv[argc] is not NULL\n");
		bad = 1;
	}
	for (int i = 1; i < argc; i++) {
		printf("argv[%d] len=%zu \"", i, strlen(argv[i]));
		put_escaped(argv[i]);
		printf("\"\n");
	}

	size_t n = 0, cap = 16;
	char **mine = malloc(cap * sizeof *mine);
	for (char **e = envp; *e; e++) {
		if (strncmp(*e, "ELFVM_TEST_", 11) != 0)
			continue;
		if (n == cap)
			mine = realloc(mine, (cap *= 2) * sizeof *mine);
		mine[n++] = *e;
	}
	if (envp != environ) {
		printf("FAIL: main's envp differs from environ\n");
		bad = 1;
	}
	qsort(mine, n, sizeof *mine, cmp_str);
	printf("env count=%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		printf("env \"");
		put_escaped(mine[i]);
		printf("\"\n");
	}
	/* getenv must see the same environment as envp. */
	for (size_t i = 0; i < n; i++) {
		char name[256];
		const char *eq = strchr(mine[i], '=');
		size_t len = eq ? (size_t)(eq - mine[i]) : strlen(mine[i]);
		if (!eq || len >= sizeof name)
			continue;
		memcpy(name, mine[i], len);
		name[len] = 0;
		const char *v = getenv(name);
		if (!v || strcmp(v, eq + 1) != 0) {
			printf("FAIL: getenv(%s) disagrees with envp\n", name);
			bad = 1;
		}
	}
	free(mine);
	return bad;
}
