/* zero_install: the agent into a guest that has none installed (docs/your-own-guest.md,
 * "Zero-install").
 *
 * systemd 256+ has systemd-debug-generator read two kinds of system credentials
 * (docs/systemd-versions.md §8): systemd.extra-unit.NAME becomes the unit NAME and
 * systemd.unit-dropin.UNIT~NAME the drop-in NAME.conf of UNIT, both in the generator's early
 * directory, before PID 1 loads any unit. No [Install] section is applied there, so the
 * harness sends two credentials (SMBIOS binary, the only path every x86 machine but microvm
 * has for names this long): the agent's unit, and a drop-in by which sysinit.target wants
 * it. The unit mounts the agent disk (label credscope: the static agent at its root, and
 * manifest.json only with "expectations": "disk") privately, polling, without udev, and runs
 * `credscope report --to ...` from it. Both credentials are test data: they go into the
 * manifest like the case's own, so the report proves they arrived byte-exact.
 */
#pragma once

#define ZI_MIN_SYSTEMD 256u
#define ZI_UNIT "credscope-zero-install.service"
#define ZI_UNIT_CRED "systemd.extra-unit." ZI_UNIT
#define ZI_DROPIN_CRED "systemd.unit-dropin.sysinit.target~credscope-zero-install"
#define ZI_AGENT_ENV "CREDSCOPE_STATIC_AGENT"

/* The unit credential's value for a guest whose report goes to REPORT_TO ("vsock:2:5123",
 * "serial:NAME"), malloc'd (NULL: out of memory); the drop-in credential's value. */
char *zi_unit_text(const char *report_to);
extern const char zi_dropin_text[];

/* NULL when a guest with systemd VERSION (0: not known, nothing to refuse) reads the
 * credentials; else the reason and the route to take instead (malloc'd), naming WHERE
 * ("bookworm's image.json"). */
char *zi_refuse_version(unsigned version, const char *where);

/* The static agent the disk carries: $CREDSCOPE_STATIC_AGENT, else the one `make static`
 * builds beside this harness (DIR_OF_SELF/../static/x86_64/credscope). It must be a regular
 * ELF file without an interpreter (statically linked: the guest has none of its libraries).
 * 0 and *path (malloc'd), or -errno and *error naming the file and what is wrong. */
int zi_agent_path(const char *self_exe, char **path, char **error);
/* The same for an aarch64 guest: $CREDSCOPE_STATIC_AGENT_AARCH64, else
 * DIR_OF_SELF/../static/aarch64/credscope (make static cross-builds it). */
int zi_agent_path_aarch64(const char *self_exe, char **path, char **error);
