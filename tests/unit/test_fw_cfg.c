/* Unit tests of fw_cfg: the selector/data ports, the standard items, the file directory and the
 * DMA interface writing into a real physmem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../devices/fw_cfg.h"

#define ACC 0x1000 /* where tests put the FWCfgDmaAccess */
#define BUF 0x2000 /* DMA destination */

struct fx {
    struct ioports io;
    struct physmem pm;
    struct fw_cfg f;
};

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    ioports_init(&x->io);
    assert_int_equal(physmem_init(&x->pm, 16 << 20), 0);
    assert_int_equal(fw_cfg_init(&x->f, &x->io, &x->pm), 0);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    fw_cfg_free(&x->f);
    physmem_free(&x->pm);
    free(x);
    return 0;
}

static void sel(struct fx *x, uint16_t key) { io_out(&x->io, 0x510, 2, key); }
static uint8_t rd8(struct fx *x) { return (uint8_t)io_in(&x->io, 0x511, 1); }

static void rd_buf(struct fx *x, void *dst, size_t n)
{
    uint8_t *d = dst;
    for (size_t i = 0; i < n; i++)
        d[i] = rd8(x);
}

static uint64_t rd_le(struct fx *x, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)rd8(x) << (8 * i);
    return v;
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* Builds the access structure in guest memory and starts it the way SeaBIOS does: two outl of
 * byte-swapped halves, high at 0x514, low at 0x518. Returns the control word afterwards. */
static uint32_t dma(struct fx *x, uint32_t control, uint32_t len, uint32_t addr)
{
    uint8_t a[16] = { 0 };
    for (int i = 0; i < 4; i++) {
        a[i] = (uint8_t)(control >> (24 - 8 * i));
        a[4 + i] = (uint8_t)(len >> (24 - 8 * i));
        a[12 + i] = (uint8_t)(addr >> (24 - 8 * i));
    }
    phys_write_buf(&x->pm, ACC, a, sizeof(a));
    io_out(&x->io, 0x514, 4, __builtin_bswap32(0));
    io_out(&x->io, 0x518, 4, __builtin_bswap32(ACC));
    uint8_t c[4];
    phys_read_buf(&x->pm, ACC, c, 4);
    return be32(c);
}

static void test_signature(void **state)
{
    struct fx *x = *state;
    char s[5] = { 0 };
    sel(x, FW_CFG_SIGNATURE);
    rd_buf(x, s, 4);
    assert_string_equal(s, "QEMU");
    /* the DMA address register reads "QEMU CFG" in port order */
    assert_int_equal(io_in(&x->io, 0x514, 4), 0x554D4551);
    assert_int_equal(io_in(&x->io, 0x518, 4), 0x47464320);
}

static void test_id_and_defaults(void **state)
{
    struct fx *x = *state;
    sel(x, FW_CFG_ID);
    assert_int_equal(rd_le(x, 4), FW_CFG_VERSION | FW_CFG_VERSION_DMA);
    sel(x, FW_CFG_NB_CPUS);
    assert_int_equal(rd_le(x, 2), 1);
    sel(x, FW_CFG_RAM_SIZE);
    assert_int_equal(rd_le(x, 8), 16 << 20);
    assert_int_equal(fw_cfg_add_i64(&x->f, FW_CFG_RAM_SIZE, 0x123456789ull), 0);
    sel(x, FW_CFG_RAM_SIZE);
    assert_int_equal(rd_le(x, 8), 0x123456789ull);
    assert_int_equal(fw_cfg_add_i16(&x->f, FW_CFG_NB_CPUS, 4), 0);
    sel(x, FW_CFG_NB_CPUS);
    assert_int_equal(rd_le(x, 2), 4);
    /* file keys are handed out by fw_cfg_add_file only */
    assert_int_equal(fw_cfg_add_i32(&x->f, 0x20, 1), -1);
}

static void test_read_past_end(void **state)
{
    struct fx *x = *state;
    sel(x, FW_CFG_SIGNATURE);
    uint8_t s[8];
    rd_buf(x, s, 8);
    assert_memory_equal(s, "QEMU\0\0\0\0", 8);
    sel(x, 0x1234); /* nothing there */
    assert_int_equal(rd8(x), 0);
    /* a wider read is a byte array */
    sel(x, FW_CFG_SIGNATURE);
    assert_int_equal(io_in(&x->io, 0x511, 2), 'Q' | 'E' << 8);
}

