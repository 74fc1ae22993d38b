/* Smoke test of the unit-test harness itself: a few real-mode instructions run and retire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

static void test_mov_add_runs_in_real_mode(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    static const uint8_t code[] = { 0xB8, 0x34, 0x12, 0x05, 0x01, 0x00, 0xE6, 0xE9 }; /* mov ax,1234h; add ax,1; out e9,al */
    h_code(h, 0x1000, code, sizeof(code));
    assert_int_equal(h_step(h, 3), CPU_EXIT_BUDGET);
    assert_int_equal(h->c->r[R_EAX] & 0xFFFF, 0x1235);
    assert_int_equal(h->outlen, 1);
    assert_int_equal((uint8_t)h->out[0], 0x35);
    assert_int_equal(h->c->icount, 3);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_mov_add_runs_in_real_mode) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
