/* The machine's virtual clock and timer queue. Guest time is nanoseconds since the machine was
 * created and always advances with retired instructions, so it moves smoothly inside a run of
 * instructions (the TSC and the PIT agree to the instruction). In CLOCK_HOST (the default) the
 * nanoseconds per instruction are re-estimated at every slice so that guest time follows the
 * host's monotonic clock; in CLOCK_ICOUNT (--icount) the rate is fixed and two runs of the same
 * guest are identical. An idle CPU moves time to the next deadline (sleeping the host thread until
 * then in CLOCK_HOST). Devices arm timers against it; the machine's run loop fires them. */
#ifndef JITPC_DEVICES_CLOCK_H
#define JITPC_DEVICES_CLOCK_H

#include <stdint.h>

#define CLOCK_NEVER UINT64_MAX

enum clock_mode { CLOCK_HOST, CLOCK_ICOUNT };

struct timer {
    uint64_t deadline;                         /* guest ns; CLOCK_NEVER when disarmed */
    void (*fire)(void *opaque, uint64_t now);  /* runs on the machine's thread */
    void *opaque;
};

#define CLOCK_MAX_TIMERS 32

struct vclock {
    enum clock_mode mode;
    uint64_t host_start_ns;     /* host monotonic ns at guest time 0 */
    const uint64_t *icount;     /* the CPU's retired-instruction counter */
    uint32_t ns_per_insn;       /* icount mode: guest ns per instruction (a 1 GHz-class CPU: 1) */
    uint64_t icount_offset_ns;  /* icount mode: time skipped while halted (idle advances time) */
    /* host mode: guest ns = base_ns + (icount - base_icount) * rate / 2^32 */
    uint64_t base_ns, base_icount;
    uint64_t rate;              /* guest ns per instruction, 32.32 fixed point */
    uint64_t sync_host_ns, sync_icount; /* where the last rate estimate started */
    double insns_per_ns;        /* host speed, averaged over about STEER_NS (host stalls included) */
    struct timer *timers[CLOCK_MAX_TIMERS];
    int ntimers;
};

void clock_init(struct vclock *vc, enum clock_mode mode, const uint64_t *icount, uint32_t ns_per_insn);
uint64_t clock_now(const struct vclock *vc);
/* Registers a timer (disarmed). Returns 0, or -1 when the queue is full. */
int clock_add_timer(struct vclock *vc, struct timer *t, void (*fire)(void *, uint64_t), void *opaque);
static inline void timer_arm(struct timer *t, uint64_t deadline) { t->deadline = deadline; }
static inline void timer_disarm(struct timer *t) { t->deadline = CLOCK_NEVER; }
/* The earliest armed deadline, or CLOCK_NEVER. */
uint64_t clock_next_deadline(const struct vclock *vc);
/* Fires every timer whose deadline is at or before now (a timer may re-arm itself). */
void clock_run_timers(struct vclock *vc);
/* Host mode: re-estimates the rate from the host time and instructions since the last call and
 * steers guest time toward host time; the run loop calls it between slices. No-op for icount. */
void clock_sync(struct vclock *vc);
/* Instructions from now until guest time reaches deadline (at least 1), for cutting slices. */
uint64_t clock_insns_until(const struct vclock *vc, uint64_t deadline);
/* Idle: how long the host thread should sleep before guest time may reach deadline (0 in icount
 * mode, or when guest time lags the host), and the move of guest time after that sleep: to the
 * deadline, or in host mode no further than the host clock has got (the sleep may end early). */
uint64_t clock_idle_wait_ns(const struct vclock *vc, uint64_t deadline);
void clock_idle_advance(struct vclock *vc, uint64_t deadline);
/* Both of the above, the sleep bounded by max_ns so the caller can poll for host input. */
void clock_idle_until(struct vclock *vc, uint64_t deadline, uint64_t max_ns);

#endif