static void test_file_directory(void **state)
{
    struct fx *x = *state;
    static const uint8_t wait[4] = { 0x10, 0x27, 0, 0 }; /* le32 10000 ms */
    static const char order[] = "/pci@i0cf8/ide@1,1/drive@0/disk@0\n";
    assert_int_equal(fw_cfg_add_file(&x->f, "etc/boot-fail-wait", wait, 4), 0x20);
    assert_int_equal(fw_cfg_add_file(&x->f, "bootorder", order, sizeof(order) - 1), 0x21);
    uint8_t e820[2 * FW_CFG_E820_ENTRY_SIZE];
    fw_cfg_e820_pack(e820, 0, 0x9FC00, 1);
    fw_cfg_e820_pack(e820 + FW_CFG_E820_ENTRY_SIZE, 0x100000, 0xF00000, 1);
    assert_int_equal(fw_cfg_add_file(&x->f, "etc/e820", e820, sizeof(e820)), 0x22);
    assert_int_equal(e820[22], 0x10); /* le64 0x100000: byte 2 of the second address */
    assert_int_equal(e820[30], 0xF0); /* le64 0xF00000: byte 2 of its length */
    assert_int_equal(e820[36], 1);    /* le32 type */
    /* replacing keeps the key */
    assert_int_equal(fw_cfg_add_file(&x->f, "etc/boot-fail-wait", wait, 4), 0x20);

    sel(x, FW_CFG_FILE_DIR);
    uint8_t cnt[4];
    rd_buf(x, cnt, 4);
    assert_int_equal(be32(cnt), 3);
    uint8_t e[64];
    rd_buf(x, e, 64);
    assert_int_equal(be32(e), 4);
    assert_int_equal(be16(e + 4), 0x20);
    assert_string_equal((char *)e + 8, "etc/boot-fail-wait");
    rd_buf(x, e, 64);
    assert_int_equal(be32(e), sizeof(order) - 1);
    assert_int_equal(be16(e + 4), 0x21);
    assert_int_equal(be16(e + 6), 0);
    assert_string_equal((char *)e + 8, "bootorder");
    rd_buf(x, e, 64);
    assert_int_equal(be32(e), 40);
    assert_int_equal(be16(e + 4), 0x22);
    assert_string_equal((char *)e + 8, "etc/e820");

    /* read a file the way a BIOS does after finding it in the directory */
    sel(x, 0x21);
    char got[sizeof(order)] = { 0 };
    rd_buf(x, got, sizeof(order) - 1);
    assert_string_equal(got, order);
    sel(x, 0x20);
    assert_int_equal(rd_le(x, 4), 10000);

    char longname[80];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[79] = 0;
    assert_int_equal(fw_cfg_add_file(&x->f, longname, wait, 4), -1);
}

static void test_dma_read_with_select(void **state)
{
    struct fx *x = *state;
    static const char data[] = "0123456789abcdef";
    int key = fw_cfg_add_file(&x->f, "opt/test", data, 16);
    uint32_t ctl = (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ;
    assert_int_equal(dma(x, ctl, 10, BUF), 0);
    char got[17] = { 0 };
    phys_read_buf(&x->pm, BUF, got, 10);
    assert_string_equal(got, "0123456789");
    /* no select: continues at the current offset; past the end the buffer is zero-filled */
    uint8_t junk[16];
    memset(junk, 0xAA, sizeof(junk));
    phys_write_buf(&x->pm, BUF, junk, sizeof(junk));
    assert_int_equal(dma(x, FW_CFG_DMA_CTL_READ, 10, BUF), 0);
    uint8_t b[10];
    phys_read_buf(&x->pm, BUF, b, 10);
    assert_memory_equal(b, "abcdef\0\0\0\0", 10);
    /* and the port interface sees the same position: at the end */
    assert_int_equal(rd8(x), 0);
}

static void test_dma_skip(void **state)
{
    struct fx *x = *state;
    sel(x, FW_CFG_SIGNATURE);
    assert_int_equal(dma(x, FW_CFG_DMA_CTL_SKIP, 2, 0), 0);
    assert_int_equal(dma(x, FW_CFG_DMA_CTL_READ, 2, BUF), 0);
    char got[3] = { 0 };
    phys_read_buf(&x->pm, BUF, got, 2);
    assert_string_equal(got, "MU");
    /* skip with select, then the data port continues from there */
    assert_int_equal(dma(x, FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP, 3, 0), 0);
    assert_int_equal(rd8(x), 'U');
}

static void test_dma_errors(void **state)
{
    struct fx *x = *state;
    assert_int_equal(dma(x, 0x1234u << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 4, BUF),
                     FW_CFG_DMA_CTL_ERROR);
    assert_int_equal(dma(x, FW_CFG_ID << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 4, BUF),
                     FW_CFG_DMA_CTL_ERROR);
    /* a select alone succeeds, and the ID read by DMA reports both interfaces */
    assert_int_equal(dma(x, FW_CFG_ID << 16 | FW_CFG_DMA_CTL_SELECT, 0, 0), 0);
    assert_int_equal(dma(x, FW_CFG_DMA_CTL_READ, 4, BUF), 0);
    uint8_t id[4];
    phys_read_buf(&x->pm, BUF, id, 4);
    assert_int_equal(id[0], 3);
    /* the register resets after a transfer and reads back as the signature again */
    assert_int_equal(io_in(&x->io, 0x514, 1), 'Q');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_signature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_id_and_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_past_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_read_with_select, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_skip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
