/* The virtual clock: real-time or instruction-counted guest nanoseconds, and the timer queue
 * that devices (PIT, RTC, UART) arm. A linear scan: a PC has a handful of timers. */
#include "clock.h"

#include <time.h>

static uint64_t host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void clock_init(struct vclock *vc, enum clock_mode mode, const uint64_t *icount, uint32_t ns_per_insn)
{
    vc->mode = mode;
    vc->host_start_ns = host_ns();
    vc->icount = icount;
    vc->ns_per_insn = ns_per_insn ? ns_per_insn : 1;
    vc->icount_offset_ns = 0;
    vc->ntimers = 0;
}

uint64_t clock_now(const struct vclock *vc)
{
    if (vc->mode == CLOCK_ICOUNT)
        return *vc->icount * vc->ns_per_insn + vc->icount_offset_ns;
    return host_ns() - vc->host_start_ns;
}

int clock_add_timer(struct vclock *vc, struct timer *t, void (*fire)(void *, uint64_t), void *opaque)
{
    if (vc->ntimers == CLOCK_MAX_TIMERS)
        return -1;
    t->deadline = CLOCK_NEVER;
    t->fire = fire;
    t->opaque = opaque;
    vc->timers[vc->ntimers++] = t;
    return 0;
}

uint64_t clock_next_deadline(const struct vclock *vc)
{
    uint64_t d = CLOCK_NEVER;
    for (int i = 0; i < vc->ntimers; i++)
        if (vc->timers[i]->deadline < d)
            d = vc->timers[i]->deadline;
    return d;
}

void clock_run_timers(struct vclock *vc)
{
    uint64_t now = clock_now(vc);
    for (int i = 0; i < vc->ntimers; i++) {
        struct timer *t = vc->timers[i];
        if (t->deadline <= now) {
            t->deadline = CLOCK_NEVER; /* one-shot unless the callback re-arms it */
            t->fire(t->opaque, now);
        }
    }
}

void clock_idle_until(struct vclock *vc, uint64_t deadline, uint64_t max_ns)
{
    uint64_t now = clock_now(vc);
    if (deadline <= now)
        return;
    uint64_t wait = deadline - now;
    if (wait > max_ns)
        wait = max_ns;
    if (vc->mode == CLOCK_ICOUNT) {
        vc->icount_offset_ns += wait;
        return;
    }
    struct timespec ts = { (time_t)(wait / 1000000000ull), (long)(wait % 1000000000ull) };
    nanosleep(&ts, NULL);
}
