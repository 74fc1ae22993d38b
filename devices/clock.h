/* The machine's virtual clock and timer queue. Guest time is nanoseconds since the machine was
 * created, either following the host's monotonic clock (CLOCK_HOST, the default) or derived from
 * retired instructions (--icount: deterministic, two runs of the same guest are identical).
 * Devices arm timers against it; the machine's run loop fires them. */
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
    uint64_t host_start_ns;     /* real time: host monotonic ns at guest time 0 */
    const uint64_t *icount;     /* icount mode: the CPU's retired-instruction counter */
    uint32_t ns_per_insn;       /* icount mode: guest ns per instruction (a 1 GHz-class CPU: 1) */
    uint64_t icount_offset_ns;  /* icount mode: time skipped while halted (idle advances time) */
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
/* Idle: advances icount time to deadline, or sleeps the host thread until it (real time), bounded
 * by max_ns so the caller can poll for host input. */
void clock_idle_until(struct vclock *vc, uint64_t deadline, uint64_t max_ns);

#endif
