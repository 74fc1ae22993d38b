# jitpc build. `make` builds build/jitpc; `make test` builds and runs every test and ends with
# "N passed, N failed"; `make SAN=1 test` does the same under ASan and UBSan in build-san/.
# `make deps` installs the Debian packages the build needs (sudo only when not root).

CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif
NASM ?= nasm
SSTS_DIR ?= ../shared/ssts

ifeq ($(SAN),1)
BUILD ?= build-san
OPT := -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
BUILD ?= build
OPT := -O2
endif

CAPSTONE_CFLAGS := $(shell pkg-config --cflags capstone 2>/dev/null)
CAPSTONE_LIBS := $(shell pkg-config --libs capstone 2>/dev/null || echo -lcapstone)
CFLAGS := -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -MMD -MP $(CAPSTONE_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(OPT) $(EXTRA_LDFLAGS)
LIBS := $(CAPSTONE_LIBS) -lpthread

# Everything but the command's main() goes into one library that the tests link too.
LIB_SRCS := $(wildcard cpu/*.c mem/*.c devices/*.c jit/*.c) $(filter-out frontend/main.c,$(wildcard frontend/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libjitpc.a

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
GUEST_SRCS := $(wildcard tests/guest/*.asm)
GUEST_BINS := $(GUEST_SRCS:tests/guest/%.asm=$(BUILD)/guest/%.bin)
BOOT_SRCS := $(wildcard tests/boot/*.asm)
BOOT_BINS := $(BOOT_SRCS:tests/boot/%.asm=$(BUILD)/boot/%.bin)
ROM_SRCS := $(wildcard roms/*.asm)
ROM_BINS := $(ROM_SRCS:roms/%.asm=$(BUILD)/roms/%.bin)
TOOL_MAINS := tests/sst/sst_run.c tests/oracle/oracle_run.c tests/bench/bench_mips.c
TOOLS := $(foreach t,$(wildcard $(TOOL_MAINS)),$(BUILD)/tests/$(basename $(notdir $(t))))

GUEST_CACHE ?= guest-cache
.PHONY: all test sst oracle bench bench-boot bench-workloads deps run demo guest clean
all: $(BUILD)/jitpc $(ROM_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/jitpc: $(BUILD)/frontend/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LIBS) -lcmocka -lz

$(BUILD)/tests/sst_run: $(BUILD)/tests/sst/sst_run.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lz

$(BUILD)/tests/oracle_run: $(BUILD)/tests/oracle/oracle_run.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/bench_mips: $(BUILD)/tests/bench/bench_mips.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/guest/%.bin: tests/guest/%.asm tests/guest/lib.inc tests/guest/pm.inc
	@mkdir -p $(dir $@)
	$(NASM) -f bin -I tests/guest/ -o $@ $<

$(BUILD)/boot/%.bin: tests/boot/%.asm
	@mkdir -p $(dir $@)
	$(NASM) -f bin -o $@ $<

$(BUILD)/bench/%.bin: tests/bench/%.asm tests/guest/lib.inc
	@mkdir -p $(dir $@)
	$(NASM) -f bin -I tests/guest/ -o $@ $<

$(BUILD)/roms/%.bin: roms/%.asm
	@mkdir -p $(dir $@)
	$(NASM) -f bin -I roms/ -I tests/guest/ -o $@ $<

test: $(BUILD)/jitpc $(UNIT_BINS) $(GUEST_BINS) $(BOOT_BINS) $(ROM_BINS) $(TOOLS)
	@BUILD=$(BUILD) SSTS_DIR=$(SSTS_DIR) SAN=$(SAN) GUEST_CACHE=$(GUEST_CACHE) sh tests/run_all.sh

sst: $(BUILD)/tests/sst_run
	$(BUILD)/tests/sst_run $(SSTS_DIR)

oracle: $(BUILD)/tests/oracle_run
	$(BUILD)/tests/oracle_run

# Guest MIPS on a plain integer loop, then on a paging-heavy loop with its TLB hit rate.
$(BUILD)/tests/bench_paging: $(BUILD)/tests/bench/bench_paging.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

bench: $(BUILD)/tests/bench_mips $(BUILD)/tests/bench_paging $(BUILD)/bench/mips_loop.bin $(BUILD)/bench/paging_loop.bin
	$(BUILD)/tests/bench_mips $(BUILD)/bench/mips_loop.bin
	$(BUILD)/tests/bench_paging $(BUILD)/bench/paging_loop.bin 100000000

# Against QEMU's TCG on the Debian guest (needs qemu-system-x86; the scripts' -h lists options,
# BENCH_ARGS passes them): the boot to init, and in-guest workloads timed with /proc/uptime.
bench-boot: all guest
	sh tests/bench/boot_vs_qemu.sh -j $(BUILD)/jitpc -c $(GUEST_CACHE) $(BENCH_ARGS)
bench-workloads: all guest
	sh tests/bench/workloads_vs_qemu.sh -j $(BUILD)/jitpc -c $(GUEST_CACHE) $(BENCH_ARGS)

deps:
	@sh .ci/install-deps.sh

# Debian's i386 kernel and busybox, fetched into $(GUEST_CACHE) (boots once the PC platform lands).
guest: deps
	sh roms/fetch-guest.sh $(GUEST_CACHE)

# Boots Debian's kernel to a busybox shell on this terminal: Ctrl-A X quits, `poweroff` ends it.
run: deps all guest
	$(BUILD)/jitpc -m 256 --kernel $(GUEST_CACHE)/vmlinuz --initrd $(GUEST_CACHE)/initrd.gz --append "console=ttyS0"

# The first program jitpc ran: a flat binary at the reset vector printing to the debug console.
demo: all
	$(BUILD)/jitpc --bios $(BUILD)/roms/demo.bin

clean:
	rm -rf build build-san

-include $(LIB_OBJS:.o=.d) $(BUILD)/frontend/main.d $(wildcard $(BUILD)/tests/*/*.d)
