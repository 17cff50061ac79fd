# SPDX-License-Identifier: MIT
# tests/compat/musl.sh: dynamically linked musl programs (PT_INTERP
# /lib/ld-musl-x86_64.so.1, which Debian's musl package links to
# x86_64-linux-musl/libc.so) run natively and under elfvm; stdout and the
# exit status must match.  Debian ships no musl-built programs, so the case
# builds its own with `musl-gcc` (dynamic by default): some of the guest
# programs (tests/guest/NAME.c), and "greet", a program whose own shared
# library is found through DT_RUNPATH $ORIGIN.  elfvm packs the interpreter
# and libraries as musl's loader finds them.  Sourced by tests/run.sh inside
# all_cases.  One line per case:
#     musl_dyn NAME [options] -- ARGS...   tests/guest/NAME.c, built here
# Builds go to $T/musl (this suite run's own directory).

MUSL_OUT=$T/musl

# musl_build NAME: $MUSL_OUT/NAME from tests/guest/NAME.c, once.
musl_build() {
	[ -x "$MUSL_OUT/$1" ] && return 0
	command -v musl-gcc >/dev/null || { echo "musl-gcc is not installed (apt-get install musl-tools)"; return 1; }
	mkdir -p "$MUSL_OUT" &&
		musl-gcc -O2 -Wall -Wno-unused-result -o "$MUSL_OUT/$1.tmp" "tests/guest/$1.c" -lm &&
		mv "$MUSL_OUT/$1.tmp" "$MUSL_OUT/$1"
}

# musl_greet: $MUSL_OUT/greet/greet and its libgreet.so beside it.
musl_greet() {
	g=$MUSL_OUT/greet
	[ -x "$g/greet" ] && return 0
	command -v musl-gcc >/dev/null || { echo "musl-gcc is not installed (apt-get install musl-tools)"; return 1; }
	mkdir -p "$g" || return 1
	cat >"$g/libgreet.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static int initialised;
__attribute__((constructor)) static void init(void) { initialised = 42; }
static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
int greet(int argc, char **argv)
{
	printf("libgreet constructor ran: %d\n", initialised);
	qsort(argv + 1, argc - 1, sizeof *argv, cmp);
	for (int i = 1; i < argc; i++)
		printf("hello, %s (%zu)\n", argv[i], strlen(argv[i]));
	printf("%.10g %s\n", strtod("2.718281828459045", NULL), getenv("ELFVM_TEST_GREETING"));
	return argc - 1;
}
EOF
	cat >"$g/greet.c" <<'EOF'
#include <link.h>
#include <stdio.h>
#include <string.h>
int greet(int argc, char **argv);
static int show(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	const char *n = strrchr(info->dlpi_name, '/');
	printf("loaded: %s\n", n ? n + 1 : info->dlpi_name[0] ? info->dlpi_name : "(the program)");
	return 0;
}
int main(int argc, char **argv)
{
	dl_iterate_phdr(show, NULL);
	return greet(argc, argv);
}
EOF
	musl-gcc -O2 -Wall -shared -fPIC -o "$g/libgreet.so" "$g/libgreet.c" &&
		musl-gcc -O2 -Wall -o "$g/greet.tmp" "$g/greet.c" -L"$g" -lgreet -Wl,--enable-new-dtags,-rpath,'$ORIGIN' &&
		mv "$g/greet.tmp" "$g/greet"
}

musl_dyn() {
	n=$1
	shift
	vm_case "compat/musl-dyn/$n" -P "$MUSL_OUT/$n" -S "musl_build $n" "$@"
}

musl_dyn hello -x 0 --
musl_dyn args -x 0 -- a "b c" "" "ünïcødé"
musl_dyn stdin_eof -x 0 -I "printf 'one\ntwo\nthree'" --
musl_dyn malloc_stress -x 0 --
musl_dyn proc_self_exe -x 0 --
musl_dyn files_rw -x 0 --
musl_dyn files_mmap -x 0 --
musl_dyn files_fd -x 0 --
vm_case compat/musl-dyn/greet-runpath-origin -P "$MUSL_OUT/greet/greet" -S musl_greet -x 3 \
	-e ELFVM_TEST_GREETING=from-env -- zebra apple "mango tree"
