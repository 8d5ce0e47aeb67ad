/* Unit tests for guest-agent/sources.c: what sources_load() finds below a root directory.
 * tests/fixtures/roots/sources-basic is a static root; the gate facts (container, CVM,
 * preset directory, import_credentials=no, Secure Boot) use small roots made in /tmp. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "credstore.h"
#include "snapshot.h"
#include "sources.h"
#include "systemd/import_creds.h"
#include "transport.h"
#include "temp_root.h"

#define BASIC "tests/fixtures/roots/sources-basic"

/* ---- temporary roots -------------------------------------------------------------------- */

static char *temp_root(void)
{
	char *t = strdup("/tmp/credscope-sources-XXXXXX");

	assert_non_null(t);
	assert_non_null(mkdtemp(t));
	puts_at(t, "/usr/lib/systemd/libsystemd-shared-257.13-1.so", "");
	return t;
}

static void remove_root(char *root)
{
	char *cmd;

	/* only our own mkdtemp() directory */
	assert_int_equal(strncmp(root, "/tmp/credscope-sources-", 23), 0);
	assert_true(asprintf(&cmd, "rm -rf '%s'", root) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(root);
}

static void load(const char *root, unsigned override, struct import_env *env, struct import_sources *s)
{
	assert_int_equal(sources_load(root, override, env, s, NULL), 0);
}

/* ---- the static fixture ------------------------------------------------------------------ */

static void test_fixture_root_yields_every_source_and_the_version(void **state)
{
	struct import_env env;
	struct import_sources s;

	load(BASIC, 0, &env, &s);
	assert_int_equal(env.systemd_version, 252);
	assert_true(env.version_detected);
	assert_int_equal(env.page_size, 4096);
	assert_true(env.dmi_sysfs_present);
	assert_true(env.fw_cfg_present);
	assert_false(env.in_container);
	assert_false(env.confidential_vm);
	assert_false(env.credentials_dir_preset);
	assert_false(env.import_disabled);
	assert_false(env.efi_secure_boot);

	assert_int_equal(s.n_smbios, 1);
	assert_string_equal(s.smbios[0].name, "11-0");
	assert_int_equal(s.smbios[0].len, 84);
	assert_int_equal(s.n_fw_cfg, 4);   /* sorted with strcmp, dot files kept for the explanation */
	assert_string_equal(s.fw_cfg[0].name, ".DOT");
	assert_string_equal(s.fw_cfg[1].name, "FOO");
	assert_string_equal(s.fw_cfg[2].name, "FW");
	assert_string_equal(s.fw_cfg[3].name, "ZED");
	assert_int_equal(s.fw_cfg[2].len, 9);
	assert_memory_equal(s.fw_cfg[2].data, "fw value\n", 9);
	assert_string_equal(s.cmdline, "BOOT_IMAGE=/vmlinuz root=/dev/vda1 systemd.set_credential=CMD:uff\n");
	assert_string_equal(s.efi_options, "systemd.set_credential=EFI:e\xc3\xa4");
	assert_int_equal(s.n_initrd, 1);
	assert_string_equal(s.initrd[0].name, "INITRD");
	sources_free(&s);
	assert_null(s.cmdline);
}

static void test_fixture_root_predicts_fw_cfg_over_smbios(void **state)
{
	struct import_env env;
	struct import_sources s;
	struct prediction p;
	const struct cred_candidate *c;

	load(BASIC, 0, &env, &s);
	assert_int_equal(predict_import(&s, &env, &p), 0);
	c = prediction_winner(&p, "FOO");
	assert_non_null(c);
	assert_int_equal(c->source, CRED_SOURCE_FW_CFG);
	assert_memory_equal(c->imported, "from fw_cfg", 11);
	assert_memory_equal(prediction_winner(&p, "BIN")->imported, "foo", 3);
	assert_memory_equal(prediction_winner(&p, "EFI")->imported, "e\xc3\xa4", 3);
	assert_memory_equal(prediction_winner(&p, "CMD")->imported, "uff", 3);
	assert_null(prediction_winner(&p, "INITRD"));   /* 252 has no @initrd import */
	assert_null(prediction_winner(&p, ".DOT"));     /* systemd reads the directory without dot files */
	prediction_free(&p);
	sources_free(&s);

	load(BASIC, 254, &env, &s);   /* the override replaces detection */
	assert_int_equal(env.systemd_version, 254);
	assert_false(env.version_detected);
	assert_int_equal(predict_import(&s, &env, &p), 0);
	assert_memory_equal(prediction_winner(&p, "INITRD")->imported, "from initrd", 11);
	prediction_free(&p);
	sources_free(&s);
}

/* ---- gate facts ---------------------------------------------------------------------------- */

static void test_empty_root_has_no_sources_and_no_dmi_sysfs(void **state)
{
	char *root = temp_root();
	struct import_env env;
	struct import_sources s;

	load(root, 0, &env, &s);
	assert_int_equal(env.systemd_version, 257);
	assert_false(env.dmi_sysfs_present);
	assert_false(env.fw_cfg_present);
	assert_int_equal(s.n_smbios + s.n_fw_cfg + s.n_initrd, 0);
	assert_null(s.cmdline);
	assert_null(s.efi_options);
	sources_free(&s);
	remove_root(root);
}

static void test_container_is_detected_from_run_and_from_pid1_environ(void **state)
{
	char *root = temp_root();
	struct import_env env;
	struct import_sources s;

	puts_at(root, "/run/systemd/container", "docker\n");
	put(root, "/proc/1/cmdline", "/sbin/init\0systemd.set_credential=A:b\0", 38);
	load(root, 0, &env, &s);
	assert_true(env.in_container);
	assert_string_equal(s.cmdline, "/sbin/init systemd.set_credential=A:b");   /* PID 1's argv */
	sources_free(&s);
	remove_root(root);

	root = temp_root();
	put(root, "/proc/1/environ", "TERM=vt220\0container=podman\0", 28);
	load(root, 0, &env, &s);
	assert_true(env.in_container);
	assert_false(env.credentials_dir_preset);
	sources_free(&s);
	remove_root(root);
}

static void test_preset_credentials_directory_is_read_from_pid1_environ(void **state)
{
	char *root = temp_root();
	struct import_env env;
	struct import_sources s;

	put(root, "/proc/1/environ", "CREDENTIALS_DIRECTORY=/run/credentials/@system/\0", 48);
	load(root, 0, &env, &s);
	assert_true(env.credentials_dir_preset);
	assert_true(env.credentials_dir_is_system);
	sources_free(&s);

	put(root, "/proc/1/environ", "CREDENTIALS_DIRECTORY=/run/host/credentials\0", 44);
	load(root, 0, &env, &s);
	assert_true(env.credentials_dir_preset);
	assert_false(env.credentials_dir_is_system);
	assert_false(env.pid1_switched_root);
	sources_free(&s);
	remove_root(root);
}

/* PID 1's argv after switch-root, as /proc/1/cmdline shows it on trixie-initrd (systemd
 * 257.13 re-executed by the initrd's systemd: do_reexecute() :2049-2054@257.13). */
static void test_switched_root_is_read_from_pid1_argv(void **state)
{
	char *root = temp_root();
	struct import_env env;
	struct import_sources s;

	put(root, "/proc/1/cmdline", "/sbin/init\0", 11);
	load(root, 0, &env, &s);
	assert_false(env.pid1_switched_root);
	sources_free(&s);

	put(root, "/proc/1/cmdline", "/usr/lib/systemd/systemd\0--switched-root\0--system\0--deserialize=44\0", 67);
	put(root, "/proc/1/environ", "CREDENTIALS_DIRECTORY=/run/credentials/@system\0", 47);
	load(root, 0, &env, &s);
	assert_true(env.pid1_switched_root);
	assert_true(import_env_initrd_pid1(&env));
	sources_free(&s);

	put(root, "/proc/1/cmdline", "/usr/lib/systemd/systemd\0--switched-rootX\0", 42);
	load(root, 0, &env, &s);
	assert_false(env.pid1_switched_root);
	sources_free(&s);
	remove_root(root);
}

static void test_cvm_flags_and_import_switch_and_secure_boot_are_read(void **state)
{
	char *root = temp_root();
	struct import_env env;
	struct import_sources s;
	static const uint8_t sb_on[] = { 6, 0, 0, 0, 1 };
	static const uint8_t opts[] = { 7, 0, 0, 0, 'q', 0 };

	/* upstream never reads /proc/cpuinfo: SEV flags there (a SEV-capable host) make no CVM, and
	 * under --root the CPU PID 1 ran on cannot be asked, which the note says */
	puts_at(root, "/proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu sev sev_es sev_snp\n");
	puts_at(root, "/proc/cmdline", "quiet systemd.import_credentials=no\n");
	put(root, "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c", sb_on, 5);
	put(root, "/sys/firmware/efi/efivars/SystemdOptions-8cf2644b-4b0b-428f-9387-6d876050dc67", opts, 6);
	load(root, 257, &env, &s);
	assert_false(env.confidential_vm);
	assert_string_equal(env.cvm_kind, "none");
	assert_string_equal(env.cvm_note, "CPUID of the machine PID 1 ran on cannot be read here (--root, or not "
			    "x86-64): assumed no confidential VM");
	assert_true(env.import_disabled);
	assert_true(env.efi_secure_boot);
	assert_string_equal(s.efi_options, "q");
	sources_free(&s);

	puts_at(root, "/proc/cmdline", "systemd.import_credentials=yes\n");
	load(root, 0, &env, &s);
	assert_false(env.import_disabled);
	sources_free(&s);
	remove_root(root);
}

/* ---- the kernel command line is read whole ------------------------------------------------ */

/* proc_cmdline(): read_virtual_file() (252.19+) / read_full_file() (254+) of the whole file,
 * split at WHITESPACE " \t\n\r": a newline is a separator, not the end. */
static void predict_root_cmdline(const char *cmdline, unsigned version, struct import_env *env,
				 struct import_sources *s, struct prediction *p)
{
	char *root = temp_root();

	puts_at(root, "/proc/cmdline", cmdline);
	load(root, version, env, s);
	assert_int_equal(predict_import(s, env, p), 0);
	remove_root(root);
}

static void test_cmdline_credential_after_a_newline_is_imported(void **state)
{
	struct import_env env;
	struct import_sources s;
	struct prediction p;
	const struct cred_candidate *c;

	for (unsigned v = 252; v <= 257; v += 5) {
		predict_root_cmdline("quiet\nsystemd.set_credential=AFTER:nl\rsystemd.set_credential=CR:x\n", v,
				     &env, &s, &p);
		c = prediction_winner(&p, "AFTER");
		assert_non_null(c);
		assert_int_equal(c->imported_len, 2);
		assert_memory_equal(c->imported, "nl", 2);
		assert_non_null(prediction_winner(&p, "CR"));
		prediction_free(&p);
		sources_free(&s);
	}
}

static void test_cmdline_unterminated_quote_keeps_the_final_newline(void **state)
{
	struct import_env env;
	struct import_sources s;
	struct prediction p;
	const struct cred_candidate *c;

	/* EXTRACT_RELAX: the open quote runs to the end of the input, the file's '\n' included */
	predict_root_cmdline("root=/dev/vda1 systemd.set_credential=Q:\"open value\n", 257, &env, &s, &p);
	c = prediction_winner(&p, "Q");
	assert_non_null(c);
	assert_int_equal(c->imported_len, 11);
	assert_memory_equal(c->imported, "open value\n", 11);
	prediction_free(&p);
	sources_free(&s);
}

static void test_import_credentials_no_after_a_newline_skips_the_import(void **state)
{
	struct import_env env;
	struct import_sources s;
	struct prediction p;

	predict_root_cmdline("systemd.set_credential=A:b\nsystemd.import_credentials=no\n", 257, &env, &s, &p);
	assert_true(env.import_disabled);
	assert_non_null(p.skip_reason);
	assert_null(prediction_winner(&p, "A"));
	prediction_free(&p);
	sources_free(&s);
}

/* ---- fw_cfg entries systemd skips ---------------------------------------------------------- */

#define FWC "/sys/firmware/qemu_fw_cfg/by_name/opt/io.systemd.credentials"

static void test_fw_cfg_directory_entry_is_skipped_with_systemds_warning(void **state)
{
	char *root = temp_root();
	struct import_env env;
	struct import_sources s;
	struct prediction p;
	const struct cred_candidate *c = NULL;

	/* opt/io.systemd.credentials/sub/X: the kernel makes `sub` a directory holding X */
	puts_at(root, FWC "/sub/X/raw", "x");
	puts_at(root, FWC "/sub/X/size", "1\n");
	puts_at(root, FWC "/FOO/raw", "foo");
	puts_at(root, FWC "/PLAIN", "not a directory");
	load(root, 257, &env, &s);
	assert_int_equal(s.n_fw_cfg, 3);
	assert_int_equal(predict_import(&s, &env, &p), 0);
	assert_memory_equal(prediction_winner(&p, "FOO")->imported, "foo", 3);
	for (size_t i = 0; i < p.n_cands; i++)
		if (p.cands[i].name && strcmp(p.cands[i].name, "sub") == 0)
			c = &p.cands[i];
	assert_non_null(c);
	assert_int_equal(c->fate, FATE_DROPPED_ENTRY_SKIPPED);
	assert_string_equal(cred_fate_name(c->fate), "entry-skipped");
	assert_string_equal(c->detail, "systemd skipped the entry: Failed to read "
			    "'/sys/firmware/qemu_fw_cfg/by_name/opt/io.systemd.credentials'/sub/size, ignoring: "
			    "No such file or directory");
	assert_null(prediction_winner(&p, "sub"));
	for (size_t i = 0; i < p.n_cands; i++)
		if (p.cands[i].name && strcmp(p.cands[i].name, "PLAIN") == 0)
			c = &p.cands[i];
	assert_int_equal(c->fate, FATE_DROPPED_ENTRY_SKIPPED);
	assert_string_equal(c->detail, "systemd skipped the entry: Failed to open "
			    "'/sys/firmware/qemu_fw_cfg/by_name/opt/io.systemd.credentials'/PLAIN/, ignoring: "
			    "Not a directory");
	prediction_free(&p);
	sources_free(&s);
	remove_root(root);
}

/* ---- a sized tmpfs store: pages, inodes, ENOSPC, the abort of the rest of the source ---------- */

#define TMPFS_STORE "35 24 0:31 / /run/credentials/@system ro,nosuid,nodev,noexec,relatime,nosymfollow " \
		    "- tmpfs tmpfs ro,size=1024k,nr_inodes=1024,mode=700,noswap\n"

/* One SMBIOS 11-0 entry with N text credentials C000..: "io.systemd.credential:C007=v". */
static void put_smbios_creds(const char *root, unsigned n, const char *value)
{
	size_t cap = 8 + (size_t) n * (40 + strlen(value)), len = 5;
	char *b = calloc(1, cap);

	assert_non_null(b);
	memcpy(b, "\x0b\x05\x00\x0e\x2c", 5);
	for (unsigned i = 0; i < n; i++)
		len += (size_t) sprintf(b + len, "io.systemd.credential:C%03u=%s", i, value) + 1;
	b[len++] = 0;
	put(root, "/sys/firmware/dmi/entries/11-0/raw", b, len);
	free(b);
}

static void snapshot_of(const char *root, unsigned version, struct snapshot *snap)
{
	struct cli_ctx ctx = { .root = root, .systemd_version = version };
	char *error = NULL;

	assert_int_equal(snapshot_load(&ctx, snap, &error), 0);
	assert_null(error);
}

static const struct cred_candidate *named(const struct prediction *p, enum cred_source src, const char *name)
{
	for (size_t i = 0; i < p->n_cands; i++)
		if (p->cands[i].source == src && p->cands[i].name && strcmp(p->cands[i].name, name) == 0)
			return &p->cands[i];
	fail_msg("no %s candidate %s", cred_source_name(src), name);
	return NULL;
}

/* trixie with 300 small SMBIOS credentials: each takes one 4 KiB page of the 1 MiB tmpfs, so
 * 256 arrive, the 257th fails with ENOSPC and systemd stops the SMBIOS source there. */
static void test_full_tmpfs_store_stops_smbios_after_256_pages(void **state)
{
	char *root = temp_root();
	struct snapshot snap;
	const struct cred_candidate *c;
	char rundir[512];

	put_smbios_creds(root, 300, "v");
	puts_at(root, "/proc/self/mountinfo", TMPFS_STORE);
	puts_at(root, "/proc/cmdline", "systemd.set_credential=EMPTY: systemd.set_credential=LATE:x\n");
	snprintf(rundir, sizeof rundir, "%s/run/credentials/@system", root);
	mkdir_parents(rundir);
	assert_int_equal(mkdir(rundir, 0700), 0);
	snapshot_of(root, 257, &snap);
	assert_true(snap.pred.env.store.observed);
	assert_int_equal(snap.pred.env.store.size_bytes, 1024 * 1024);
	assert_int_equal(snap.pred.env.store.inodes, 1024);
	assert_non_null(prediction_winner(&snap.pred, "C000"));
	assert_non_null(prediction_winner(&snap.pred, "C255"));
	c = named(&snap.pred, CRED_SOURCE_SMBIOS, "C256");
	assert_int_equal(c->fate, FATE_DROPPED_STORE_FULL);
	assert_string_equal(cred_fate_name(c->fate), "store-full");
	assert_string_equal(c->detail, "the credential store, a 1 MiB tmpfs, had 0 of 256 pages of 4096 bytes left "
			    "and this needs 1: systemd logged \"Failed to write credential: No space left on device\", "
			    "unlinked the file and stopped importing SMBIOS");
	c = named(&snap.pred, CRED_SOURCE_SMBIOS, "C299");
	assert_int_equal(c->fate, FATE_DROPPED_STORE_FULL);
	assert_string_equal(c->detail, "systemd stopped importing SMBIOS when C256 (SMBIOS 11-0 string 257 at byte "
			    "7429) failed with No space left on device: the credential store was full");
	/* the other sources still run: an empty credential needs no page and still fits; the
	 * next non-empty one fails the same way and stops the command line */
	assert_non_null(prediction_winner(&snap.pred, "EMPTY"));
	assert_int_equal(named(&snap.pred, CRED_SOURCE_CMDLINE, "LATE")->fate, FATE_DROPPED_STORE_FULL);
	assert_string_equal(snap.pred.store_full, "the credential store, a 1 MiB tmpfs, was full after 256 pages: "
			    "C256 and the 44 after it were dropped");
	size_t imported = 0;
	for (size_t i = 0; i < snap.pred.n_cands; i++)
		imported += snap.pred.cands[i].fate == FATE_IMPORTED;
	assert_int_equal(imported, 257);
	snapshot_free(&snap);
	remove_root(root);
}

/* The snapshot keeps one copy of a credential: a store file whose bytes are what the replay
 * says systemd wrote shares the prediction's buffer; a file that differs (or that nothing
 * predicts) keeps its own bytes, and each is still what is on disk. */
static void test_store_file_equal_to_its_prediction_shares_the_buffer(void **state)
{
	char *root = temp_root();
	struct snapshot snap;
	char rundir[512];

	put_smbios_creds(root, 3, "value");
	snprintf(rundir, sizeof rundir, "%s/run/credentials/@system", root);
	mkdir_parents(rundir);
	assert_int_equal(mkdir(rundir, 0700), 0);
	put(root, "/run/credentials/@system/C000", "value", 5);
	put(root, "/run/credentials/@system/C001", "valuE", 5);
	put(root, "/run/credentials/@system/EXTRA", "value", 5);
	snapshot_of(root, 257, &snap);
	const struct store_file *c0 = credstore_find(&snap.store, "C000"), *c1 = credstore_find(&snap.store, "C001"),
				*x = credstore_find(&snap.store, "EXTRA");
	assert_non_null(c0);
	assert_non_null(c1);
	assert_non_null(x);
	const struct cred_candidate *p0 = named(&snap.pred, CRED_SOURCE_SMBIOS, "C000"),
				    *p1 = named(&snap.pred, CRED_SOURCE_SMBIOS, "C001");
	assert_true(c0->shared);
	assert_ptr_equal(c0->data, p0->imported);
	assert_false(c1->shared);
	assert_ptr_not_equal(c1->data, p1->imported);
	assert_memory_equal(c1->data, "valuE", 5);
	assert_false(x->shared);
	assert_memory_equal(x->data, "value", 5);
	assert_null(credstore_find(&snap.store, "C002"));
	assert_true(snap.store.exists);
	snapshot_free(&snap);
	remove_root(root);
}

/* nr_inodes=1024 with the root directory's inode: 1023 empty files fit, the 1024th fails at
 * create. A ramfs store, or a version judged without an observed mount, has no such limit. */
static void test_tmpfs_inode_limit_and_ramfs_without_limit(void **state)
{
	char *root = temp_root();
	struct snapshot snap;
	char rundir[512];

	put_smbios_creds(root, 1100, "");
	puts_at(root, "/proc/self/mountinfo", TMPFS_STORE);
	snprintf(rundir, sizeof rundir, "%s/run/credentials/@system", root);
	mkdir_parents(rundir);
	assert_int_equal(mkdir(rundir, 0700), 0);
	snapshot_of(root, 257, &snap);
	assert_non_null(prediction_winner(&snap.pred, "C1022"));
	assert_null(prediction_winner(&snap.pred, "C1023"));
	assert_int_equal(named(&snap.pred, CRED_SOURCE_SMBIOS, "C1023")->fate, FATE_DROPPED_STORE_FULL);
	assert_string_equal(snap.pred.store_full, "the credential store, a 1 MiB tmpfs, was full after 1023 files "
			    "(nr_inodes=1024): C1023 and the 76 after it were dropped");
	snapshot_free(&snap);

	puts_at(root, "/proc/self/mountinfo",
		"35 24 0:31 / /run/credentials/@system ro,nosuid,nodev,noexec,relatime - ramfs ramfs ro,mode=700\n");
	snapshot_of(root, 257, &snap);   /* observed, not assumed: this 257 store is ramfs */
	assert_null(snap.pred.store_full);
	assert_non_null(prediction_winner(&snap.pred, "C1099"));
	snapshot_free(&snap);
	remove_root(root);
}

/* ---- detect_container(), check by check, in upstream's order ------------------------------------ */

/* One container fact in a fresh root: the kind and the evidence the agent reports. */
static void expect_container(void (*setup)(const char *root), unsigned version, const char *kind,
			     const char *evidence)
{
	char *root = temp_root();
	struct import_env env;
	struct import_sources s;

	put(root, "/proc/1/environ", "TERM=vt220\0", 11);   /* readable, no $container */
	setup(root);
	load(root, version, &env, &s);
	assert_string_equal(env.container_kind, kind);
	assert_int_equal(env.in_container, kind[0] != 0);
	assert_string_equal(env.container_evidence, evidence);
	sources_free(&s);
	remove_root(root);
}

static void mk_openvz(const char *r) { puts_at(r, "/proc/vz/veinfo", ""); }
static void mk_openvz_host(const char *r) { puts_at(r, "/proc/vz/veinfo", ""); puts_at(r, "/proc/bc/x", ""); }
static void mk_wsl(const char *r) { puts_at(r, "/proc/sys/kernel/osrelease", "5.15.90.1-microsoft-standard-WSL2\n"); }
static void mk_proot(const char *r)
{
	puts_at(r, "/proc/1/status", "Name:\tinit\nTracerPid:\t77\nUid:\t0\n");
	puts_at(r, "/proc/77/comm", "proot\n");
}
static void mk_manager(const char *r) { puts_at(r, "/run/host/container-manager", "systemd-nspawn\n"); }
static void mk_env(const char *r) { put(r, "/proc/1/environ", "container=lxc\0", 14); }
static void mk_env_empty(const char *r)
{
	put(r, "/proc/1/environ", "container=\0", 11);
	puts_at(r, "/.dockerenv", "");     /* an explicitly empty $container wins over the files */
}
static void mk_env_oci(const char *r) { put(r, "/proc/1/environ", "container=oci\0", 14); puts_at(r, "/.dockerenv", ""); }
static void mk_podman(const char *r) { puts_at(r, "/run/.containerenv", ""); puts_at(r, "/.dockerenv", ""); }
static void mk_docker(const char *r) { puts_at(r, "/.dockerenv", ""); }
static void mk_run_container(const char *r) { puts_at(r, "/run/systemd/container", "docker\n"); }
static void mk_pidns(const char *r)
{
	char *p;
	assert_true(asprintf(&p, "%s/proc/1/ns", r) > 0);
	mkdir_parents(p);
	(void) mkdir(p, 0755);
	free(p);
	assert_true(asprintf(&p, "%s/proc/1/ns/pid", r) > 0);
	assert_int_equal(symlink("pid:[4026532201]", p), 0);
	free(p);
}
/* upstream order: /run/host/container-manager is read before PID 1's $container */
static void mk_manager_and_env(const char *r) { mk_manager(r); mk_env(r); }

static void test_container_checks_follow_upstream_virt_c_in_order(void **state)
{
	expect_container(mk_openvz, 257, "openvz", "/proc/vz exists without /proc/bc");
	expect_container(mk_openvz_host, 257, "", "");
	expect_container(mk_wsl, 257, "wsl", "/proc/sys/kernel/osrelease names Microsoft/WSL");
	expect_container(mk_proot, 257, "proot", "PID 1 is traced by proot");
	expect_container(mk_manager, 257, "systemd-nspawn", "/run/host/container-manager says \"systemd-nspawn\"");
	expect_container(mk_manager_and_env, 257, "systemd-nspawn",
			 "/run/host/container-manager says \"systemd-nspawn\"");
	expect_container(mk_env, 257, "lxc", "PID 1's $container says \"lxc\"");
	expect_container(mk_env_empty, 257, "", "PID 1's $container is set and empty");
	expect_container(mk_env_oci, 257, "docker", "/.dockerenv exists");
	expect_container(mk_podman, 257, "podman", "/run/.containerenv exists");
	expect_container(mk_docker, 252, "docker", "/.dockerenv exists");
	expect_container(mk_run_container, 257, "docker",
			 "/run/systemd/container (written by PID 1) says \"docker\"");
	expect_container(mk_pidns, 257, "container-other", "PID 1 is not in the initial PID namespace");
	expect_container(mk_pidns, 256, "", "");   /* v256 has no PID-namespace fallback */
}

/* ---- errors ---------------------------------------------------------------------------------- */

static void test_unknown_version_is_an_error_unless_overridden(void **state)
{
	char *root = temp_root();
	char *lib;
	unsigned v = 1;
	struct import_env env;
	struct import_sources s;

	assert_true(asprintf(&lib, "%s/usr/lib/systemd/libsystemd-shared-257.13-1.so", root) > 0);
	assert_int_equal(unlink(lib), 0);
	free(lib);
	assert_int_equal(sources_load(root, 0, &env, &s, NULL), -ENOENT);
	assert_int_equal(systemd_version_detect(root, &v), -ENOENT);
	assert_int_equal(v, 0);
	assert_int_equal(systemd_version_detect(BASIC, &v), 0);
	assert_int_equal(v, 252);
	load(root, 252, &env, &s);
	assert_int_equal(env.systemd_version, 252);
	sources_free(&s);
	remove_root(root);
}

static void test_unreadable_fw_cfg_item_is_an_error(void **state)
{
	char *root = temp_root();
	char *dir;
	struct import_env env;
	struct import_sources s;

	/* raw is a directory: reading it fails with EISDIR */
	assert_true(asprintf(&dir, "%s/sys/firmware/qemu_fw_cfg/by_name/opt/io.systemd.credentials/X/raw/", root) > 0);
	mkdir_parents(dir);
	free(dir);
	assert_int_equal(sources_load(root, 0, &env, &s, NULL), -EISDIR);
	remove_root(root);
}

/* ---- FIFOs: every read under --root is bounded and non-blocking -------------------------- */

/* A FIFO with no writer: opening it blocking would hang forever. alarm() turns a regression
 * into a failing test (SIGALRM kills the binary) instead of a hung one. */
static void put_fifo(const char *root, const char *rel)
{
	char *path;

	assert_true(asprintf(&path, "%s%s", root, rel) > 0);
	mkdir_parents(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	free(path);
}

static void assert_fifo_fails_naming(const char *rel)
{
	char *root = temp_root(), *error = NULL;
	struct import_env env;
	struct import_sources s;

	put_fifo(root, rel);
	alarm(5);
	assert_int_equal(sources_load(root, 257, &env, &s, &error), -ESPIPE);
	alarm(0);
	assert_non_null(error);
	assert_non_null(strstr(error, rel));
	assert_non_null(strstr(error, "is a FIFO or socket, not a regular file"));
	free(error);
	remove_root(root);
}

static void test_fifo_as_proc_cmdline_fails_at_once_naming_it(void **state)
{
	assert_fifo_fails_naming("/proc/cmdline");
}

static void test_fifo_as_pid1_environ_fails_at_once_naming_it(void **state)
{
	assert_fifo_fails_naming("/proc/1/environ");
}

static void test_fifo_as_smbios_entry_fails_at_once_naming_it(void **state)
{
	assert_fifo_fails_naming("/sys/firmware/dmi/entries/11-0/raw");
}

static void test_fifo_as_fw_cfg_raw_fails_at_once_naming_it(void **state)
{
	assert_fifo_fails_naming("/sys/firmware/qemu_fw_cfg/by_name/opt/io.systemd.credentials/X/raw");
}

static void test_fifo_as_efi_systemd_options_fails_at_once_naming_it(void **state)
{
	assert_fifo_fails_naming("/sys/firmware/efi/efivars/SystemdOptions-8cf2644b-4b0b-428f-9387-6d876050dc67");
}

/* credscope.report= and credscope.manifest-label= come from the same /proc/cmdline: a FIFO
 * there means "no such word", at once. */
static void test_fifo_as_proc_cmdline_gives_no_report_destination_at_once(void **state)
{
	char *root = temp_root();

	put_fifo(root, "/proc/cmdline");
	alarm(5);
	assert_null(report_dest_from_cmdline(root));
	alarm(0);
	remove_root(root);
}

/* mountinfo only refines the store's verdict: a FIFO there leaves the filesystem unknown. */
static void test_fifo_as_mountinfo_leaves_the_store_unjudged_at_once(void **state)
{
	char *root = temp_root();
	struct credstore st;

	put_fifo(root, "/proc/self/mountinfo");
	alarm(5);
	assert_int_equal(credstore_load(root, 257, &st, NULL), 0);
	alarm(0);
	assert_false(st.fs_known);
	assert_int_equal(st.security, STORE_SECURITY_UNKNOWN);
	credstore_free(&st);
	remove_root(root);
}

/* The kernel command line is read with systemd's parser: quotes removed, '-' and '_' equal. */
static void test_report_destination_is_read_the_way_systemd_reads_the_cmdline(void **state)
{
	char *root = temp_root(), *to;

	puts_at(root, "/proc/cmdline", "quiet credscope.report=vsock:2:1 \"credscope.report=serial:a b\"\n");
	to = report_dest_from_cmdline(root);
	assert_string_equal(to, "serial:a b");
	free(to);
	puts_at(root, "/proc/cmdline", "credscope.manifest_label=disk\n");
	to = cmdline_value(root, "credscope.manifest-label");
	assert_string_equal(to, "disk");
	free(to);
	remove_root(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_root_yields_every_source_and_the_version),
		cmocka_unit_test(test_fixture_root_predicts_fw_cfg_over_smbios),
		cmocka_unit_test(test_empty_root_has_no_sources_and_no_dmi_sysfs),
		cmocka_unit_test(test_container_is_detected_from_run_and_from_pid1_environ),
		cmocka_unit_test(test_preset_credentials_directory_is_read_from_pid1_environ),
		cmocka_unit_test(test_switched_root_is_read_from_pid1_argv),
		cmocka_unit_test(test_cvm_flags_and_import_switch_and_secure_boot_are_read),
		cmocka_unit_test(test_cmdline_credential_after_a_newline_is_imported),
		cmocka_unit_test(test_cmdline_unterminated_quote_keeps_the_final_newline),
		cmocka_unit_test(test_import_credentials_no_after_a_newline_skips_the_import),
		cmocka_unit_test(test_fw_cfg_directory_entry_is_skipped_with_systemds_warning),
		cmocka_unit_test(test_full_tmpfs_store_stops_smbios_after_256_pages),
		cmocka_unit_test(test_store_file_equal_to_its_prediction_shares_the_buffer),
		cmocka_unit_test(test_tmpfs_inode_limit_and_ramfs_without_limit),
		cmocka_unit_test(test_container_checks_follow_upstream_virt_c_in_order),
		cmocka_unit_test(test_unknown_version_is_an_error_unless_overridden),
		cmocka_unit_test(test_unreadable_fw_cfg_item_is_an_error),
		cmocka_unit_test(test_fifo_as_proc_cmdline_fails_at_once_naming_it),
		cmocka_unit_test(test_fifo_as_pid1_environ_fails_at_once_naming_it),
		cmocka_unit_test(test_fifo_as_smbios_entry_fails_at_once_naming_it),
		cmocka_unit_test(test_fifo_as_fw_cfg_raw_fails_at_once_naming_it),
		cmocka_unit_test(test_fifo_as_efi_systemd_options_fails_at_once_naming_it),
		cmocka_unit_test(test_fifo_as_proc_cmdline_gives_no_report_destination_at_once),
		cmocka_unit_test(test_fifo_as_mountinfo_leaves_the_store_unjudged_at_once),
		cmocka_unit_test(test_report_destination_is_read_the_way_systemd_reads_the_cmdline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
