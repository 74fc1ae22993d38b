/* MC146818A real-time clock and CMOS NVRAM for the PC (ports 0x70-0x73, IRQ8).
 * Follows the Motorola MC146818A datasheet (register map, update cycle, interrupt flags,
 * periodic rate table for a 32.768 kHz time base) and the IBM PC/AT CMOS layout. */
#include "cmos_rtc.h"

#define TICK_HZ 32768u           /* the divider chain's input with DV2-0 = 010 */
#define NS_PER_S 1000000000ull
#define UIP_TICKS 8u             /* UIP rises 244 us (8 ticks) before an update */
#define ALARM_DONT_CARE 0xC0     /* alarm bytes 0xC0-0xFF match any value */
#define SECS_PER_DAY 86400

/* ---- Calendar arithmetic (proleptic Gregorian, days since 1970-01-01) ---------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Counts days through 400-year eras starting 0000-03-01, so February is the era's last month
 * and leap days need no special case. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                                   /* 0..399 */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* ---- Register formats: BCD or binary (DM), 12- or 24-hour ----------------------------------- */

static uint8_t to_reg(const struct cmos_rtc *r, int v)
{
    if (r->ram[RTC_REG_B] & RTC_B_DM)
        return (uint8_t)v;
    return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static int from_reg(const struct cmos_rtc *r, uint8_t v)
{
    if (r->ram[RTC_REG_B] & RTC_B_DM)
        return v;
    return (v >> 4) * 10 + (v & 0x0F);
}

static uint8_t hour_to_reg(const struct cmos_rtc *r, int h)
{
    if (r->ram[RTC_REG_B] & RTC_B_24H)
        return to_reg(r, h);
    int h12 = h % 12 ? h % 12 : 12; /* midnight is 12 AM, noon 12 PM */
    return (uint8_t)(to_reg(r, h12) | (h >= 12 ? 0x80 : 0));
}

static int hour_from_reg(const struct cmos_rtc *r, uint8_t v)
{
    if (r->ram[RTC_REG_B] & RTC_B_24H)
        return from_reg(r, v);
    return from_reg(r, v & 0x7F) % 12 + ((v & 0x80) ? 12 : 0);
}

static int is_time_reg(unsigned idx)
{
    return idx <= RTC_YEAR || idx == RTC_CENTURY;
}

static int is_alarm_reg(unsigned idx)
{
    return idx == RTC_SEC_ALARM || idx == RTC_MIN_ALARM || idx == RTC_HOUR_ALARM;
}

/* The value a time register shows for the time secs. */
static uint8_t time_reg_value(const struct cmos_rtc *r, unsigned idx, int64_t secs)
{
    int64_t days = floor_div(secs, SECS_PER_DAY);
    int sod = (int)(secs - days * SECS_PER_DAY);
    int64_t y;
    int m, d;
    switch (idx) {
    case RTC_SEC: return to_reg(r, sod % 60);
    case RTC_MIN: return to_reg(r, sod / 60 % 60);
    case RTC_HOUR: return hour_to_reg(r, sod / 3600);
    case RTC_DOW: {
        /* 1970-01-01 was a Thursday; the register counts 1 = Sunday .. 7 = Saturday. */
        int dow = (int)((days + 4) % 7 + 7) % 7;
        return to_reg(r, (dow + r->dow_adjust) % 7 + 1);
    }
    default: break;
    }
    civil_from_days(days, &y, &m, &d);
    switch (idx) {
    case RTC_DAY: return to_reg(r, d);
    case RTC_MONTH: return to_reg(r, m);
    case RTC_YEAR: return to_reg(r, (int)(((y % 100) + 100) % 100));
    case RTC_CENTURY: return to_reg(r, (int)(y / 100 % 100));
    default: return r->ram[idx];
    }
}

/* ---- The divider chain ---------------------------------------------------------------------- */

static int running(const struct cmos_rtc *r)
{
    return ((r->ram[RTC_REG_A] >> 4) & 7) == 2; /* DV2-0 = 010: 32.768 kHz, chain counting */
}

static int frozen(const struct cmos_rtc *r)
{
    return !running(r) || (r->ram[RTC_REG_B] & RTC_B_SET);
}

/* Chain count at guest time now (exact: 1e9/32768 = 1953125/64 ns per tick). */
static uint64_t ticks_at(const struct cmos_rtc *r, uint64_t now)
{
    if (now < r->chain_ns)
        return r->chain_tick0;
    uint64_t dt = now - r->chain_ns;
    return r->chain_tick0 + dt / NS_PER_S * TICK_HZ + (dt % NS_PER_S) * 64 / 1953125;
}

/* The first guest time at which the count is k (rounded up, so ticks_at() of it is k). */
static uint64_t time_of_tick(const struct cmos_rtc *r, uint64_t k)
{
    uint64_t dk = k - r->chain_tick0;
    return r->chain_ns + dk / TICK_HZ * NS_PER_S + ((dk % TICK_HZ) * 1953125 + 63) / 64;
}

/* Periodic interrupt period in ticks for rate select bits RS3-0 (0 = off). The datasheet's
 * table for a 32.768 kHz base: rates 3-15 give 2^(r-1) ticks (122.07 us .. 500 ms); rates 1 and
 * 2 repeat rates 8 and 9 (3.90625 ms, 7.8125 ms). */
static uint64_t period_ticks(unsigned rate)
{
    if (rate == 0)
        return 0;
    if (rate < 3)
        rate += 7;
    return 1ull << (rate - 1);
}

static int64_t secs_now(const struct cmos_rtc *r, uint64_t tick)
{
    return r->base_secs + (int64_t)(tick / TICK_HZ - r->base_upd);
}

/* Running -> frozen: the time registers take the current time (in the current format). */
static void materialize(struct cmos_rtc *r)
{
    int64_t secs = secs_now(r, ticks_at(r, clock_now(r->vc)));
    static const uint8_t regs[] = { RTC_SEC, RTC_MIN, RTC_HOUR, RTC_DOW, RTC_DAY,
                                    RTC_MONTH, RTC_YEAR, RTC_CENTURY };
    for (unsigned i = 0; i < sizeof(regs); i++)
        r->ram[regs[i]] = time_reg_value(r, regs[i], secs);
}

/* Frozen -> running: the time registers as the guest left them become the time base, counted
 * from update number upd. Out-of-range fields are clamped rather than rejected: the datasheet
 * leaves their behaviour undefined. */
static void parse_time_regs(struct cmos_rtc *r, uint64_t upd)
{
    int sec = from_reg(r, r->ram[RTC_SEC]) % 60;
    int min = from_reg(r, r->ram[RTC_MIN]) % 60;
    int hour = hour_from_reg(r, r->ram[RTC_HOUR]) % 24;
    int day = from_reg(r, r->ram[RTC_DAY]);
    int mon = from_reg(r, r->ram[RTC_MONTH]);
    int year = from_reg(r, r->ram[RTC_YEAR]) % 100 + from_reg(r, r->ram[RTC_CENTURY]) % 100 * 100;
    if (mon < 1 || mon > 12)
        mon = 1;
    if (day < 1 || day > 31)
        day = 1;
    int64_t days = days_from_civil(year, mon, day);
    r->base_secs = days * SECS_PER_DAY + hour * 3600 + min * 60 + sec;
    r->base_upd = upd;
    /* DSE and the day of week: the chip increments the day-of-week register on its own, so keep
     * whatever offset the guest chose relative to the date. */
    int dow_date = (int)((days + 4) % 7 + 7) % 7;
    int dow_guest = (from_reg(r, r->ram[RTC_DOW]) + 6) % 7;
    r->dow_adjust = ((dow_guest - dow_date) % 7 + 7) % 7;
}

/* ---- Interrupt flags --------------------------------------------------------------------------- */

static int alarm_field_matches(uint8_t alarm, uint8_t now)
{
    return (alarm & ALARM_DONT_CARE) == ALARM_DONT_CARE || alarm == now;
}

static int alarm_matches(const struct cmos_rtc *r, int64_t secs)
{
    int64_t sod = secs - floor_div(secs, SECS_PER_DAY) * SECS_PER_DAY;
    return alarm_field_matches(r->ram[RTC_SEC_ALARM], to_reg(r, (int)(sod % 60))) &&
           alarm_field_matches(r->ram[RTC_MIN_ALARM], to_reg(r, (int)(sod / 60 % 60))) &&
           alarm_field_matches(r->ram[RTC_HOUR_ALARM], hour_to_reg(r, (int)(sod / 3600)));
}

static void update_irq(struct cmos_rtc *r)
{
    uint8_t c = r->ram[RTC_REG_C] & (RTC_C_PF | RTC_C_AF | RTC_C_UF);
    /* IRQF is the OR of each flag with its enable bit (PF.PIE + AF.AIE + UF.UIE). */
    if (c & r->ram[RTC_REG_B] & (RTC_B_PIE | RTC_B_AIE | RTC_B_UIE))
        c |= RTC_C_IRQF;
    r->ram[RTC_REG_C] = c;
    int level = !!(c & RTC_C_IRQF);
    if (level != r->irq_level) {
        r->irq_level = level;
        irq_set(&r->irq, level);
    }
}

/* Brings register C up to guest time now. The flags are set whatever the enable bits say
 * (datasheet), computed here from elapsed ticks instead of by a timer per tick. */
static void sync(struct cmos_rtc *r)
{
    if (running(r)) {
        uint64_t cur = ticks_at(r, clock_now(r->vc));
        uint64_t last = r->eval_tick;
        if (cur > last) {
            uint64_t p = period_ticks(r->ram[RTC_REG_A] & 0x0F);
            if (p && cur / p > last / p)
                r->ram[RTC_REG_C] |= RTC_C_PF;
            uint64_t u1 = cur / TICK_HZ, u0 = last / TICK_HZ;
            if (!(r->ram[RTC_REG_B] & RTC_B_SET) && u1 > u0) {
                r->ram[RTC_REG_C] |= RTC_C_UF;
                /* Any alarm pattern that can match does so within a day of updates. */
                if (u1 - u0 > SECS_PER_DAY)
                    u0 = u1 - SECS_PER_DAY;
                for (uint64_t u = u1; u > u0 && !(r->ram[RTC_REG_C] & RTC_C_AF); u--)
                    if (alarm_matches(r, r->base_secs + (int64_t)(u - r->base_upd)))
                        r->ram[RTC_REG_C] |= RTC_C_AF;
            }
            r->eval_tick = cur;
        }
    }
    update_irq(r);
}

/* Arms the timer for the next event that would raise IRQ8; none while IRQ8 is already high (a
 * new edge needs register C read first, which re-arms) or nothing is enabled. */
static void rearm(struct cmos_rtc *r)
{
    uint8_t b = r->ram[RTC_REG_B];
    uint64_t next = UINT64_MAX;
    if (!r->irq_level && running(r)) {
        uint64_t cur = r->eval_tick;
        uint64_t p = period_ticks(r->ram[RTC_REG_A] & 0x0F);
        if ((b & RTC_B_PIE) && p)
            next = (cur / p + 1) * p;
        if ((b & (RTC_B_UIE | RTC_B_AIE)) && !(b & RTC_B_SET)) {
            uint64_t u = (cur / TICK_HZ + 1) * TICK_HZ;
            if (u < next)
                next = u;
        }
    }
    if (next == UINT64_MAX)
        timer_disarm(&r->timer);
    else
        timer_arm(&r->timer, time_of_tick(r, next));
}

static void rtc_timer_fire(void *opaque, uint64_t now)
{
    (void)now;
    struct cmos_rtc *r = opaque;
    sync(r);
    rearm(r);
}

/* ---- Register access ---------------------------------------------------------------------------- */

static uint8_t reg_read(struct cmos_rtc *r, unsigned idx, int clear_c)
{
    if (idx >= 0x80)
        return r->ram[idx];
    sync(r);
    if (is_time_reg(idx) && !is_alarm_reg(idx) && !frozen(r))
        return time_reg_value(r, idx, secs_now(r, r->eval_tick));
    switch (idx) {
    case RTC_REG_A: {
        uint8_t a = r->ram[RTC_REG_A] & 0x7F;
        if (running(r) && !(r->ram[RTC_REG_B] & RTC_B_SET) &&
            r->eval_tick % TICK_HZ >= TICK_HZ - UIP_TICKS)
            a |= RTC_A_UIP;
        return a;
    }
    case RTC_REG_C: {
        uint8_t c = r->ram[RTC_REG_C];
        if (clear_c) {
            r->ram[RTC_REG_C] = 0;
            update_irq(r);
            rearm(r);
        }
        return c;
    }
    case RTC_REG_D:
        return RTC_D_VRT; /* the battery is always good */
    default:
        return r->ram[idx];
    }
}

static void reg_write(struct cmos_rtc *r, unsigned idx, uint8_t val)
{
    if (idx >= 0x80) {
        r->ram[idx] = val;
        return;
    }
    sync(r);
    if (is_time_reg(idx) && !is_alarm_reg(idx)) {
        if (frozen(r)) {
            r->ram[idx] = val;
        } else {
            /* Allowed without SET: rebase the running time on the edited registers, keeping the
             * divider phase so the next update comes when it would have. */
            materialize(r);
            r->ram[idx] = val;
            parse_time_regs(r, r->eval_tick / TICK_HZ);
        }
        return;
    }
    switch (idx) {
    case RTC_REG_A: {
        int was_running = running(r);
        int will_run = ((val >> 4) & 7) == 2;
        if (was_running && !will_run && !(r->ram[RTC_REG_B] & RTC_B_SET))
            materialize(r); /* the divider stops: the registers hold the time */
        r->ram[RTC_REG_A] = val & 0x7F; /* UIP is read-only */
        if (will_run && !was_running) {
            /* Divider reset released: the first update comes half a second later. */
            r->chain_ns = clock_now(r->vc);
            r->chain_tick0 = TICK_HZ / 2;
            r->eval_tick = r->chain_tick0;
            if (!(r->ram[RTC_REG_B] & RTC_B_SET))
                parse_time_regs(r, 0);
        }
        break;
    }
    case RTC_REG_B: {
        int was_frozen = frozen(r);
        if (val & RTC_B_SET)
            val &= (uint8_t)~RTC_B_UIE; /* "the SET bit going high clears the UIE bit" */
        if (!was_frozen && (val & RTC_B_SET))
            materialize(r); /* in the format in force until now */
        r->ram[RTC_REG_B] = val;
        if (was_frozen && !frozen(r))
            parse_time_regs(r, r->eval_tick / TICK_HZ);
        update_irq(r);
        break;
    }
    case RTC_REG_C:
    case RTC_REG_D:
        return; /* read-only */
    default:
        r->ram[idx] = val;
        return;
    }
    rearm(r);
}

static uint32_t rtc_in(void *opaque, uint16_t port, int size)
{
    (void)size;
    struct cmos_rtc *r = opaque;
    switch (port & 3) {
    case 1: return reg_read(r, r->index, 1);
    case 3: return reg_read(r, 0x80u | r->index2, 1);
    default: return 0xFF; /* the index registers are write-only */
    }
}

static void rtc_out(void *opaque, uint16_t port, int size, uint32_t val)
{
    (void)size;
    struct cmos_rtc *r = opaque;
    switch (port & 3) {
    case 0:
        r->index = val & 0x7F;
        r->nmi_masked = (val >> 7) & 1;
        break;
    case 1: reg_write(r, r->index, (uint8_t)val); break;
    case 2: r->index2 = val & 0x7F; break;
    case 3: reg_write(r, 0x80u | r->index2, (uint8_t)val); break;
    }
}

int cmos_rtc_init(struct cmos_rtc *r, struct ioports *io, struct vclock *vc, struct irq_line irq8,
                  int64_t host_time)
{
    *r = (struct cmos_rtc){ .vc = vc, .irq = irq8 };
    /* What a BIOS leaves: 32.768 kHz, 1024 Hz periodic rate; 24-hour BCD; no interrupts. */
    r->ram[RTC_REG_A] = 0x26;
    r->ram[RTC_REG_B] = RTC_B_24H;
    r->chain_ns = clock_now(vc);
    r->chain_tick0 = 0;
    r->eval_tick = 0;
    r->base_secs = host_time;
    r->base_upd = 0;
    if (clock_add_timer(vc, &r->timer, rtc_timer_fire, r))
        return -1;
    struct io_handler h = { rtc_in, rtc_out, r, 0 };
    return ioports_register(io, 0x70, 4, &h);
}

int cmos_rtc_nmi_masked(const struct cmos_rtc *r)
{
    return r->nmi_masked;
}

void cmos_rtc_set_byte(struct cmos_rtc *r, unsigned idx, uint8_t val)
{
    reg_write(r, idx & 0xFF, val);
}

uint8_t cmos_rtc_get_byte(struct cmos_rtc *r, unsigned idx)
{
    return reg_read(r, idx & 0xFF, 0);
}

void cmos_rtc_update_checksum(struct cmos_rtc *r)
{
    unsigned sum = 0;
    for (unsigned i = 0x10; i <= 0x2D; i++)
        sum += r->ram[i];
    r->ram[0x2E] = (uint8_t)(sum >> 8);
    r->ram[0x2F] = (uint8_t)sum;
}

void cmos_rtc_set_memory_size(struct cmos_rtc *r, uint64_t ram_bytes)
{
    const uint64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;
    uint64_t low = ram_bytes < 4 * GiB ? ram_bytes : 4 * GiB;
    uint64_t high = ram_bytes - low;

    r->ram[0x10] = 0;    /* no floppy drives */
    r->ram[0x12] = 0;    /* no hard disk of a standard type */
    r->ram[0x14] = 0x02; /* equipment: FPU present, EGA/VGA (00), no floppy */

    uint64_t base_kb = low >= 640 * KiB ? 640 : low / KiB;
    r->ram[0x15] = (uint8_t)base_kb;
    r->ram[0x16] = (uint8_t)(base_kb >> 8);

    /* Extended memory above 1 MiB in KiB; the 16-bit field caps at 0xFFFF (just under 64 MiB). */
    uint64_t ext_kb = low > MiB ? (low - MiB) / KiB : 0;
    if (ext_kb > 0xFFFF)
        ext_kb = 0xFFFF;
    r->ram[0x17] = r->ram[0x30] = (uint8_t)ext_kb;
    r->ram[0x18] = r->ram[0x31] = (uint8_t)(ext_kb >> 8);

    /* Memory above 16 MiB in 64 KiB units, where SeaBIOS looks for RAM beyond 64 MiB. */
    uint64_t above16 = low > 16 * MiB ? (low - 16 * MiB) / (64 * KiB) : 0;
    if (above16 > 0xFFFF)
        above16 = 0xFFFF;
    r->ram[0x34] = (uint8_t)above16;
    r->ram[0x35] = (uint8_t)(above16 >> 8);

    /* Memory above 4 GiB in 64 KiB units, 24 bits. */
    uint64_t above4g = high / (64 * KiB);
    if (above4g > 0xFFFFFF)
        above4g = 0xFFFFFF;
    r->ram[0x5B] = (uint8_t)above4g;
    r->ram[0x5C] = (uint8_t)(above4g >> 8);
    r->ram[0x5D] = (uint8_t)(above4g >> 16);

    cmos_rtc_update_checksum(r);
}
