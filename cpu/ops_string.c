/* String instructions MOVS CMPS STOS LODS SCAS INS OUTS and their REP/REPE/REPNE prefixes.
 * Intel SDM Vol. 2 instruction pages and the REP page; Vol. 1 §7.3.9 (string operations, and
 * §7.3.9.1: repeated string operations are interruptible and restartable between iterations). */
#include <string.h>

#include "interp.h"

/* Iterations one call may perform before it rewinds EIP to re-execute the instruction, so that
 * interrupts, stop requests and the caller's instruction budget are seen during long repeats. */
#define STRING_CHUNK 4096u

/* The index and count registers are 16- or 32-bit by the address size: with 16-bit addressing
 * only SI, DI and CX change (wrapping within 16 bits) and the upper halves are left alone. */
static uint32_t areg_get(const struct cpu *c, const struct insn *in, int r)
{
    return in->addr32 ? c->r[r] : c->r[r] & 0xFFFF;
}

static void areg_add(struct cpu *c, const struct insn *in, int r, uint32_t delta)
{
    if (in->addr32)
        c->r[r] += delta;
    else
        c->r[r] = (c->r[r] & 0xFFFF0000u) | ((c->r[r] + delta) & 0xFFFF);
}

/* The step (E)SI and (E)DI move by: backwards when DF is set. */
static uint32_t step_of(const struct cpu *c, int size)
{
    return (c->eflags & F_DF) ? (uint32_t)-size : (uint32_t)size;
}

/* DS:(E)SI honours a segment override; ES:(E)DI never does. */
static int src_seg(const struct insn *in)
{
    return in->seg != S_NONE ? in->seg : S_DS;
}

static int elem_size(const struct insn *in)
{
    return (in->op & 1) ? in->opsize : 1;
}

/* One iteration of each instruction, without the count. */
typedef void (*string_body)(struct cpu *c, const struct insn *in, int size);

static void movs_body(struct cpu *c, const struct insn *in, int size)
{
    uint32_t v = mem_read(c, src_seg(in), areg_get(c, in, R_ESI), size);
    mem_write(c, S_ES, areg_get(c, in, R_EDI), size, v);
    areg_add(c, in, R_ESI, step_of(c, size));
    areg_add(c, in, R_EDI, step_of(c, size));
}

/* CMPS subtracts the ES:(E)DI operand from the DS:(E)SI one (SDM CMPS page). */
static void cmps_body(struct cpu *c, const struct insn *in, int size)
{
    uint32_t a = mem_read(c, src_seg(in), areg_get(c, in, R_ESI), size);
    uint32_t b = mem_read(c, S_ES, areg_get(c, in, R_EDI), size);
    alu_sub(c, a, b, 0, size);
    areg_add(c, in, R_ESI, step_of(c, size));
    areg_add(c, in, R_EDI, step_of(c, size));
}

static void stos_body(struct cpu *c, const struct insn *in, int size)
{
    mem_write(c, S_ES, areg_get(c, in, R_EDI), size, reg_get(c, R_EAX, size));
    areg_add(c, in, R_EDI, step_of(c, size));
}

static void lods_body(struct cpu *c, const struct insn *in, int size)
{
    reg_set(c, R_EAX, size, mem_read(c, src_seg(in), areg_get(c, in, R_ESI), size));
    areg_add(c, in, R_ESI, step_of(c, size));
}

static void scas_body(struct cpu *c, const struct insn *in, int size)
{
    uint32_t b = mem_read(c, S_ES, areg_get(c, in, R_EDI), size);
    alu_sub(c, reg_get(c, R_EAX, size), b, 0, size);
    areg_add(c, in, R_EDI, step_of(c, size));
}

/* The destination is checked before the port is read: a port read can have side effects (a FIFO
 * pops), so a store that faults must not have consumed it; the restart reads the port again. */
static void ins_body(struct cpu *c, const struct insn *in, int size)
{
    uint16_t port = (uint16_t)c->r[R_EDX];
    uint32_t di = areg_get(c, in, R_EDI);
    io_permission(c, port, size);
    mem_check_write(c, S_ES, di, size);
    mem_write(c, S_ES, di, size, io_in(c->io, port, size));
    areg_add(c, in, R_EDI, step_of(c, size));
}

