# SPDX-License-Identifier: MIT
# elfvm: one non-recursive Makefile.  Objects go under build/.
#   make            kernel, the elfvm command and the test programs
#   make test       every test; ends with "N passed, N failed"
#   make bench      the benchmark suite (elfvm bench)
#   make soak       the long load tests (tests/soak/*.sh), never part of test
#   make SYSCALLS=FILE  a kernel with only FILE's syscalls (docs/trim.md)

B := build
HOSTCC ?= gcc
KCC ?= gcc

# ---- set-up: Debian packages, installed once when missing ----------------
# Everything built needs them, so everything has the stamp as an order-only
# prerequisite: it is made first, and a newer tools/deps.sh reruns the check
# without rebuilding anything.  Nothing that needs a package is evaluated
# at parse time: such $(shell …) values are deferred (=) and read in
# recipes, and a packaged file is reached through a rule ordered after the
# stamp (MUSL_SYSCALL_H).
DEPS_STAMP := $(B)/.deps
$(DEPS_STAMP): tools/deps.sh
	@mkdir -p $(B)
	@sh tools/deps.sh
	@touch $@
MUSL_SYSCALL_H := /usr/include/x86_64-linux-musl/bits/syscall.h
$(MUSL_SYSCALL_H): | $(DEPS_STAMP)
	@test -f $@ || { echo "$@ is missing: is musl-dev installed?"; exit 1; }

