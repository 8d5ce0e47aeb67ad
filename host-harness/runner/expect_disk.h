/* expect_disk: the expectations disk a guest finds by label (docs/report.md): a small ext4
 * image labelled "credscope" holding manifest.json at its root, built with
 * `mkfs.ext4 -d` (no loop mount, no root needed) inside the run's private directory.
 * The manifest holds digests and the per-run HMAC key, never credential values. */
#pragma once

#define EXPECT_DISK_LABEL "credscope"
#define EXPECT_DISK_AGENT "credscope"   /* the static agent at the disk's root (zero-install) */

/* Writes DIR/expect/manifest.json, builds DIR/expect.img from it and removes the JSON
 * file and DIR/expect again: the key is on disk only in the image. *image is malloc'd.
 * On failure *error (malloc'd) names the step and mkfs.ext4's own message, and what this
 * call created is removed again (a file already in the way is left alone). */
int expect_disk_create(const char *dir, const char *manifest_json, char **image, char **error);

/* The same with MANIFEST_JSON optional (NULL: no manifest.json, the guest reads the manifest
 * from fw_cfg) and AGENT, when given, copied to the disk's root as EXPECT_DISK_AGENT, mode
 * 0755: the zero-install route (runner/zero_install.h) runs it from there. The disk grows
 * by the agent's size. */
int expect_disk_create_with(const char *dir, const char *manifest_json, const char *agent, char **image, char **error);
