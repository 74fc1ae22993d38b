/* Direct kernel boot (QEMU's -kernel): the Linux/x86 boot protocol's 32-bit entry for bzImage,
 * and Multiboot v1 for ELF kernels with modules. The machine is set up as each protocol says and
 * the CPU starts at the kernel's entry point, no firmware involved. */
#ifndef JITPC_DEVICES_KERNEL_BOOT_H
#define JITPC_DEVICES_KERNEL_BOOT_H

#include <stddef.h>
#include <stdint.h>

struct machine;

struct boot_file {
    const uint8_t *data;
    size_t size;
    const char *args; /* Multiboot module string (its command line); NULL for none */
};

/* True when the image carries the Linux boot protocol's "HdrS" header. */
int linux_is_bzimage(const uint8_t *k, size_t len);
/* Loads a bzImage with an optional initrd (initrd.data may be NULL) and a command line. Returns 0,
 * or -1 with a message in err. */
int linux_boot(struct machine *m, const uint8_t *k, size_t len, const struct boot_file *initrd,
               const char *cmdline, char *err, size_t errlen);

/* True when a Multiboot v1 header sits in the image's first 8 KiB. */
int multiboot_detect(const uint8_t *k, size_t len);
/* Loads a Multiboot v1 kernel (ELF, or the header's address fields), its modules and command
 * line, builds the Multiboot information structure and enters the kernel. */
int multiboot_boot(struct machine *m, const uint8_t *k, size_t len, const struct boot_file *mods, int nmods,
                   const char *cmdline, char *err, size_t errlen);

#endif
