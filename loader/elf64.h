/* SPDX-License-Identifier: MIT */
/*
 * ELF64 file structures and constants for x86-64, written from the System V
 * gABI ("Generic System V Application Binary Interface", chapters 4 and 5),
 * the x86-64 psABI (relocation types) and Linux's uapi headers (auxv).  The
 * structs carry our own names (struct elf64_ehdr, not Elf64_Ehdr) so this
 * header can sit beside the host's <elf.h>; constants that <elf.h> also
 * defines are spelled token for token the same, so including both is legal
 * C (tests/unit/test_elf.c does, and compares every value).
 */
#ifndef LOADER_ELF64_H
#define LOADER_ELF64_H

#include <stdint.h>

/* ---- e_ident (gABI "ELF Identification") ---------------------------------- */
#define EI_NIDENT (16)
#define EI_MAG0 0 /* 0x7f 'E' 'L' 'F' */
#define EI_MAG1 1
#define EI_MAG2 2
#define EI_MAG3 3
#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define EI_OSABI 7
#define EI_ABIVERSION 8

#define ELFMAG0 0x7f
#define ELFMAG1 'E'
#define ELFMAG2 'L'
#define ELFMAG3 'F'

#define ELFCLASSNONE 0
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATANONE 0
#define ELFDATA2LSB 1 /* little-endian */
#define ELFDATA2MSB 2 /* big-endian */
#define EV_NONE 0
#define EV_CURRENT 1
#define ELFOSABI_SYSV 0
#define ELFOSABI_GNU 3 /* also called ELFOSABI_LINUX */

/* ---- e_type, e_machine ------------------------------------------------- */
#define ET_NONE 0
#define ET_REL 1  /* relocatable object (.o) */
#define ET_EXEC 2 /* executable at a fixed address */
#define ET_DYN 3  /* shared object, PIE or dynamic linker */
#define ET_CORE 4

#define EM_386 3
#define EM_X86_64 62

/* ---- the file header (gABI "ELF Header") ------------------------------- */
struct elf64_ehdr {
	unsigned char e_ident[EI_NIDENT];
	uint16_t e_type;
	uint16_t e_machine;
	uint32_t e_version;
	uint64_t e_entry;
	uint64_t e_phoff;
	uint64_t e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize;
	uint16_t e_phentsize;
	uint16_t e_phnum;
	uint16_t e_shentsize;
	uint16_t e_shnum;
	uint16_t e_shstrndx;
};

/* ---- program headers (gABI "Program Header") ---------------------------- */
struct elf64_phdr {
	uint32_t p_type;
	uint32_t p_flags;
	uint64_t p_offset;
	uint64_t p_vaddr;
	uint64_t p_paddr;
	uint64_t p_filesz;
	uint64_t p_memsz;
	uint64_t p_align;
};

/* e_phnum == PN_XNUM means the real count is in section 0's sh_info. */
#define PN_XNUM 0xffff

#define PT_NULL 0
#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_INTERP 3
#define PT_NOTE 4
#define PT_SHLIB 5
#define PT_PHDR 6
#define PT_TLS 7
#define PT_GNU_EH_FRAME 0x6474e550
#define PT_GNU_STACK 0x6474e551 /* p_flags & PF_X: executable stack */
#define PT_GNU_RELRO 0x6474e552
#define PT_GNU_PROPERTY 0x6474e553

#define PF_X (1 << 0)
#define PF_W (1 << 1)
#define PF_R (1 << 2)

/* ---- section headers (gABI "Sections") ------------------------------------ */
struct elf64_shdr {
	uint32_t sh_name;
	uint32_t sh_type;
	uint64_t sh_flags;
	uint64_t sh_addr;
	uint64_t sh_offset;
	uint64_t sh_size;
	uint32_t sh_link;
	uint32_t sh_info;
	uint64_t sh_addralign;
	uint64_t sh_entsize;
};

#define SHN_UNDEF 0
#define SHN_ABS 0xfff1
#define SHN_XINDEX 0xffff

#define SHT_NULL 0
#define SHT_PROGBITS 1
#define SHT_SYMTAB 2
#define SHT_STRTAB 3
#define SHT_RELA 4
#define SHT_HASH 5
#define SHT_DYNAMIC 6
#define SHT_NOTE 7
#define SHT_NOBITS 8
#define SHT_REL 9
#define SHT_DYNSYM 11
#define SHT_GNU_HASH 0x6ffffff6

