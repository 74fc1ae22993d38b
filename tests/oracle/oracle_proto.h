/* The pipe protocol between oracle_run (64-bit, the jitpc interpreter) and oracle_native (32-bit,
 * the host CPU): fixed addresses both sides use, the test-case and result records, and the data
 * page's deterministic filling. Compiled by both -m32 and -m64, so only 32-bit fields and no padding. */
#ifndef JITPC_TESTS_ORACLE_PROTO_H
#define JITPC_TESTS_ORACLE_PROTO_H

#include <stdint.h>
#include <string.h>

/* Linear addresses, identical on the host (mmap MAP_FIXED) and in the guest (flat segments). */
#define OC_DATA 0x00500000u       /* the 4 KiB data page every memory operand and stack lives in */
#define OC_PAGE 4096u
#define OC_CODE 0x00600000u       /* the native stub page */
#define OC_CTX 0x00601000u        /* the native stub's register save area */
#define OC_INSN (OC_CODE + 0x800) /* where the instruction under test starts */
#define OC_PAD_FWD (OC_INSN + 0x40)  /* branch landing pads: a taken branch ends at one of them */
#define OC_PAD_BACK (OC_INSN - 0x40)

#define OC_MAGIC 0x4F524331u /* "ORC1": the native helper's greeting */
#define OC_MAX_PATCH 4
#define OC_MAX_DIFF 512

/* One memory patch laid over the filled page: how the generator places chosen operand values. */
struct oc_patch {
    uint16_t off;
    uint8_t len; /* 0 = unused, else 1..8 */
    uint8_t pad;
    uint8_t bytes[8];
};

struct oc_case {
    uint32_t regs[8];   /* EAX ECX EDX EBX ESP EBP ESI EDI as the instruction sees them */
    uint32_t eflags;    /* arithmetic flags and DF; the helper cannot set system flags */
    uint32_t page_seed; /* the data page is oc_fill_page(page_seed), then the patches, then the copy */
    uint8_t code[16];
    uint8_t len;
    uint8_t npatch;
    uint16_t copy_len;  /* copy_len bytes from copy_src to copy_dst (equal runs for CMPS) */
    uint16_t copy_src, copy_dst;
    struct oc_patch patch[OC_MAX_PATCH];
};

struct oc_diff {
    uint16_t off;
    uint8_t val;
    uint8_t pad;
};

/* Followed on the pipe by ndiff struct oc_diff (bytes of the page that changed, in order). */
struct oc_result {
    uint32_t regs[8];
    uint32_t eflags;
    uint32_t eip;     /* where execution ended: a landing pad, or the faulting instruction */
    int32_t vector;   /* -1, or the exception vector (the kernel's trap number) */
    uint32_t err;     /* error code of #GP and friends */
    uint32_t ndiff;   /* OC_MAX_DIFF + 1: more bytes changed than a result carries */
};

/* The same layout under -m32 and -m64 (no 8-byte members, no tail padding). */
_Static_assert(sizeof(struct oc_case) == 112, "oc_case layout");
_Static_assert(sizeof(struct oc_result) == 52, "oc_result layout");

struct oc_hello {
    uint32_t magic;
    uint32_t ok;      /* the fixed mappings succeeded */
    uint16_t sel[6];  /* ES CS SS DS FS GS of the helper process, mirrored into the guest */
};

/* xorshift32: the same stream on both sides. */
static inline uint32_t oc_xs32(uint32_t *s)
{
    uint32_t x = *s ? *s : 0x9E3779B9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* The data page before the instruction: pseudo-random words, then patches and the copy. */
static inline void oc_build_page(const struct oc_case *k, uint8_t *page)
{
    uint32_t s = k->page_seed;
    for (uint32_t i = 0; i < OC_PAGE; i += 4) {
        uint32_t v = oc_xs32(&s);
        memcpy(page + i, &v, 4);
    }
    for (int i = 0; i < k->npatch && i < OC_MAX_PATCH; i++)
        if (k->patch[i].len && k->patch[i].off + k->patch[i].len <= OC_PAGE)
            memcpy(page + k->patch[i].off, k->patch[i].bytes, k->patch[i].len);
    if (k->copy_len && k->copy_src + k->copy_len <= OC_PAGE && k->copy_dst + k->copy_len <= OC_PAGE)
        memmove(page + k->copy_dst, page + k->copy_src, k->copy_len);
}

/* Lists the bytes that differ between before and after; returns their count, or OC_MAX_DIFF + 1
 * (with the first OC_MAX_DIFF listed) when there are more. */
static inline uint32_t oc_page_diff(const uint8_t *before, const uint8_t *after, struct oc_diff *out)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < OC_PAGE; i += 64) {
        if (!memcmp(before + i, after + i, 64))
            continue;
        for (uint32_t j = i; j < i + 64; j++) {
            if (before[j] == after[j])
                continue;
            if (n == OC_MAX_DIFF)
                return OC_MAX_DIFF + 1;
            out[n++] = (struct oc_diff){ (uint16_t)j, after[j], 0 };
        }
    }
    return n;
}

#endif
