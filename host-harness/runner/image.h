/* image: one built guest image flavor (vm-images/out/FLAVOR): kernel, initrd, root
 * filesystem image and the kernel command line it boots with. Read from image.json when
 * present (see vm-images/README.md), else from the conventional file names. */
#pragma once
#include <stdbool.h>

/* The guest's architecture: image.json "arch" ("x86_64" when absent), a case's "arch". */
enum guest_arch { GUEST_ARCH_X86_64, GUEST_ARCH_AARCH64, GUEST_ARCH_OTHER };

struct guest_image {
	char *flavor;
	char *kernel, *initrd, *rootfs, *rootfs_format;
	char *vmlinux;              /* image.json "files": {"vmlinux"}: the kernel as an ELF with
	                               a PVH entry point (vm-images/pvh-kernel), when that file
	                               is there; else NULL */
	char *cmdline;
	unsigned systemd_version;   /* image.json "systemd": {"version": N}; 0: not known */
	enum guest_arch arch;       /* image.json "arch"; GUEST_ARCH_OTHER: a name this harness
	                               does not boot (arch_name says which) */
	char *arch_name;            /* image.json "arch" as written, or NULL (x86_64) */
	char *cases_as;             /* image.json "cases_as": the flavor whose "by_image" entries
	                               a case without one for this flavor takes (trixie-arm64:
	                               "trixie", the same systemd), or NULL */
};

/* Returns 0, -ENOENT when the flavor is not built (*why says what is missing), or -errno. */
int image_load(const char *image_dir, const char *flavor, struct guest_image *out, char **why);
void image_free(struct guest_image *img);
/* "x86_64", "aarch64"; NULL for GUEST_ARCH_OTHER. */
const char *guest_arch_name(enum guest_arch a);

/* A flavor is a plain directory name under the image directory: letters, digits, '.',
 * '_', '-', not starting with '.' or '-' (so never '/', "." or ".."). */
bool image_flavor_name_ok(const char *flavor);
/* The flavors IMAGE_DIR holds (subdirectories with a plain flavor name), sorted; *out is a
 * malloc'd NULL-terminated vector (free with image_flavors_free()). A missing directory
 * is an empty list. Returns the count or -errno. */
int image_list_flavors(const char *image_dir, char ***out);
void image_flavors_free(char **flavors);
