// CPU-feature detection and the path selection of include/gb_cpu.h.

#include "gb_dispatch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define CPU_X86 1
#include <cpuid.h>
#else
#define CPU_X86 0
#endif
#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

static int cpu_supported[GB_ISA_COUNT];
static int cpu_best = GB_ISA_GENERIC;
static atomic_int cpu_default = GB_ISA_GENERIC;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;
static _Thread_local int cpu_forced = -1;

static const char *const cpu_names[GB_ISA_COUNT] = {"generic", "avx2", "avx512", "neon"};

#if CPU_X86
// XCR0: which register states the OS saves on a context switch. AVX needs XMM|YMM (bits 1–2),
// AVX-512 also opmask|ZMM_Hi256|Hi16_ZMM (bits 5–7).
static unsigned long long cpu_xcr0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

#if defined(__APPLE__)
// macOS enables AVX-512 state lazily, on a thread's first AVX-512 instruction, so XCR0 does not
// show it up front; the kernel publishes the capability through sysctl instead.
static int cpu_sysctl(const char *name) {
    int value = 0;
    size_t size = sizeof value;
    return sysctlbyname(name, &value, &size, NULL, 0) == 0 && value != 0;
}
#endif

static void cpu_detect_x86(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    const int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return;
    const unsigned long long xcr0 = cpu_xcr0();
    if ((xcr0 & 0x6) != 0x6) return;
    if (__get_cpuid_max(0, NULL) < 7) return;
    __cpuid_count(7, 0, a, b, c, d);
    const int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
    if (avx2 && fma) cpu_supported[GB_ISA_AVX2] = 1;
#if defined(__APPLE__)
    const int zmm_state = cpu_sysctl("hw.optional.avx512f");
#else
    const int zmm_state = (xcr0 & 0xE0) == 0xE0;
#endif
    // The AVX-512 kernels also use AVX2-era instructions for their tails.
    if (avx512f && zmm_state && cpu_supported[GB_ISA_AVX2]) cpu_supported[GB_ISA_AVX512] = 1;
}
#endif

static int cpu_parse(const char *s) {
    for (int i = 0; i < GB_ISA_COUNT; i++)
        if (strcmp(s, cpu_names[i]) == 0) return i;
    return -1;
}

static void cpu_init(void) {
    cpu_supported[GB_ISA_GENERIC] = 1;
#if CPU_X86
    cpu_detect_x86();
    if (cpu_supported[GB_ISA_AVX2]) cpu_best = GB_ISA_AVX2;
    if (cpu_supported[GB_ISA_AVX512]) cpu_best = GB_ISA_AVX512;
#elif defined(__aarch64__)
    // Advanced SIMD is part of the base AArch64 architecture.
    cpu_supported[GB_ISA_NEON] = 1;
    cpu_best = GB_ISA_NEON;
#endif
    int chosen = cpu_best;
    const char *env = getenv("GLASSBOX_ISA");
    if (env && *env) {
        const int wanted = cpu_parse(env);
        if (wanted < 0) {
            fprintf(stderr, "glassbox: GLASSBOX_ISA=%s is not one of avx512, avx2, neon, generic; using %s\n", env,
                    cpu_names[cpu_best]);
        } else if (!cpu_supported[wanted]) {
            fprintf(stderr, "glassbox: GLASSBOX_ISA=%s: this CPU cannot run that path; using %s\n", env,
                    cpu_names[cpu_best]);
        } else {
            chosen = wanted;
        }
    }
    atomic_store(&cpu_default, chosen);
}

static inline void cpu_ready(void) { pthread_once(&cpu_once, cpu_init); }

int gb_cpu_best_isa(void) {
    cpu_ready();
    return cpu_best;
}

int gb_cpu_isa_supported(int isa) {
    cpu_ready();
    return isa >= 0 && isa < GB_ISA_COUNT && cpu_supported[isa];
}

int gb_cpu_default_isa(void) {
    cpu_ready();
    return atomic_load_explicit(&cpu_default, memory_order_relaxed);
}

int gb_cpu_isa(void) {
    const int forced = cpu_forced;
    return forced >= 0 ? forced : gb_cpu_default_isa();
}

const char *gb_cpu_isa_name(int isa) { return isa >= 0 && isa < GB_ISA_COUNT ? cpu_names[isa] : "unknown"; }

int gb_cpu_force_isa(int isa) {
    if (isa >= 0 && !gb_cpu_isa_supported(isa)) return -2;
    const int previous = cpu_forced;
    cpu_forced = isa < 0 ? -1 : isa;
    return previous;
}

int gb_cpu_forced_isa(void) { return cpu_forced; }

int gb_cpu_generic_fused(void) { return GB_GENERIC_FUSED; }
