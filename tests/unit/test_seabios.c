/* Firmware boot: Debian's SeaBIOS (package seabios) runs its POST on the PC board to "No bootable
 * device." (there are no disks), with a clean debug log on port 0x402 (QEMU's isa-debugcon, where
 * SeaBIOS's QEMU build writes it). Skipped, and passing, when the image is not installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../devices/machine.h"

#define LOG_MAX (64u << 10)
/* SeaBIOS reaches the end of its POST in about 7.5 million instructions; the budget leaves room. */
#define BUDGET 400000000ull
#define SLICE 5000000ull
#define END_TEXT "No bootable device."

struct log {
    char text[LOG_MAX];
    size_t len;
};

static void log_sink(void *opaque, const uint8_t *buf, size_t len)
{
    struct log *l = opaque;
    for (size_t i = 0; i < len && l->len + 1 < LOG_MAX; i++)
        l->text[l->len++] = (char)buf[i];
    l->text[l->len] = 0;
}

static uint8_t *load(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(16u << 20);
    assert_non_null(buf);
    *size = fread(buf, 1, 16u << 20, f);
    fclose(f);
    return buf;
}

/* Lines that mean SeaBIOS met a device it did not like. "Boot failed: could not read the boot
 * disk" is not one of them: with no disks that is the expected end. */
static const char *const bad_words[] = {
    "WARNING", "ERROR", "Unable", "No space", "panic", "fault", "unimplemented", "not found",
};

static void check_log_clean(const char *log)
{
    for (size_t i = 0; i < sizeof(bad_words) / sizeof(bad_words[0]); i++) {
        const char *hit = strstr(log, bad_words[i]);
        if (hit) {
            const char *start = hit;
            while (start > log && start[-1] != '\n')
                start--;
            const char *end = strchr(hit, '\n');
            int n = end ? (int)(end - start) : (int)strlen(start);
            fail_msg("SeaBIOS log has an error line: %.*s", n, start);
        }
    }
}

static void boot_to_no_bootable_device(const char *path)
{
    size_t size = 0;
    uint8_t *img = load(path, &size);
    if (!img) {
        printf("skipped: %s not found\n", path);
        skip();
        return;
    }
    struct log *log = calloc(1, sizeof(*log));
    assert_non_null(log);
    struct machine_config cfg = {
        .mem_size = 128u << 20, .cpu = CPU_PENTIUM2, .bios = img, .bios_size = size,
        .console = log_sink, .console_opaque = log, .debugcon_port = 0x402,
        .icount = 1, .no_reboot = 1,
    };
    char err[256];
    struct machine *m = machine_create(&cfg, err, sizeof(err));
    assert_non_null(m);
    enum machine_stop stop = MACHINE_BUDGET;
    /* The BIOS then waits forever for a key (boot-fail-wait is -1, QEMU's default): stop as soon
     * as the line is out. */
    for (uint64_t done = 0; done < BUDGET && stop == MACHINE_BUDGET && !strstr(log->text, END_TEXT); done += SLICE)
        stop = machine_run(m, SLICE);
    if (!strstr(log->text, END_TEXT)) {
        const char *tail = log->len > 1500 ? log->text + log->len - 1500 : log->text;
        fail_msg("SeaBIOS stopped (%s, CS:EIP %04x:%08x) before \"" END_TEXT "\"; log ends:\n%s",
                 machine_stop_name(stop), m->cpu.seg[S_CS].sel, m->cpu.eip, tail);
    }
    assert_non_null(strstr(log->text, "SeaBIOS (version"));
    assert_non_null(strstr(log->text, "Running on QEMU (i440fx)"));
    assert_non_null(strstr(log->text, "Found QEMU fw_cfg"));
    assert_non_null(strstr(log->text, "Relocating init from")); /* PAM shadowing worked */
    assert_non_null(strstr(log->text, "PCI: init bdf=00:00.0 id=8086:1237"));
    assert_non_null(strstr(log->text, "PS2 keyboard initialized"));
    check_log_clean(log->text);
    machine_destroy(m);
    free(log);
    free(img);
}

static void test_seabios_128k_posts_to_no_bootable_device(void **state)
{
    (void)state;
    boot_to_no_bootable_device("/usr/share/seabios/bios.bin");
}

/* The 256 KiB build QEMU loads by default: only its last 128 KiB appear below 1 MiB. */
static void test_seabios_256k_posts_to_no_bootable_device(void **state)
{
    (void)state;
    boot_to_no_bootable_device("/usr/share/seabios/bios-256k.bin");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seabios_128k_posts_to_no_bootable_device),
        cmocka_unit_test(test_seabios_256k_posts_to_no_bootable_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
