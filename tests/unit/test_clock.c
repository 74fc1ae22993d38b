/* The virtual clock: instruction-paced guest time, fixed under --icount and steered toward the
 * host clock otherwise, slices cut exactly at deadlines, and idle moves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <time.h>

#include "../../devices/clock.h"

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void spin_ns(uint64_t ns)
{
    uint64_t end = mono_ns() + ns;
    while (mono_ns() < end) {
    }
}

static void test_icount_time_is_instructions_times_rate_plus_idle(void **state)
{
    (void)state;
    uint64_t ic = 0;
    struct vclock vc = { 0 };
    clock_init(&vc, CLOCK_ICOUNT, &ic, 3);
    ic = 1000;
    assert_int_equal(clock_now(&vc), 3000);
    clock_idle_until(&vc, 5000, UINT64_MAX);
    assert_int_equal(clock_now(&vc), 5000);
    clock_idle_until(&vc, 100000, 1000); /* bounded idle moves time by the bound */
    assert_int_equal(clock_now(&vc), 6000);
    assert_int_equal(clock_insns_until(&vc, 6001), 1);
    assert_int_equal(clock_insns_until(&vc, 6003), 1);
    assert_int_equal(clock_insns_until(&vc, 6004), 2);
}

/* Between two syncs, guest time moves with instructions only: a guest timing a loop with two
 * clocks (TSC against PIT) sees one smooth rate. */
static void test_host_time_advances_with_instructions_between_syncs(void **state)
{
    (void)state;
    uint64_t ic = 0;
    struct vclock vc = { 0 };
    clock_init(&vc, CLOCK_HOST, &ic, 25);
    uint64_t t0 = clock_now(&vc);
    spin_ns(2000000);
    assert_int_equal(clock_now(&vc), t0); /* no instructions, no time */
    ic += 4000;
    assert_int_equal(clock_now(&vc) - t0, 100000);
}

/* Steering: whatever the first guess, guest time converges on host time, and no single estimate
 * changes the rate by more than a quarter. */
static void test_host_time_follows_the_host_clock(void **state)
{
    (void)state;
    uint64_t ic = 0;
    struct vclock vc = { 0 };
    clock_init(&vc, CLOCK_HOST, &ic, 1); /* a guess 50 times too fast */
    uint64_t host0 = mono_ns();
    uint64_t prev_rate = vc.rate;
    for (int i = 0; i < 600; i++) {
        spin_ns(1000000); /* "1 ms of emulation" ... */
        ic += 20000;      /* ... retiring 20,000 instructions: 50 ns each */
        clock_sync(&vc);
        double ratio = (double)vc.rate / (double)prev_rate;
        assert_true(ratio <= 1.2501 && ratio >= 0.7499);
        prev_rate = vc.rate;
    }
    double host = (double)(mono_ns() - host0), guest = (double)clock_now(&vc);
    assert_true(guest > host * 0.9 && guest < host * 1.1);
}

static void test_slice_ends_exactly_at_the_deadline(void **state)
{
    (void)state;
    uint64_t ic = 0;
    struct vclock vc = { 0 };
    clock_init(&vc, CLOCK_HOST, &ic, 7);
    ic = 12345;
    uint64_t deadline = clock_now(&vc) + 1000003;
    uint64_t n = clock_insns_until(&vc, deadline);
    ic += n - 1;
    assert_true(clock_now(&vc) < deadline);
    ic += 1;
    assert_true(clock_now(&vc) >= deadline);
}

/* An idle CPU: guest time moves to the deadline once the host has got there, never past it. */
static void test_host_idle_moves_to_the_deadline_after_sleeping(void **state)
{
    (void)state;
    uint64_t ic = 0;
    struct vclock vc = { 0 };
    clock_init(&vc, CLOCK_HOST, &ic, 25);
    uint64_t deadline = clock_now(&vc) + 3000000;
    assert_true(clock_idle_wait_ns(&vc, deadline) > 0);
    clock_idle_until(&vc, deadline, UINT64_MAX);
    assert_int_equal(clock_now(&vc), deadline);
    assert_int_equal(clock_idle_wait_ns(&vc, deadline), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_icount_time_is_instructions_times_rate_plus_idle),
        cmocka_unit_test(test_host_time_advances_with_instructions_between_syncs),
        cmocka_unit_test(test_host_time_follows_the_host_clock),
        cmocka_unit_test(test_slice_ends_exactly_at_the_deadline),
        cmocka_unit_test(test_host_idle_moves_to_the_deadline_after_sleeping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
