/* image: one built guest image flavor (vm-images/out/FLAVOR): kernel, initrd, root
 * filesystem image and the kernel command line it boots with. Read from image.json when
 * present (see vm-images/README.md), else from the conventional file names. */
#pragma once
#include <stdbool.h>

struct guest_image {
	char *flavor;
	char *kernel, *initrd, *rootfs, *rootfs_format;
	char *cmdline;
};

/* Returns 0, -ENOENT when the flavor is not built (*why says what is missing), or -errno. */
int image_load(const char *image_dir, const char *flavor, struct guest_image *out, char **why);
void image_free(struct guest_image *img);
