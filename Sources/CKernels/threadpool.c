// A small fork-join pool (gb_parallel_for) whose idle workers spin for a while before sleeping.
//
// Why not DispatchQueue.concurrentPerform: on a virtual machine an idle vCPU is halted, and
// waking a thread parked on it takes 50–200 µs — as long as a whole 256³ GEMM on two cores — so
// measured two-way splits of sub-millisecond work ran no faster than one thread. Workers that
// keep spinning (and yielding) for a millisecond after each job are still awake when the next
// GEMM of a training step arrives.
//
// Protocol. One 64-bit state word holds generation:24 | worker limit:8 | tasks:16 | next:16.
// Publishing a job bumps the generation. Workers whose index is not below the limit sit the job
// out, which is how a call honours its thread count when earlier calls created more workers.
// Anyone, the caller included, claims task `next` with a CAS on the whole word, so a late
// worker can never run a task of a job it did not see, and a CAS that succeeds proves the job is
// still open, hence that the fn/ctx/base it read after seeing the generation belong to it (the
// caller only republishes them once every task has finished). Because the caller claims tasks
// too, a job completes even if no worker wakes up in time, or none exists (after fork()).

#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE  // sched_getcpu, pthread_attr_setaffinity_np
#endif

#include "CKernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define GB_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define GB_PAUSE() __asm__ __volatile__("yield")
#else
#define GB_PAUSE() ((void)0)
#endif

#define GB_POOL_MAX_WORKERS 63
// How long an idle worker spins before it sleeps: long enough to bridge the gaps between the
// GEMMs of a training step (a sleeping worker takes 50–200 µs to wake on a VM), short enough not
// to burn a core for long after the work stops. Spinners yield, so other threads still run.
#define GB_POOL_SPIN_NS 1000000L

typedef struct {
    _Atomic uint64_t state;
    _Atomic long done;
    void (*_Atomic fn)(void *, long);
    void *_Atomic ctx;
    _Atomic long base;          // task t of the state word is the caller's task base + t
    _Atomic int isa;            // the caller's forced kernel path (gb_cpu_force_isa), -1 for none
    _Atomic int sleepers;
    pthread_mutex_t lock;       // guards sleeping/waking and worker creation
    pthread_cond_t wake;
    pthread_mutex_t submit;     // one job at a time; a busy pool makes callers run inline
    int workers;
} gb_pool;

static gb_pool pool = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .submit = PTHREAD_MUTEX_INITIALIZER,
};

static inline uint32_t gb_gen(uint64_t s) { return (uint32_t)(s >> 40); }
static inline long gb_limit(uint64_t s) { return (long)((s >> 32) & 0xFF); }
static inline long gb_tasks(uint64_t s) { return (long)((s >> 16) & 0xFFFF); }
static inline long gb_next(uint64_t s) { return (long)(s & 0xFFFF); }

static long gb_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

// Claims and runs tasks of generation `gen` until none are left.
static void gb_pool_work(uint32_t gen) {
    void (*fn)(void *, long) = atomic_load_explicit(&pool.fn, memory_order_acquire);
    void *ctx = atomic_load_explicit(&pool.ctx, memory_order_acquire);
    const long base = atomic_load_explicit(&pool.base, memory_order_acquire);
    const int isa = atomic_load_explicit(&pool.isa, memory_order_acquire);
    uint64_t s = atomic_load_explicit(&pool.state, memory_order_acquire);
    for (;;) {
        if (gb_gen(s) != gen || gb_next(s) >= gb_tasks(s)) return;
        if (atomic_compare_exchange_weak_explicit(&pool.state, &s, s + 1, memory_order_acq_rel,
                                                  memory_order_acquire)) {
            // Tasks run on the path their caller runs (a test's forced path included).
            const int own = gb_cpu_forced_isa();
            if (own != isa) gb_cpu_force_isa(isa);
            fn(ctx, base + gb_next(s));
            if (own != isa) gb_cpu_force_isa(own);
            atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
            s = atomic_load_explicit(&pool.state, memory_order_acquire);
        }
    }
}

#if defined(__linux__)
// A new thread tends to start on its creator's CPU, where it cannot run while the creator
// computes, and the load balancer can take tens of milliseconds to move it. So workers start
// on the other allowed CPUs and then widen their affinity back to the process's set (a running
// thread stays where it is).
static cpu_set_t gb_pool_cpus;
static int gb_pool_cpus_valid;
#endif