/* ---- symbols (gABI "Symbol Table") ------------------------------------- */
struct elf64_sym {
	uint32_t st_name;
	unsigned char st_info; /* binding << 4 | type */
	unsigned char st_other;
	uint16_t st_shndx;
	uint64_t st_value;
	uint64_t st_size;
};

static inline unsigned elf64_st_bind(unsigned char info)
{
	return info >> 4;
}
static inline unsigned elf64_st_type(unsigned char info)
{
	return info & 0xf;
}

#define STB_LOCAL 0
#define STB_GLOBAL 1
#define STB_WEAK 2
#define STT_NOTYPE 0
#define STT_OBJECT 1
#define STT_FUNC 2
#define STT_SECTION 3
#define STT_FILE 4
#define STT_TLS 6
#define STT_GNU_IFUNC 10

/* ---- relocations (gABI "Relocation"; x86-64 psABI §4.4) ------------------ */
struct elf64_rela {
	uint64_t r_offset;
	uint64_t r_info; /* symbol << 32 | type */
	int64_t r_addend;
};

static inline uint32_t elf64_r_sym(uint64_t info)
{
	return (uint32_t)(info >> 32);
}
static inline uint32_t elf64_r_type(uint64_t info)
{
	return (uint32_t)info;
}

#define R_X86_64_NONE 0
#define R_X86_64_64 1
#define R_X86_64_GLOB_DAT 6
#define R_X86_64_JUMP_SLOT 7
#define R_X86_64_RELATIVE 8
#define R_X86_64_DTPMOD64 16
#define R_X86_64_DTPOFF64 17
#define R_X86_64_TPOFF64 18
#define R_X86_64_IRELATIVE 37

/* ---- the dynamic section (gABI "Dynamic Section") -------------------------- */
struct elf64_dyn {
	int64_t d_tag;
	uint64_t d_val; /* d_val or d_ptr, by tag */
};

#define DT_NULL 0
#define DT_NEEDED 1
#define DT_PLTRELSZ 2
#define DT_PLTGOT 3
#define DT_HASH 4
#define DT_STRTAB 5
#define DT_SYMTAB 6
#define DT_RELA 7
#define DT_RELASZ 8
#define DT_RELAENT 9
#define DT_STRSZ 10
#define DT_SYMENT 11
#define DT_INIT 12
#define DT_FINI 13
#define DT_SONAME 14
#define DT_RPATH 15
#define DT_SYMBOLIC 16
#define DT_REL 17
#define DT_RELSZ 18
#define DT_RELENT 19
#define DT_PLTREL 20
#define DT_DEBUG 21
#define DT_TEXTREL 22
#define DT_JMPREL 23
#define DT_BIND_NOW 24
#define DT_INIT_ARRAY 25
#define DT_FINI_ARRAY 26
#define DT_INIT_ARRAYSZ 27
#define DT_FINI_ARRAYSZ 28
#define DT_RUNPATH 29
#define DT_FLAGS 30
#define DT_RELRSZ 35
#define DT_RELR 36
#define DT_RELRENT 37
#define DT_GNU_HASH 0x6ffffef5
#define DT_VERSYM 0x6ffffff0
#define DT_RELACOUNT 0x6ffffff9
#define DT_RELCOUNT 0x6ffffffa
#define DT_FLAGS_1 0x6ffffffb
#define DT_VERDEF 0x6ffffffc
#define DT_VERNEED 0x6ffffffe

#define DF_1_NOW 0x00000001
#define DF_1_PIE 0x08000000 /* DT_FLAGS_1: the object is a PIE */

/* ---- auxiliary vector (Linux include/uapi/linux/auxvec.h and
 *      arch/x86/include/uapi/asm/auxvec.h) ------------------------------- */
#define AT_NULL 0
#define AT_IGNORE 1
#define AT_EXECFD 2
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_PAGESZ 6
#define AT_BASE 7
#define AT_FLAGS 8
#define AT_ENTRY 9
#define AT_NOTELF 10
#define AT_UID 11
#define AT_EUID 12
#define AT_GID 13
#define AT_EGID 14
#define AT_PLATFORM 15
#define AT_HWCAP 16
#define AT_CLKTCK 17
#define AT_SECURE 23
#define AT_BASE_PLATFORM 24
#define AT_RANDOM 25
#define AT_HWCAP2 26
#define AT_RSEQ_FEATURE_SIZE 27
#define AT_RSEQ_ALIGN 28
#define AT_EXECFN 31
#define AT_SYSINFO_EHDR 33 /* x86: the vDSO's ELF header */
#define AT_MINSIGSTKSZ 51  /* x86: stack needed for signal delivery */

#endif