static void outs_body(struct cpu *c, const struct insn *in, int size)
{
    uint16_t port = (uint16_t)c->r[R_EDX];
    io_permission(c, port, size);
    uint32_t v = mem_read(c, src_seg(in), areg_get(c, in, R_ESI), size);
    io_out(c->io, port, size, v);
    areg_add(c, in, R_ESI, step_of(c, size));
}

/* ---- Bulk iterations of REP MOVS and REP STOS ----
 * After an iteration has run the ordinary way (every check made, so the segments' types are
 * right for the access), the following ones that stay inside the same source and destination
 * pages, inside expand-up segment limits, on pages the TLB already maps as plain RAM (a read
 * tag, or a write tag without TLB_SLOW: writable, dirty, no translated code, no MMIO) are done
 * on the host bytes at once. Nothing they could do differently element by element: no fault is
 * possible there, no device sees the accesses, and no data breakpoint is armed (checked). The
 * bytes move in the guest's order: forwards or backwards one element at a time when source and
 * destination overlap, so the overlap patterns REP MOVS is used for (a byte fill) come out the
 * same. Returns how many elements it did (0: the next one goes the ordinary way). */

/* Elements of size bytes, at most max, from offset off in segment s on, stepping by step (+size
 * or -size), inside the segment's limit and inside the page of the first one; 0 for an
 * expand-down segment (left to the ordinary path). */
static uint32_t room(const struct cpu *c, int s, uint32_t off, int size, int32_t step, uint32_t max)
{
    const struct segreg *sr = &c->seg[s];
    if ((sr->ar & (AR_S | 0xC)) == (AR_S | 0x4))
        return 0;
    uint32_t lin = sr->base + off, in_page = lin & (PM_PAGE_SIZE - 1), n;
    if (step > 0) {
        if (off > sr->limit || sr->limit - off < (uint32_t)size - 1)
            return 0;
        uint64_t by_limit = ((uint64_t)sr->limit - off + 1) / (uint32_t)size;
        n = (PM_PAGE_SIZE - in_page) / (uint32_t)size;
        if (by_limit < n)
            n = (uint32_t)by_limit;
    } else {
        if (off > sr->limit || sr->limit - off < (uint32_t)size - 1 || in_page + (uint32_t)size > PM_PAGE_SIZE)
            return 0;
        n = in_page / (uint32_t)size + 1; /* down to the page's start */
        uint32_t by_wrap = off / (uint32_t)size + 1; /* offsets do not wrap below 0 */
        if (by_wrap < n)
            n = by_wrap;
    }
    return n < max ? n : max;
}

/* The host address of the guest bytes at lin when the TLB maps the page for this access as
 * plain RAM (exact tag match), else NULL. */
static uint8_t *host_of(struct cpu *c, uint32_t lin, int write)
{
    struct tlb_entry *e = &c->tlb.e[acc_cpl(c) == ACC_USER][tlb_index(lin)];
    uint32_t tag = write ? e->write : e->read;
    return tag == (lin & TLB_PAGE_MASK) ? (uint8_t *)(e->addend + lin) : NULL;
}