# ---- the kernel ------------------------------------------------------------
KSRC := $(wildcard kernel/*.c kernel/arch/x86_64/*.c kernel/arch/x86_64/*.S \
                   loader/*.c loader/*.S syscalls/*.c minifs/*.c \
                   kernel/virtio/*.c kernel/net/*.c)
KOBJ := $(patsubst %,$(B)/k/%.o,$(KSRC))
# gcc's own header directory, asked for once, when a recipe first needs it.
KINC = $(eval KINC := $$(shell $(KCC) -print-file-name=include))$(KINC)
KCFLAGS = -std=c11 -ffreestanding -fno-builtin -nostdinc -Wall -Wextra -Werror \
	-O2 -g -mcmodel=kernel -mno-red-zone -mgeneral-regs-only -fno-pie \
	-fno-stack-protector -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-ffunction-sections -fdata-sections -fno-strict-aliasing \
	-isystem $(KINC) -I. -I$(B)/gen -MMD -MP
KLDFLAGS := -nostdlib -static -no-pie -Wl,--gc-sections -Wl,-z,max-page-size=4096 \
	-Wl,--build-id=none -Wl,-T,kernel/arch/x86_64/kernel.ld

$(B)/k/%.c.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(KCC) $(KCFLAGS) -c $< -o $@
$(B)/k/%.S.o: %.S | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(KCC) $(KCFLAGS) -D__ASSEMBLY__ -c $< -o $@
# Syscall names for diagnostics, from musl's list (musl-dev's header).
$(B)/gen/syscall_names.h: $(MUSL_SYSCALL_H)
	@mkdir -p $(dir $@)
	( echo '/* generated from $< by the Makefile; do not edit */'; \
	  echo 'static const char *const syscall_names[] = {'; \
	  sed -n 's/^#define __NR_\([a-z0-9_]*\)[[:space:]]*\([0-9]*\)$$/[\2] = "\1",/p' $<; \
	  echo '};' ) > $@
# The table dispatch.c builds: syscalls/table.h whole, or a trimmed part.
$(B)/gen/syscall_table.h: syscalls/table.h tools/trim_table.sh
	@mkdir -p $(dir $@)
	sh tools/trim_table.sh full $< > $@.tmp && mv $@.tmp $@
$(B)/k/syscalls/dispatch.c.o: $(B)/gen/syscall_names.h $(B)/gen/syscall_table.h
# ---- lwIP 2.1.3: Debian's source package, unpacked once, never committed ----
# `apt-get source` needs a deb-src entry and dpkg-dev (tools/deps.sh).  Only
# the core (IPv4, IPv6, TCP, UDP) and the Ethernet glue are built: the
# sockets and netconn APIs are replaced by syscalls/net_inet*.c on the raw
# API.  lwIP's files get the kernel's flags with warnings that do not fail
# the build; the port (kernel/net/) and the inet family see lwIP's headers
# through LWIP_INC and keep the full warnings.
LWIP_DIR := $(B)/lwip
LWIP := $(LWIP_DIR)/src
LWIP_STAMP := $(LWIP_DIR)/.unpacked
LWIP_SRC := core/def.c core/inet_chksum.c core/init.c core/ip.c core/mem.c core/memp.c \
	core/netif.c core/pbuf.c core/stats.c core/tcp.c core/tcp_in.c core/tcp_out.c \
	core/timeouts.c core/udp.c core/ipv4/etharp.c core/ipv4/icmp.c core/ipv4/ip4.c \
	core/ipv4/ip4_addr.c core/ipv4/ip4_frag.c core/ipv4/dhcp.c core/ipv6/ethip6.c core/ipv6/icmp6.c \
	core/ipv6/inet6.c core/ipv6/ip6.c core/ipv6/ip6_addr.c core/ipv6/ip6_frag.c \
	core/ipv6/mld6.c core/ipv6/nd6.c netif/ethernet.c
LWIP_OBJ := $(patsubst %.c,$(LWIP_DIR)/obj/%.o,$(LWIP_SRC))
LWIP_INC := -Ikernel/net -isystem kernel/net/libc -isystem $(LWIP)/include
$(LWIP_STAMP): | $(DEPS_STAMP)
	rm -rf $(LWIP_DIR) && mkdir -p $(LWIP_DIR)
	cd $(LWIP_DIR) && { apt-get source -q lwip >apt.log 2>&1 || { cat apt.log; exit 1; }; }
	ln -s "$$(cd $(LWIP_DIR) && echo lwip-2.1.3*/)src" $(LWIP)
	touch $@
$(LWIP_OBJ): $(LWIP_DIR)/obj/%.o: $(LWIP_STAMP) kernel/net/lwipopts.h kernel/net/arch/cc.h
	@mkdir -p $(dir $@)
	$(KCC) $(filter-out -Werror -Wextra -I.,$(KCFLAGS)) -Wno-address $(LWIP_INC) \
		-c $(LWIP)/$*.c -o $@
LWIP_USERS := $(filter $(B)/k/kernel/net/% $(B)/k/syscalls/net_inet% $(B)/k/syscalls/net_tcp% \
	$(B)/k/syscalls/net_udp%,$(KOBJ))
$(LWIP_USERS): KCFLAGS += $(LWIP_INC)
$(LWIP_USERS): | $(LWIP_STAMP)

$(B)/kernel.elf: $(KOBJ) $(LWIP_OBJ) kernel/arch/x86_64/kernel.ld
	$(KCC) $(KCFLAGS) $(KLDFLAGS) $(KOBJ) $(LWIP_OBJ) -o $@

# ---- trimmed kernels: make SYSCALLS=FILE (docs/trim.md) -------------------
# FILE (analyze output, a --profile file or names) becomes a table of its
# own; only dispatch.c sees it, so a trimmed kernel is the full kernel's
# other objects, one dispatch.c compiled against that table, and a link in
# which --gc-sections drops every handler nothing references any more.  It
# goes to $(B)/trim/KEY/ (KEY: a hash of the kept names), never over
# $(B)/kernel.elf.
ifneq ($(SYSCALLS),)
TRIM_KEY := $(shell sh tools/trim_table.sh key '$(SYSCALLS)')
ifeq ($(TRIM_KEY),)
$(error SYSCALLS=$(SYSCALLS): cannot read the list)
endif
TRIM := $(B)/trim/$(TRIM_KEY)
$(TRIM)/gen/syscall_table.h: $(SYSCALLS) syscalls/table.h tools/trim_table.sh $(MUSL_SYSCALL_H)
	@mkdir -p $(dir $@)
	sh tools/trim_table.sh table '$(SYSCALLS)' syscalls/table.h $(MUSL_SYSCALL_H) > $@.tmp
	mv $@.tmp $@
$(TRIM)/dispatch.c.o: syscalls/dispatch.c $(TRIM)/gen/syscall_table.h $(B)/gen/syscall_names.h
	$(KCC) $(subst -I$(B)/gen,-I$(TRIM)/gen -I$(B)/gen,$(KCFLAGS)) -c $< -o $@
TRIM_OBJ := $(filter-out $(B)/k/syscalls/dispatch.c.o,$(KOBJ)) $(TRIM)/dispatch.c.o
$(TRIM)/kernel.elf: $(TRIM_OBJ) $(LWIP_OBJ) kernel/arch/x86_64/kernel.ld
	$(KCC) $(KCFLAGS) $(KLDFLAGS) $(TRIM_OBJ) $(LWIP_OBJ) -o $@
# The sizes, full against trimmed; `elfvm run --trim` reads the first line.
trim: $(TRIM)/kernel.elf $(B)/kernel.elf
	@echo "trimmed kernel: $(TRIM)/kernel.elf"
	@sh tools/trim_table.sh sizes $(B)/kernel.elf > $(TRIM)/full.sizes
	@sh tools/trim_table.sh sizes $(TRIM)/kernel.elf > $(TRIM)/trim.sizes
	@read ft fl < $(TRIM)/full.sizes; read tt tl < $(TRIM)/trim.sizes; \
	 printf '%-8s %10s %10s\n' "" ".text" "loaded" "full" $$ft $$fl "trimmed" $$tt $$tl; \
	 printf 'cut      %9s%% %9s%%\n' $$(( (ft - tt) * 1000 / ft )) $$(( (fl - tl) * 1000 / fl )) | \
		sed 's/\([0-9]\)%/.\1%/g; s/ \./0./g'
.DEFAULT_GOAL := trim
endif

# ---- libc-aware/: Debian's musl with its syscalls as function calls ----------
# libc-aware/build.sh unpacks `apt-get source musl`, applies syscall.cocci
# with spatch, adds aware.c and the hand-written syscall_cp.s, and installs
# the result under $(B)/libc-aware (lib/libc.so, libc.a, crt objects,
# include/, bin/musl-gcc).  elfvm run gives dynamic musl programs this
# lib/libc.so as their dynamic linker (docs/libc-aware.md).
AWARE := $(B)/libc-aware
AWARE_STAMP := $(AWARE)/.built
AWARE_GCC := $(AWARE)/bin/musl-gcc
$(AWARE_STAMP): libc-aware/build.sh libc-aware/syscall.cocci libc-aware/aware.h \
		libc-aware/aware.c libc-aware/syscall_cp.s | $(DEPS_STAMP)
	sh libc-aware/build.sh $(AWARE)
	touch $@

# ---- the vDSO ----------------------------------------------------------------
# kernel/arch/x86_64/vdso/ is user code mapped into every program (docs/vdso.md): built
# with ordinary user flags (PIC, no kernel code model), linked as a shared
# object at 0 and refused unless it needs no relocation and is one r-x
# PT_LOAD, since nobody relocates it.  loader/vdso_blob.S carries the
# stripped image into the kernel.
VDSO := kernel/arch/x86_64/vdso
VDSO_CFLAGS := -std=c11 -O2 -g -fPIC -ffreestanding -fno-builtin -fno-stack-protector \
	-fno-omit-frame-pointer -fasynchronous-unwind-tables -mgeneral-regs-only \
	-Wall -Wextra -Werror -I. -MMD -MP
VDSO_LDFLAGS := -shared -nostdlib -Wl,--hash-style=both -Wl,-soname=linux-vdso.so.1 \
	-Wl,--eh-frame-hdr -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack -Wl,--build-id=none \
	-Wl,-T,$(VDSO)/vdso.lds -Wl,--version-script=$(VDSO)/vdso.ver
$(B)/vdso/$(VDSO)/vdso.o: $(VDSO)/vdso.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(KCC) $(VDSO_CFLAGS) -c $< -o $@
$(B)/vdso.so: $(B)/vdso/$(VDSO)/vdso.o $(VDSO)/vdso.lds $(VDSO)/vdso.ver
	$(KCC) $(VDSO_CFLAGS) $(VDSO_LDFLAGS) $< -o $(B)/vdso/vdso.so.dbg
	objcopy -S $(B)/vdso/vdso.so.dbg $@.tmp
	@readelf -rW $@.tmp | grep -q 'no relocations' || \
		{ echo 'vdso.so needs relocations:'; readelf -rW $@.tmp; rm -f $@.tmp; exit 1; }
	@[ "$$(readelf -lW $@.tmp | grep -c ' LOAD ')" = 1 ] && \
		readelf -lW $@.tmp | grep ' LOAD ' | grep -q ' R E ' || \
		{ echo 'vdso.so must be one r-x PT_LOAD'; rm -f $@.tmp; exit 1; }
	mv $@.tmp $@
$(B)/k/loader/vdso_blob.S.o: $(B)/vdso.so
$(B)/k/loader/vdso_blob.S.o: KCFLAGS += -DVDSO_IMAGE='"$(B)/vdso.so"'

# ---- host code: the elfvm command and the pure code it shares ------------
# Pure code (no kernel dependency) is compiled for the host too, so that the
# unit tests and the fuzzer exercise exactly what the kernel runs.
PURE := loader/elf.c loader/stack.c minifs/cpio.c
TSRC := $(wildcard tools/*.c)
HCFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -I. -MMD -MP
$(B)/h/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HCFLAGS) -c $< -o $@
# The profile's names are the kernel's (musl's list, generated above).
$(B)/h/tools/profile.o: $(B)/gen/syscall_names.h
$(B)/h/tools/profile.o: HCFLAGS += -I$(B)/gen
$(B)/elfvm: $(patsubst %.c,$(B)/h/%.o,$(TSRC) $(PURE))
	$(HOSTCC) $^ -lelf -lcapstone -lpthread -o $@
# gdb's helper for run --gdb, found beside elfvm (tools/gdb.c).
$(B)/elfvm-gdb.py: tools/elfvm_gdb.py
	@mkdir -p $(B)
	cp $< $@
# analyze.c names system calls with the kernel's table (musl's list).
$(B)/h/tools/analyze.o: $(B)/gen/syscall_names.h
$(B)/h/tools/analyze.o: HCFLAGS += -I$(B)/gen

# ---- unit tests (host, ASan + UBSan) and the ELF fuzzer ------------------
# Objects of their own (build/u, build/f), with dependency files like every
# other object, so that an edited header rebuilds them.
USRC := $(wildcard tests/unit/test_*.c)
UPURE := $(patsubst %.c,$(B)/u/%.o,$(PURE) tools/cpio_write.c)
UCFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -I. -MMD -MP \
	-fsanitize=address,undefined -fno-sanitize-recover=all
FCFLAGS := -std=gnu11 -g -O1 -I. -MMD -MP -fsanitize=fuzzer,address,undefined
$(B)/u/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(UCFLAGS) -c $< -o $@
$(B)/unit/%: $(B)/u/tests/unit/%.o $(UPURE)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(UCFLAGS) $^ -o $@ $(ULIBS)
# test_analyze also links the analyzer, with Capstone and libelf.
$(B)/unit/test_analyze: $(B)/u/tools/analyze_walk.o $(B)/u/tools/analyze_elf.o $(B)/u/tools/analyze_sites.o
$(B)/unit/test_analyze: ULIBS := -lcapstone -lelf
# test_disk links disk.c alone and checks its CRCs against zlib's.
$(B)/unit/test_disk: $(B)/u/tools/disk.o
$(B)/unit/test_disk: ULIBS := -lz
# test_efi builds the UEFI loader's pure parts against gnu-efi's headers.
$(B)/unit/test_efi: $(B)/u/boot/efi/elf.o $(B)/u/boot/efi/start_info.o
$(B)/u/boot/efi/%.o $(B)/u/tests/unit/test_efi.o: UCFLAGS += -I/usr/include/efi \
	-I/usr/include/efi/x86_64
$(B)/f/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	clang $(FCFLAGS) -c $< -o $@
$(B)/fuzz_elf: $(B)/f/tests/unit/fuzz_elf.o $(B)/f/loader/elf.o $(B)/f/tools/analyze_walk.o \
		$(B)/f/tools/analyze_elf.o $(B)/f/tools/analyze_sites.o
	clang $(FCFLAGS) $^ -o $@ -lcapstone -lelf
UNIT := $(patsubst tests/unit/%.c,$(B)/unit/%,$(USRC))

# ---- guest test programs: each built six ways (gcc and musl: static, static-PIE, dynamic)
GSRC := $(wildcard tests/guest/*.c)
MUSL := /usr/lib/x86_64-linux-musl
GCFLAGS := -O2 -g -Wall -Wno-unused-result
MUSL_STATIC_PIE = musl-gcc $(GCFLAGS) -fPIE -nostartfiles -Wl,-static -Wl,-pie \
	-Wl,--no-dynamic-linker -Wl,-z,text $(MUSL)/rcrt1.o $(MUSL)/crti.o \
	$(shell gcc -print-file-name=crtbeginS.o) $< \
	$(shell gcc -print-file-name=crtendS.o) $(MUSL)/crtn.o -o $@
$(B)/guest/%.gcc-static: tests/guest/%.c $(wildcard tests/guest/*.h) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	gcc $(GCFLAGS) -static -no-pie $< -o $@ -lm
$(B)/guest/%.gcc-spie: tests/guest/%.c $(wildcard tests/guest/*.h) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	gcc $(GCFLAGS) -static-pie -fPIE $< -o $@ -lm
$(B)/guest/%.musl-static: tests/guest/%.c $(wildcard tests/guest/*.h) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	musl-gcc $(GCFLAGS) -static -no-pie $< -o $@ -lm
$(B)/guest/%.musl-spie: tests/guest/%.c $(wildcard tests/guest/*.h) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(MUSL_STATIC_PIE) -lm
$(B)/guest/%.gcc-dyn: tests/guest/%.c $(wildcard tests/guest/*.h) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	gcc $(GCFLAGS) $< -o $@ -lm -lpthread
$(B)/guest/%.musl-dyn: tests/guest/%.c $(wildcard tests/guest/*.h) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	musl-gcc $(GCFLAGS) $< -o $@ -lm
# Against the syscall-aware musl (libc-aware/): dynamic, whose PT_INTERP is
# /lib/ld-musl-x86_64.so.1 as for musl-dyn, and static.
$(B)/guest/%.aware-dyn: tests/guest/%.c $(wildcard tests/guest/*.h) $(AWARE_STAMP)
	@mkdir -p $(dir $@)
	$(AWARE_GCC) $(GCFLAGS) $< -o $@ -lm
$(B)/guest/%.aware-static: tests/guest/%.c $(wildcard tests/guest/*.h) $(AWARE_STAMP)
	@mkdir -p $(dir $@)
	$(AWARE_GCC) $(GCFLAGS) -static -no-pie $< -o $@ -lm
# The variants are listed once, in tests/variants, which tests/run.sh reads too.
GVARIANTS := $(shell grep -v '^\#' tests/variants)
GUEST := $(foreach s,$(GSRC),$(foreach v,$(GVARIANTS),\
	$(patsubst tests/guest/%.c,$(B)/guest/%.$(v),$(s))))

# ---- the UEFI loader: BOOTX64.EFI, built with Debian's gnu-efi (docs/uefi.md)
# A PE/COFF application: gnu-efi's crt0 and linker script make a shared ELF
# whose sections objcopy turns into an EFI application.  Its own flags, not
# the kernel's: position-independent, the firmware's calling convention.
EFI_SRC := $(wildcard boot/efi/*.c boot/efi/*.S)
EFI_OBJ := $(patsubst %,$(B)/efi/%.o,$(EFI_SRC))
EFI_CFLAGS := -std=gnu11 -ffreestanding -fpic -fshort-wchar -mno-red-zone -mgeneral-regs-only \
	-fno-stack-protector -fno-strict-aliasing -fno-builtin -maccumulate-outgoing-args \
	-DGNU_EFI_USE_MS_ABI -Wall -Wextra -Werror -O2 -I. -I/usr/include/efi \
	-I/usr/include/efi/x86_64 -MMD -MP
$(B)/efi/%.c.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	gcc $(EFI_CFLAGS) -c $< -o $@
$(B)/efi/%.S.o: %.S | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	gcc $(EFI_CFLAGS) -c $< -o $@
$(B)/efi/loader.so: $(EFI_OBJ)
	ld -nostdlib -znocombreloc -T /usr/lib/elf_x86_64_efi.lds -shared -Bsymbolic \
		/usr/lib/crt0-efi-x86_64.o $(EFI_OBJ) -L/usr/lib -lefi -lgnuefi -o $@
$(B)/BOOTX64.EFI: $(B)/efi/loader.so
	objcopy -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
		-j .rel.* -j .rela.* -j .reloc --target efi-app-x86_64 --subsystem=10 $< $@

# ---- benchmark programs run inside both VMs (static, no libc surprises) ----
BSRC := $(wildcard tools/guest/*.c)
BENCHPROGS := $(patsubst tools/guest/%.c,$(B)/bench/%,$(BSRC))
$(B)/bench/%: tools/guest/%.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	gcc $(GCFLAGS) -static -no-pie $< -o $@

# ---- top-level targets ------------------------------------------------------
all: $(B)/kernel.elf $(B)/elfvm $(B)/elfvm-gdb.py $(B)/BOOTX64.EFI $(BENCHPROGS) $(AWARE_STAMP)
tests: all $(UNIT) $(B)/fuzz_elf $(GUEST)
test: tests
	@sh tests/run.sh
bench: all
	$(B)/elfvm bench
soak: tests
	@sh tests/soak.sh
format-check: | $(DEPS_STAMP)
	sh tests/format.sh
clean:
	rm -rf $(B)

.PHONY: all tests test bench soak format-check clean trim
ifeq ($(SYSCALLS),)
.DEFAULT_GOAL := all
endif
.SECONDARY:
-include $(shell find $(B) -name '*.d' 2>/dev/null)
