/* The virtual clock: guest nanoseconds paced by retired instructions (steered toward the host
 * clock, or at a fixed rate for --icount), and the timer queue that devices (PIT, RTC, UART) arm.
 * A linear scan: a PC has a handful of timers. */
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
    vc->base_ns = 0;
    vc->base_icount = *icount;
    vc->rate = (uint64_t)vc->ns_per_insn << 32;
    vc->sync_host_ns = vc->host_start_ns;
    vc->sync_icount = *icount;
    vc->insns_per_ns = 0;
    vc->ntimers = 0;
}

uint64_t clock_now(const struct vclock *vc)
{
    if (vc->mode == CLOCK_ICOUNT)
        return *vc->icount * vc->ns_per_insn + vc->icount_offset_ns;
    return vc->base_ns + (uint64_t)(((unsigned __int128)(*vc->icount - vc->base_icount) * vc->rate) >> 32);
}

/* Rate steering: the rate is chosen so that, at the host's average speed, guest time meets host
 * time STEER_NS from now. The speed is averaged over about that long, host stalls included, and
 * one estimate may change the rate by at most a quarter, so that a guest measuring one clock
 * against another (Linux's TSC calibration against the PIT) sees a smooth rate. */
#define STEER_NS 200000000.0
#define RESYNC_NS 2000000000ull /* a lag this large (host stopped, debugger) is jumped over */

void clock_sync(struct vclock *vc)
{
    if (vc->mode == CLOCK_ICOUNT)
        return;
    uint64_t host = host_ns();
    uint64_t insns = *vc->icount - vc->sync_icount;
    uint64_t elapsed = host - vc->sync_host_ns;
    if (insns < 1000 || elapsed < 100000)
        return; /* too short to measure: keep going at the current rate */
    uint64_t now = clock_now(vc);
    uint64_t host_rel = host - vc->host_start_ns;
    vc->base_ns = now;
    vc->base_icount = *vc->icount;
    if (host_rel > now + RESYNC_NS)
        vc->base_ns = host_rel - RESYNC_NS / 2;
    double speed = (double)insns / (double)elapsed;
    double alpha = (double)elapsed / STEER_NS;
    if (vc->insns_per_ns <= 0 || alpha >= 1)
        vc->insns_per_ns = speed;
    else
        vc->insns_per_ns += alpha * (speed - vc->insns_per_ns);
    double err = (double)host_rel - (double)vc->base_ns;
    double want = (err + STEER_NS) / (STEER_NS * vc->insns_per_ns);
    double cur = (double)vc->rate / 4294967296.0;
    if (want > cur * 1.25)
        want = cur * 1.25;
    if (want < cur * 0.75)
        want = cur * 0.75;
    if (want < 0.01)
        want = 0.01;
    if (want > 1e6)
        want = 1e6;
    vc->rate = (uint64_t)(want * 4294967296.0);
    vc->sync_host_ns = host;
    vc->sync_icount = *vc->icount;
}

uint64_t clock_insns_until(const struct vclock *vc, uint64_t deadline)
{
    uint64_t now = clock_now(vc);
    if (deadline <= now)
        return 1;
    if (vc->mode == CLOCK_ICOUNT)
        return (deadline - now + vc->ns_per_insn - 1) / vc->ns_per_insn;
    unsigned __int128 n = (((unsigned __int128)(deadline - now) << 32) + vc->rate - 1) / vc->rate;
    return n > UINT64_MAX / 2 ? UINT64_MAX / 2 : (n ? (uint64_t)n : 1);
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

uint64_t clock_idle_wait_ns(const struct vclock *vc, uint64_t deadline)
{
    if (vc->mode == CLOCK_ICOUNT)
        return 0;
    uint64_t host_rel = host_ns() - vc->host_start_ns;
    return deadline > host_rel ? deadline - host_rel : 0;
}

void clock_idle_advance(struct vclock *vc, uint64_t deadline)
{
    uint64_t now = clock_now(vc);
    if (vc->mode == CLOCK_ICOUNT) {
        if (deadline != CLOCK_NEVER && deadline > now)
            vc->icount_offset_ns += deadline - now;
        return;
    }
    uint64_t host = host_ns();
    uint64_t host_rel = host - vc->host_start_ns;
    uint64_t to = deadline < host_rel ? deadline : host_rel;
    vc->base_ns = to > now ? to : now;
    vc->base_icount = *vc->icount;
    vc->sync_host_ns = host; /* the sleep is no measure of instruction speed */
    vc->sync_icount = *vc->icount;
}

void clock_idle_until(struct vclock *vc, uint64_t deadline, uint64_t max_ns)
{
    if (vc->mode == CLOCK_ICOUNT) {
        uint64_t now = clock_now(vc);
        if (deadline <= now)
            return;
        vc->icount_offset_ns += deadline - now < max_ns ? deadline - now : max_ns;
        return;
    }
    uint64_t wait = clock_idle_wait_ns(vc, deadline);
    if (wait > max_ns)
        wait = max_ns;
    if (wait) {
        struct timespec ts = { (time_t)(wait / 1000000000ull), (long)(wait % 1000000000ull) };
        nanosleep(&ts, NULL);
    }
    clock_idle_advance(vc, deadline);
}