static uint32_t bulk(struct cpu *c, const struct insn *in, int movs, int size, uint32_t max)
{
    if (!in->addr32 || c->dbg_data)
        return 0;
    int32_t step = (int32_t)step_of(c, size);
    uint32_t di = c->r[R_EDI], si = c->r[R_ESI];
    uint32_t n = room(c, S_ES, di, size, step, max);
    if (movs && n)
        n = room(c, src_seg(in), si, size, step, n);
    if (!n)
        return 0;
    uint8_t *d = host_of(c, c->seg[S_ES].base + di, 1);
    const uint8_t *s = movs ? host_of(c, c->seg[src_seg(in)].base + si, 0) : NULL;
    if (!d || (movs && !s))
        return 0;
    size_t bytes = (size_t)n * (size_t)size;
    if (movs) {
        /* The lowest bytes either run touches, to test for overlap. */
        const uint8_t *slo = step > 0 ? s : s - bytes + (size_t)size;
        uint8_t *dlo = step > 0 ? d : d - bytes + (size_t)size;
        if (dlo + bytes <= slo || slo + bytes <= dlo) {
            memcpy(dlo, slo, bytes);
        } else {
            for (uint32_t i = 0; i < n; i++, d += step, s += step)
                memmove(d, s, (size_t)size);
        }
        c->r[R_ESI] = si + (uint32_t)step * n;
        c->tlb.hits += n;
    } else {
        uint32_t v = c->r[R_EAX];
        if (size == 1) {
            memset(step > 0 ? d : d - bytes + 1, (int)(v & 0xFF), bytes);
        } else {
            for (uint32_t i = 0; i < n; i++, d += step)
                memcpy(d, &v, (size_t)size);
        }
    }
    c->r[R_EDI] = di + (uint32_t)step * n;
    c->r[R_ECX] -= n;
    c->tlb.hits += n;
    return n;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* Whether an event should be let in between iterations: an interrupt the CPU would take now, an
 * NMI, or a stop request. */
static int event_pending(const struct cpu *c)
{
    return c->stop || c->nmi || (c->intr && (c->eflags & F_IF));
}

/* Runs body once, or under a REP prefix as the SDM REP page's loop does: nothing at all when the
 * count starts at zero, and after each iteration the count is decremented and, for CMPS/SCAS
 * (cond set), the ZF condition of REPE (F3) or REPNE (F2) tested. Each completed iteration is
 * committed, so a fault in a later one leaves the registers as they were after the last completed
 * one with EIP at the instruction, ready to resume. When the loop has to yield before the count
 * runs out (chunk limit, pending event, single-step trap after every iteration as TF demands, a
 * data breakpoint hit, which the SDM reports after the iteration that made the access) it
 * rewinds EIP so the next step re-executes the instruction. */
static void string_run(struct cpu *c, const struct insn *in, string_body body, int cond)
{
    int bulk_kind = body == movs_body ? 1 : body == stos_body ? 2 : 0;
    int size = elem_size(in);
    if (in->rep == REP_NONE) {
        body(c, in, size);
        return;
    }
    if (areg_get(c, in, R_ECX) == 0)
        return;
    int single_step = (c->eflags & F_TF) != 0;
    for (unsigned n = 1;; n++) {
        body(c, in, size);
        areg_add(c, in, R_ECX, (uint32_t)-1);
        cpu_commit_regs(c);
        if (areg_get(c, in, R_ECX) == 0)
            return;
        if (cond) {
            int zf = (c->eflags & F_ZF) != 0;
            if (in->rep == REP_F3 ? !zf : zf)
                return;
        }
        if (n >= STRING_CHUNK || single_step || c->dbg_pending || event_pending(c)) {
            c->eip = c->insn_eip;
            return;
        }
        if (bulk_kind) {
            /* At most ECX - 1 elements, so that the last one (and the return) goes the
             * ordinary way above, and one fewer than the chunk has left, so that the chunk
             * ends after the same iteration as element by element. */
            uint32_t k = bulk(c, in, bulk_kind == 1, size, min_u32(c->r[R_ECX] - 1, STRING_CHUNK - n - 1));
            if (k) {
                n += k;
                cpu_commit_regs(c);
            }
        }
    }
}

void op_movs(struct cpu *c, const struct insn *in) { string_run(c, in, movs_body, 0); }
void op_cmps(struct cpu *c, const struct insn *in) { string_run(c, in, cmps_body, 1); }
void op_stos(struct cpu *c, const struct insn *in) { string_run(c, in, stos_body, 0); }
void op_lods(struct cpu *c, const struct insn *in) { string_run(c, in, lods_body, 0); }
void op_scas(struct cpu *c, const struct insn *in) { string_run(c, in, scas_body, 1); }
void op_ins(struct cpu *c, const struct insn *in) { string_run(c, in, ins_body, 0); }
void op_outs(struct cpu *c, const struct insn *in) { string_run(c, in, outs_body, 0); }

/* ---- The quiet path (the JIT's handler calls, jit/dispatch.c) ----
 * The whole instruction at once, on the host bytes, when nothing in it can fault, reach a device
 * or end at an iteration boundary: 32-bit addressing, no data breakpoint armed, and every element
 * (one, or ECX of them under REP) inside pages mem_quiet_ptr hands over, so at most a page of
 * them, fewer than a chunk. The caller has checked that the step would be just this instruction
 * (no event, TF or debug state), so string_run too would do every iteration in this one step.
 * The elements go in the guest's order (overlapping MOVS, REPE/REPNE stopping early) unless a
 * block copy or fill cannot differ. Returns 0, with nothing changed, to decline. */
int string_step_quiet(struct cpu *c, const struct insn *in)
{
    unsigned op = in->op;
    if (!in->addr32 || c->dbg_data || op < 0xA4 || op > 0xAF || op == 0xA8 || op == 0xA9)
        return 0;
    enum { MOVS, CMPS, NONE, STOS, LODS, SCAS };
    int kind = (int)(op - 0xA4) >> 1, size = elem_size(in);
    uint32_t n = 1;
    if (in->rep != REP_NONE) {
        n = c->r[R_ECX];
        if (n > PM_PAGE_SIZE / (uint32_t)size)
            return 0;
    }
    int32_t step = (int32_t)step_of(c, size);
    uint32_t span = n ? (n - 1) * (uint32_t)size : 0; /* from the first element's offset to the last's */
    uint8_t *s = NULL, *d = NULL;                     /* the first element's host bytes */
    if (n && (kind == MOVS || kind == CMPS || kind == LODS)) {
        uint32_t si = c->r[R_ESI];
        if (step < 0 && si < span)
            return 0; /* the offsets would wrap below 0 */
        if (!(s = mem_quiet_ptr(c, src_seg(in), step > 0 ? si : si - span, span + (uint32_t)size, 0)))
            return 0;
        if (step < 0)
            s += span;
    }
    if (n && kind != LODS) {
        uint32_t di = c->r[R_EDI];
        if (step < 0 && di < span)
            return 0;
        if (!(d = mem_quiet_ptr(c, S_ES, step > 0 ? di : di - span, span + (uint32_t)size, kind == MOVS || kind == STOS)))
            return 0;
        if (step < 0)
            d += span;
    }
    uint32_t next = c->eip + in->len;
    c->insn_eip = c->eip;
    c->eip = code32(c) ? next : next & 0xFFFF;
    uint32_t done = 0;
    size_t bytes = (size_t)span + (size_t)size;
    uint8_t *dlo = d && step < 0 ? d - span : d;
    const uint8_t *slo = s && step < 0 ? s - span : s;
    if (n > 1 && kind == MOVS && (dlo + bytes <= slo || slo + bytes <= dlo)) {
        memcpy(dlo, slo, bytes); /* no overlap: the order cannot show */
        done = n;
    } else if (n > 1 && kind == STOS) {
        /* Only stores, so the order cannot show either. A value of one repeated byte is a
         * memset: Linux clears every new page with a REP STOSD of zero. */
        uint32_t v = c->r[R_EAX] & size_mask(size);
        if (v == (v & 0xFF) * (size_mask(size) / 0xFF)) {
            memset(dlo, (int)(v & 0xFF), bytes);
        } else {
            for (size_t k = 0; k < bytes; k += (size_t)size)
                memcpy(dlo + k, &v, (size_t)size);
        }
        done = n;
    }
    int cond = in->rep != REP_NONE && (kind == CMPS || kind == SCAS);
    while (done < n) {
        uint32_t a = 0, b = 0;
        switch (kind) {
        case MOVS:
            memmove(d, s, (size_t)size);
            break;
        case CMPS:
            memcpy(&a, s, (size_t)size);
            memcpy(&b, d, (size_t)size);
            alu_sub(c, a, b, 0, size);
            break;
        case STOS:
            a = c->r[R_EAX];
            memcpy(d, &a, (size_t)size);
            break;
        case LODS:
            memcpy(&a, s, (size_t)size);
            reg_set(c, R_EAX, size, a);
            break;
        default: /* SCAS */
            memcpy(&b, d, (size_t)size);
            alu_sub(c, reg_get(c, R_EAX, size), b, 0, size);
            break;
        }
        done++;
        if (s)
            s += step;
        if (d)
            d += step;
        if (cond && ((c->eflags & F_ZF) != 0) != (in->rep == REP_F3))
            break; /* REPE stops on ZF = 0, REPNE on ZF = 1 */
    }
    if (kind == MOVS || kind == CMPS || kind == LODS)
        c->r[R_ESI] += (uint32_t)step * done;
    if (kind != LODS)
        c->r[R_EDI] += (uint32_t)step * done;
    if (in->rep != REP_NONE)
        c->r[R_ECX] -= done;
    return 1;
}
