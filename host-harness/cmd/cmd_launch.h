/* cmd_launch: what credscope-launch does once its command line is parsed (launch_main.c):
 * credentials read and checked, the guest resolved from --flavor, then one VM through
 * the hypervisor ops table, supervised until it exits. Every error is printed here or
 * in launch_main.c, once, as "credscope-launch: ...", naming the option or the file and
 * never a credential's value. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hypervisor/hypervisor.h"
#include "runner/image.h"

struct launch_cred {
	char *name;
	uint8_t *value;               /* cleared before it is freed: may be a secret */
	size_t len;
	enum cred_via via;
};

struct launch {
	const struct hypervisor_ops *ops;
	struct hv_config cfg;
	enum cred_via via;            /* for the credentials that follow on the command line */
	bool via_auto;
	const char *accel;            /* auto, kvm or tcg (QEMU) */
	const char *image_dir, *flavor;
	char *append;                 /* every --append, in order */
	bool dry_run;
	struct guest_image img;
	char *kernel, *cmdline, *dir;
	struct launch_cred *creds;
	size_t n_creds;
};

/* Prints "credscope-launch: MESSAGE" and returns -EINVAL. */
int launch_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* *LINE += " " WORDS. 0 or -ENOMEM. */
int launch_append(char **line, const char *words);

/* --set-credential=NAME:VALUE and --load-credential=NAME:PATH, with the current --via. */
int launch_set_credential(struct launch *l, const char *arg);
int launch_load_credential(struct launch *l, const char *arg);

/* --flavor fills what --kernel/--initrd/--image did not; a kernel is required. */
int launch_resolve_guest(struct launch *l);

/* --dry-run, or start and supervise the VM. Returns the process exit status. */
int launch_run(struct launch *l);

void launch_done(struct launch *l);