// arg packs (generation at creation << 8 | worker index): a worker created for a job must not
// mistake that job's generation for one it has already seen.
static void *gb_pool_main(void *arg) {
    const long index = (long)((uintptr_t)arg & 0xFF);
    uint32_t seen = (uint32_t)((uintptr_t)arg >> 8);
#if defined(__linux__)
    if (gb_pool_cpus_valid) pthread_setaffinity_np(pthread_self(), sizeof(gb_pool_cpus), &gb_pool_cpus);
#endif
    for (;;) {
        uint64_t s = atomic_load_explicit(&pool.state, memory_order_acquire);
        if (gb_gen(s) == seen) {
            const long deadline = gb_now_ns() + GB_POOL_SPIN_NS;
            for (int spins = 0; gb_gen(s) == seen; spins++) {
                GB_PAUSE();
                if ((spins & 255) == 255) {
                    if (gb_now_ns() > deadline) break;
                    sched_yield();  // lets other runnable threads of this CPU go first
                }
                s = atomic_load_explicit(&pool.state, memory_order_acquire);
            }
            if (gb_gen(s) == seen) {
                pthread_mutex_lock(&pool.lock);
                atomic_fetch_add(&pool.sleepers, 1);  // seq_cst: pairs with the submitter's load
                while (gb_gen(s = atomic_load(&pool.state)) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
                atomic_fetch_sub(&pool.sleepers, 1);
                pthread_mutex_unlock(&pool.lock);
            }
        }
        seen = gb_gen(s);
        if (index < gb_limit(s)) gb_pool_work(seen);
    }
    return NULL;
}

void gb_parallel_for(long tasks, long threads, void (*fn)(void *ctx, long task), void *ctx) {
    if (tasks <= 0) return;
    if (threads > tasks) threads = tasks;
    if (threads > GB_POOL_MAX_WORKERS + 1) threads = GB_POOL_MAX_WORKERS + 1;
    if (threads <= 1 || tasks == 1 || pthread_mutex_trylock(&pool.submit) != 0) {
        for (long t = 0; t < tasks; t++) fn(ctx, t);
        return;
    }
    const long wanted = threads - 1;
    if (pool.workers < wanted) {
        pthread_mutex_lock(&pool.lock);
#if defined(__linux__)
        cpu_set_t others;
        int start_elsewhere = 0;
        // Read once, before the first worker exists; workers only ever read it afterwards.
        if (!gb_pool_cpus_valid && sched_getaffinity(0, sizeof(gb_pool_cpus), &gb_pool_cpus) == 0)
            gb_pool_cpus_valid = 1;
        if (gb_pool_cpus_valid) {
            others = gb_pool_cpus;
            const int here = sched_getcpu();
            if (here >= 0 && here < CPU_SETSIZE) CPU_CLR(here, &others);
            start_elsewhere = CPU_COUNT(&others) > 0;
        }
#endif
        while (pool.workers < wanted) {
            pthread_t th;
            pthread_attr_t attr;
            pthread_attr_init(&attr);
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
#if defined(__linux__)
            if (start_elsewhere) pthread_attr_setaffinity_np(&attr, sizeof(others), &others);
#endif
            const uintptr_t arg = ((uintptr_t)gb_gen(atomic_load(&pool.state)) << 8) | (uintptr_t)pool.workers;
            const int err = pthread_create(&th, &attr, gb_pool_main, (void *)arg);
            pthread_attr_destroy(&attr);
            if (err != 0) break;  // run with fewer workers; the caller claims what is left
            pool.workers++;
        }
        pthread_mutex_unlock(&pool.lock);
    }
    // The state word counts at most 0xFFFF tasks, so longer loops go in several jobs.
    for (long base = 0; base < tasks; base += 0xFFFF) {
        const long count = tasks - base < 0xFFFF ? tasks - base : 0xFFFF;
        atomic_store_explicit(&pool.fn, fn, memory_order_relaxed);
        atomic_store_explicit(&pool.ctx, ctx, memory_order_relaxed);
        atomic_store_explicit(&pool.base, base, memory_order_relaxed);
        atomic_store_explicit(&pool.isa, gb_cpu_forced_isa(), memory_order_relaxed);
        atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
        const uint32_t gen = (gb_gen(atomic_load(&pool.state)) + 1) & 0xFFFFFF;
        // seq_cst publish, ordered before the sleepers load (see gb_pool_main).
        atomic_store(&pool.state, ((uint64_t)gen << 40) | ((uint64_t)wanted << 32) | ((uint64_t)count << 16));
        if (atomic_load(&pool.sleepers) > 0) {
            pthread_mutex_lock(&pool.lock);
            pthread_cond_broadcast(&pool.wake);
            pthread_mutex_unlock(&pool.lock);
        }
        gb_pool_work(gen);
        // A worker is still running a task. It may share this CPU, so yield now and then
        // instead of spinning it out.
        for (int spins = 1; atomic_load_explicit(&pool.done, memory_order_acquire) < count; spins++) {
            GB_PAUSE();
            if ((spins & 63) == 0) sched_yield();
        }
    }
    pthread_mutex_unlock(&pool.submit);
}
