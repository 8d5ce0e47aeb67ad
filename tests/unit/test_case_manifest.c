/* Unit tests for host-harness/case_manifest.c: what the host records for each credential it
 * sends, and the manifest (exact JSON, accepted by the agent's parser) and expectations
 * disk it builds from that. Expected digests were computed independently (Python hashlib
 * and hmac, `sha256sum`), not with the code under test. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "runner/case_manifest.h"
#include "digest.h"
#include "manifest.h"

/* bytes 0x00..0x1f */
#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define SHA_BAR "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9"
#define HMAC_BAR "594144681f14e3707b180ee458d3d97548e026f7fa148369b483a917612770f6"
#define SHA_ALL_BYTES "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880"
#define HMAC_ALL_BYTES "42bf6fcd2ae46e32b29ce8bcbfd1f43896ea948aa9df2744eb4a47d28a8386c8"
#define HMAC_FROM_FW "2a86d2865f56dea1ed375b645751612b915bcadf7f24169cfbbf75cf66d9efe6"
#define HMAC_FROM_SMBIOS "4107b9c76975103a6045d694b9461b7ffdc15b8751698f5b4686fae860a5d814"
#define SHA_FROM_FW "884a9580447754127297eb5561497402c8953ffc36403e9e8f9198d8be8d6a72"
#define SHA_FROM_SMBIOS "9da0fdd8c99ed03c71ee4eda11cd4cd537b7beb065c11533093de075ce75aeba"
#define SHA_FROM_CMDLINE "d1700e604f6beefa65d0a09f815066f8e623095c66b49a814b7b0aa2927a704a"

static uint8_t key[32];

/* A sent list and an image view with up to 8 expectations, built by hand (no case file). */
struct fixture {
	struct test_case tc;
	struct case_view view;
	struct case_expectation expect[8];
	struct sent_cred *sent;
	size_t n_sent;
	char *json;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	for (size_t i = 0; i < sizeof key; i++)
		key[i] = (uint8_t)i;
	f->tc.name = "t";
	f->tc.machine = "q35";
	f->view.tc = &f->tc;
	f->view.image = "bookworm";
	f->view.expect = f->expect;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	free(f->sent);
	free(f->json);
	free(f);
	return 0;
}

static void expect_name(struct fixture *f, const char *name, enum case_expect kind)
{
	f->expect[f->view.n_expect++] = (struct case_expectation){ .name = (char *)name, .kind = kind };
}

static void send(struct fixture *f, bool keyed, const char *name, enum cred_via via, const void *v, size_t len)
{
	struct case_cred c = { .name = (char *)name, .via = via };
	assert_int_equal(case_manifest_record(&f->sent, &f->n_sent, keyed ? key : NULL, keyed ? sizeof key : 0, &c,
					      v, len), 0);
}

static void send_text(struct fixture *f, bool keyed, const char *name, enum cred_via via, const char *v)
{
	send(f, keyed, name, via, v, strlen(v));
}

/* The agent's own parser must accept what the host wrote; returns the parsed manifest. */
static void parse_as_agent(const char *json, struct manifest *m)
{
	char *err = NULL;
	int r = manifest_parse(json, strlen(json), m, &err);
	if (r < 0)
		fail_msg("the agent refuses the manifest (%d): %s\n%s", r, err ? err : "?", json);
	assert_null(err);
}

static void test_text_credential_is_recorded_with_the_hmac_of_its_bytes_and_no_value(void **state)
{
	struct fixture *f = *state;
	send_text(f, true, "FOO", VIA_SMBIOS, "bar");
	assert_int_equal(f->n_sent, 1);
	assert_string_equal(f->sent[0].name, "FOO");
	assert_int_equal(f->sent[0].via, VIA_SMBIOS);
	assert_int_equal(f->sent[0].len, 3);
	assert_string_equal(f->sent[0].hmac, HMAC_BAR);
}

static void test_without_a_key_the_record_holds_plain_sha256(void **state)
{
	struct fixture *f = *state;
	send_text(f, false, "FOO", VIA_SMBIOS, "bar");
	assert_string_equal(f->sent[0].hmac, SHA_BAR);
}

static void test_keyed_manifest_is_exact_json_with_key_and_hmac_entries(void **state)
{
	struct fixture *f = *state;
	uint8_t all[256];
	for (size_t i = 0; i < sizeof all; i++)
		all[i] = (uint8_t)i;
	send_text(f, true, "FOO", VIA_SMBIOS, "bar");
	send(f, true, "BIN", VIA_SMBIOS_BINARY, all, sizeof all);
	assert_int_equal(case_manifest_json(&f->view, false, f->sent, f->n_sent, key, sizeof key, &f->json), 0);
	assert_string_equal(f->json,
			    "{\n"
			    "  \"credentials\": {\n"
			    "    \"BIN\": {\n"
			    "      \"hmac-sha256\": \"" HMAC_ALL_BYTES "\"\n"
			    "    },\n"
			    "    \"FOO\": {\n"
			    "      \"hmac-sha256\": \"" HMAC_BAR "\"\n"
			    "    }\n"
			    "  },\n"
			    "  \"credscope\": 1,\n"
			    "  \"key\": \"" KEY_HEX "\",\n"
			    "  \"strict\": false\n"
			    "}");
	struct manifest m;
	parse_as_agent(f->json, &m);
	assert_int_equal(m.key_len, sizeof key);
	assert_memory_equal(m.key, key, sizeof key);
	assert_false(m.strict);
	assert_int_equal(m.n_entries, 2);
	assert_string_equal(m.entries[0].name, "BIN");
	assert_int_equal(m.entries[0].expect, EXPECT_MATCH);
	assert_int_equal(m.entries[0].digest, DIGEST_HMAC_SHA256);
	assert_string_equal(m.entries[0].hex, HMAC_ALL_BYTES);
	assert_string_equal(m.entries[1].name, "FOO");
	assert_string_equal(m.entries[1].hex, HMAC_BAR);
	manifest_free(&m);
}

static void test_unkeyed_manifest_has_no_key_and_sha256_entries(void **state)
{
	struct fixture *f = *state;
	uint8_t all[256];
	for (size_t i = 0; i < sizeof all; i++)
		all[i] = (uint8_t)i;
	send(f, false, "BIN", VIA_SMBIOS_BINARY, all, sizeof all);
	send_text(f, false, "FOO", VIA_FW_CFG, "bar");
	assert_int_equal(case_manifest_json(&f->view, false, f->sent, f->n_sent, NULL, 0, &f->json), 0);
	assert_string_equal(f->json,
			    "{\n"
			    "  \"credentials\": {\n"
			    "    \"BIN\": {\n"
			    "      \"sha256\": \"" SHA_ALL_BYTES "\"\n"
			    "    },\n"
			    "    \"FOO\": {\n"
			    "      \"sha256\": \"" SHA_BAR "\"\n"
			    "    }\n"
			    "  },\n"
			    "  \"credscope\": 1,\n"
			    "  \"strict\": false\n"
			    "}");
	struct manifest m;
	parse_as_agent(f->json, &m);
	assert_null(m.key);
	assert_int_equal(m.n_entries, 2);
	assert_int_equal(m.entries[0].digest, DIGEST_SHA256);
	assert_int_equal(m.entries[1].digest, DIGEST_SHA256);
	assert_string_equal(m.entries[1].hex, SHA_BAR);
	manifest_free(&m);
}

/* Every expectation kind, for a name that was sent and for one that was not. */
static void test_each_expectation_kind_becomes_its_manifest_entry_sent_or_not(void **state)
{
	struct fixture *f = *state;
	send_text(f, true, "S_ABSENT", VIA_SMBIOS, "bar");
	send_text(f, true, "S_DIFFERENT", VIA_SMBIOS, "bar");
	send_text(f, true, "S_EXACT", VIA_SMBIOS, "bar");
	send_text(f, true, "S_PRESENT", VIA_SMBIOS, "bar");
	expect_name(f, "S_ABSENT", CEXPECT_ABSENT);
	expect_name(f, "S_DIFFERENT", CEXPECT_DIFFERENT);
	expect_name(f, "S_PRESENT", CEXPECT_PRESENT);
	expect_name(f, "bad/name", CEXPECT_ABSENT);
	expect_name(f, "U_DIFFERENT", CEXPECT_DIFFERENT);
	expect_name(f, "U_EXACT", CEXPECT_EXACT);
	expect_name(f, "U_PRESENT", CEXPECT_PRESENT);
	assert_int_equal(case_manifest_json(&f->view, true, f->sent, f->n_sent, key, sizeof key, &f->json), 0);
	assert_string_equal(f->json,
			    "{\n"
			    "  \"credentials\": {\n"
			    "    \"S_ABSENT\": {\n"
			    "      \"absent\": true\n"
			    "    },\n"
			    "    \"S_DIFFERENT\": {\n"
			    "      \"different\": true,\n"
			    "      \"hmac-sha256\": \"" HMAC_BAR "\"\n"
			    "    },\n"
			    "    \"S_EXACT\": {\n"
			    "      \"hmac-sha256\": \"" HMAC_BAR "\"\n"
			    "    },\n"
			    "    \"S_PRESENT\": {\n"
			    "      \"present\": true\n"
			    "    },\n"
			    "    \"U_DIFFERENT\": {\n"
			    "      \"present\": true\n"
			    "    },\n"
			    "    \"U_EXACT\": {\n"
			    "      \"present\": true\n"
			    "    },\n"
			    "    \"U_PRESENT\": {\n"
			    "      \"present\": true\n"
			    "    },\n"
			    "    \"bad/name\": {\n"
			    "      \"absent\": true\n"
			    "    }\n"
			    "  },\n"
			    "  \"credscope\": 1,\n"
			    "  \"key\": \"" KEY_HEX "\",\n"
			    "  \"strict\": true\n"
			    "}");
	struct manifest m;
	parse_as_agent(f->json, &m);
	assert_true(m.strict);
	assert_int_equal(m.n_entries, 8);
	static const enum expect_kind kinds[] = { EXPECT_ABSENT, EXPECT_DIFFERENT, EXPECT_MATCH, EXPECT_PRESENT,
						  EXPECT_PRESENT, EXPECT_PRESENT, EXPECT_PRESENT, EXPECT_ABSENT };
	for (size_t i = 0; i < m.n_entries; i++)
		assert_int_equal(m.entries[i].expect, kinds[i]);
	assert_int_equal(manifest_find(&m, "S_DIFFERENT")->digest, DIGEST_HMAC_SHA256);
	assert_int_equal(manifest_find(&m, "S_ABSENT")->digest, DIGEST_NONE);
	manifest_free(&m);
}

static void test_no_credentials_and_no_expectations_give_an_empty_manifest_the_agent_accepts(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(case_manifest_json(&f->view, false, NULL, 0, NULL, 0, &f->json), 0);
	assert_string_equal(f->json, "{\n  \"credentials\": {},\n  \"credscope\": 1,\n  \"strict\": false\n}");
	struct manifest m;
	parse_as_agent(f->json, &m);
	assert_int_equal(m.n_entries, 0);
	manifest_free(&m);
}

/* systemd imports fw_cfg, then SMBIOS, then the command line; the first writer wins. */
static void test_a_name_sent_twice_is_expected_with_the_value_systemd_imports_first(void **state)
{
	struct fixture *f = *state;
	send_text(f, false, "A", VIA_SMBIOS, "from-smbios");      /* fw_cfg comes later in the case */
	send_text(f, false, "A", VIA_FW_CFG, "from-fw_cfg");
	send_text(f, false, "B", VIA_FW_CFG, "from-fw_cfg");      /* SMBIOS comes later in the case */
	send_text(f, false, "B", VIA_SMBIOS, "from-smbios");
	send_text(f, false, "C", VIA_CMDLINE, "from-cmdline");    /* SMBIOS beats the command line */
	send_text(f, false, "C", VIA_SMBIOS_BINARY, "from-smbios");
	send_text(f, false, "D", VIA_SMBIOS, "from-smbios");      /* two SMBIOS strings: the first */
	send_text(f, false, "D", VIA_SMBIOS, "from-fw_cfg");
	send_text(f, false, "E", VIA_SMBIOS, "from-smbios");      /* the command line never wins */
	send_text(f, false, "E", VIA_CMDLINE, "from-cmdline");
	assert_int_equal(f->n_sent, 5);
	assert_int_equal(f->sent[0].via, VIA_FW_CFG);
	assert_string_equal(f->sent[0].hmac, SHA_FROM_FW);
	assert_int_equal(f->sent[1].via, VIA_FW_CFG);
	assert_string_equal(f->sent[1].hmac, SHA_FROM_FW);
	assert_int_equal(f->sent[2].via, VIA_SMBIOS_BINARY);
	assert_string_equal(f->sent[2].hmac, SHA_FROM_SMBIOS);
	assert_int_equal(f->sent[3].via, VIA_SMBIOS);
	assert_string_equal(f->sent[3].hmac, SHA_FROM_SMBIOS);
	assert_int_equal(f->sent[4].via, VIA_SMBIOS);
	assert_string_equal(f->sent[4].hmac, SHA_FROM_SMBIOS);
	assert_int_equal(f->sent[4].len, strlen("from-smbios"));
	assert_int_equal(case_manifest_json(&f->view, false, f->sent, f->n_sent, NULL, 0, &f->json), 0);
	assert_null(strstr(f->json, SHA_FROM_CMDLINE));
	struct manifest m;
	parse_as_agent(f->json, &m);
	assert_int_equal(m.n_entries, 5);   /* one entry per name */
	assert_string_equal(manifest_find(&m, "A")->hex, SHA_FROM_FW);
	assert_string_equal(manifest_find(&m, "E")->hex, SHA_FROM_SMBIOS);
	manifest_free(&m);
}

static void test_keyed_record_of_a_name_sent_twice_keeps_the_winner_hmac(void **state)
{
	struct fixture *f = *state;
	send_text(f, true, "A", VIA_SMBIOS, "from-smbios");
	send_text(f, true, "A", VIA_FW_CFG, "from-fw_cfg");
	send_text(f, true, "A", VIA_SMBIOS, "from-smbios");
	assert_int_equal(f->n_sent, 1);
	assert_string_equal(f->sent[0].hmac, HMAC_FROM_FW);
	assert_int_equal(case_manifest_json(&f->view, false, f->sent, f->n_sent, key, sizeof key, &f->json), 0);
	assert_non_null(strstr(f->json, "\"A\": {\n      \"hmac-sha256\": \"" HMAC_FROM_FW "\"\n    }"));
	assert_null(strstr(f->json, HMAC_FROM_SMBIOS));
}

/* hex and base64 forms of a canary, to look for in the manifest besides the raw bytes */
static void assert_canary_absent(const char *json, const char *canary)
{
	char hex[128];
	hex_encode((const uint8_t *)canary, strlen(canary), hex);
	if (strstr(json, canary) || strstr(json, hex) || strstr(json, "Q0FOQVJZ") /* base64 "CANARY" */ ||
	    strstr(json, "CANARY"))
		fail_msg("the canary is in the manifest:\n%s", json);
}

static void test_no_secret_value_reaches_the_manifest_only_its_digest(void **state)
{
	struct fixture *f = *state;
	const char *canary = "CANARY-7f3e9d1c5b2a4e6f8d0c";
	char digest[DIGEST_HEX_LEN + 1];
	send_text(f, true, "TEXT", VIA_SMBIOS, canary);
	send_text(f, true, "BIN", VIA_SMBIOS_BINARY, canary);
	send_text(f, true, "FW", VIA_FW_CFG, canary);
	expect_name(f, "FW", CEXPECT_DIFFERENT);
	assert_int_equal(case_manifest_json(&f->view, false, f->sent, f->n_sent, key, sizeof key, &f->json), 0);
	assert_canary_absent(f->json, canary);
	assert_int_equal(digest_hmac_sha256_hex(key, sizeof key, canary, strlen(canary), digest), 0);
	assert_non_null(strstr(f->json, digest));   /* the digest is there instead */
	free(f->json), f->json = NULL;
	free(f->sent), f->sent = NULL, f->n_sent = 0;
	send_text(f, false, "TEXT", VIA_SMBIOS, canary);
	assert_int_equal(case_manifest_json(&f->view, false, f->sent, f->n_sent, NULL, 0, &f->json), 0);
	assert_canary_absent(f->json, canary);
	assert_int_equal(digest_sha256_hex(canary, strlen(canary), digest), 0);
	assert_non_null(strstr(f->json, digest));
}

static void test_a_key_the_agent_would_refuse_is_refused_everywhere(void **state)
{
	struct fixture *f = *state;
	struct case_cred c = { .name = "FOO", .via = VIA_SMBIOS };
	char *err = NULL, *image = (char *)"unchanged";
	char *json = (char *)"unchanged";
	/* 15 bytes: the agent's parser says "key: ... at least 32" hex characters */
	assert_int_equal(case_manifest_record(&f->sent, &f->n_sent, key, 15, &c, (const uint8_t *)"bar", 3), -EINVAL);
	assert_int_equal(f->n_sent, 0);
	assert_null(f->sent);
	assert_int_equal(case_manifest_json(&f->view, false, NULL, 0, key, 15, &json), -EINVAL);
	assert_null(json);
	assert_int_equal(case_manifest_json(&f->view, false, NULL, 0, key, 0, &json), -EINVAL);
	assert_null(json);
	assert_int_equal(case_manifest_write(&f->view, false, NULL, 0, key, 15, "/nonexistent-credscope", &image, NULL,
					     &err), -EINVAL);
	assert_null(image);
	assert_non_null(err);
	assert_string_equal(err, "the HMAC key is 15 bytes; the agent accepts a manifest key of at least 16");
	free(err);
	/* 16 bytes is the shortest key both sides accept */
	assert_int_equal(case_manifest_json(&f->view, false, NULL, 0, key, 16, &f->json), 0);
	struct manifest m;
	parse_as_agent(f->json, &m);
	assert_int_equal(m.key_len, 16);
	manifest_free(&m);
}

/* ---- the expectations disk ---------------------------------------------------------- */

static char *tmpdir_new(void)
{
	char *d = strdup("/tmp/credscope-unit-cm-XXXXXX");
	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static char *join(const char *dir, const char *name)
{
	char *p;
	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

static bool exists(const char *dir, const char *name)
{
	char *p = join(dir, name);
	bool e = access(p, F_OK) == 0;
	free(p);
	return e;
}

static void rm_tree(const char *dir)
{
	char *cmd;
	assert_true(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

/* The manifest as stored inside the ext4 image, read back without mounting (debugfs). */
static char *manifest_in_image(const char *image)
{
	char *cmd, *out = NULL;
	size_t cap = 0;
	assert_true(asprintf(&cmd, "/sbin/debugfs -R 'cat /manifest.json' '%s' 2>/dev/null", image) > 0);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	ssize_t n = getdelim(&out, &cap, '\0', p);
	assert_int_equal(pclose(p), 0);
	free(cmd);
	if (n <= 0)
		fail_msg("debugfs printed nothing for %s", image);
	return out;
}

static void test_write_puts_the_exact_manifest_on_a_labelled_disk_with_its_sha256(void **state)
{
	struct fixture *f = *state;
	char *dir = tmpdir_new(), *image = NULL, *err = NULL, sha[DIGEST_HEX_LEN + 1], want[DIGEST_HEX_LEN + 1];
	struct stat st;
	send_text(f, true, "FOO", VIA_SMBIOS, "bar");
	expect_name(f, "bad/name", CEXPECT_ABSENT);
	assert_int_equal(case_manifest_json(&f->view, false, f->sent, f->n_sent, key, sizeof key, &f->json), 0);
	assert_int_equal(case_manifest_write(&f->view, false, f->sent, f->n_sent, key, sizeof key, dir, &image, sha,
					     &err), 0);
	assert_null(err);
	char *img_path = join(dir, "expect.img");
	assert_string_equal(image, img_path);
	assert_int_equal(stat(image, &st), 0);
	assert_int_equal(st.st_size, 4 * 1024 * 1024);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(digest_sha256_hex(f->json, strlen(f->json), want), 0);
	assert_string_equal(sha, want);   /* what the host later compares with the agent's report */
	char *stored = manifest_in_image(image);
	assert_string_equal(stored, f->json);
	struct manifest m;
	parse_as_agent(stored, &m);
	assert_int_equal(manifest_find(&m, "bad/name")->expect, EXPECT_ABSENT);
	manifest_free(&m);
	char *cmd;
	assert_true(asprintf(&cmd, "/sbin/blkid -o value -s LABEL '%s' | grep -qx credscope", image) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd), free(stored), free(img_path), free(image);
	rm_tree(dir);
	free(dir);
}

static void test_write_into_a_path_that_is_not_a_directory_fails_with_its_errno(void **state)
{
	struct fixture *f = *state;
	char *dir = tmpdir_new(), *file = join(dir, "plain-file"), *image = NULL, *err = NULL;
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	send_text(f, true, "FOO", VIA_SMBIOS, "bar");
	/* root ignores mode bits, so "unwritable" is a path that cannot hold a directory */
	assert_int_equal(case_manifest_write(&f->view, false, f->sent, f->n_sent, key, sizeof key, file, &image, NULL,
					     &err), -ENOTDIR);
	assert_null(image);
	assert_non_null(err);
	assert_non_null(strstr(err, "plain-file/expect"));
	assert_non_null(strstr(err, strerror(ENOTDIR)));
	free(err), err = NULL;
	char *missing = join(dir, "no/such/dir");
	assert_int_equal(case_manifest_write(&f->view, false, f->sent, f->n_sent, key, sizeof key, missing, &image,
					     NULL, &err), -ENOENT);
	assert_null(image);
	assert_non_null(err);
	free(err), free(missing), free(file);
	rm_tree(dir);
	free(dir);
}

/* A disk image already in the way (not ours): the call fails and takes back the manifest
 * it had written, so no manifest without its disk is left behind. */
static void test_a_failed_disk_leaves_no_manifest_half_written(void **state)
{
	struct fixture *f = *state;
	char *dir = tmpdir_new(), *img = join(dir, "expect.img"), *image = NULL, *err = NULL;
	assert_int_equal(mkdir(img, 0700), 0);
	send_text(f, true, "FOO", VIA_SMBIOS, "bar");
	assert_int_equal(case_manifest_write(&f->view, false, f->sent, f->n_sent, key, sizeof key, dir, &image, NULL,
					     &err), -EEXIST);
	assert_null(image);
	assert_non_null(err);
	assert_non_null(strstr(err, "expect.img: cannot create"));
	assert_false(exists(dir, "expect/manifest.json"));
	assert_false(exists(dir, "expect"));
	assert_true(exists(dir, "expect.img"));   /* what was there before is left alone */
	free(err), err = NULL;
	/* an expect directory already there is not ours either: refused, left as it was */
	assert_int_equal(rmdir(img), 0);
	char *content = join(dir, "expect");
	assert_int_equal(mkdir(content, 0700), 0);
	assert_int_equal(case_manifest_write(&f->view, false, f->sent, f->n_sent, key, sizeof key, dir, &image, NULL,
					     &err), -EEXIST);
	assert_true(exists(dir, "expect"));
	assert_false(exists(dir, "expect/manifest.json"));
	assert_false(exists(dir, "expect.img"));
	free(err), free(content), free(img);
	rm_tree(dir);
	free(dir);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_text_credential_is_recorded_with_the_hmac_of_its_bytes_and_no_value),
		T(test_without_a_key_the_record_holds_plain_sha256),
		T(test_keyed_manifest_is_exact_json_with_key_and_hmac_entries),
		T(test_unkeyed_manifest_has_no_key_and_sha256_entries),
		T(test_each_expectation_kind_becomes_its_manifest_entry_sent_or_not),
		T(test_no_credentials_and_no_expectations_give_an_empty_manifest_the_agent_accepts),
		T(test_a_name_sent_twice_is_expected_with_the_value_systemd_imports_first),
		T(test_keyed_record_of_a_name_sent_twice_keeps_the_winner_hmac),
		T(test_no_secret_value_reaches_the_manifest_only_its_digest),
		T(test_a_key_the_agent_would_refuse_is_refused_everywhere),
		T(test_write_puts_the_exact_manifest_on_a_labelled_disk_with_its_sha256),
		T(test_write_into_a_path_that_is_not_a_directory_fails_with_its_errno),
		T(test_a_failed_disk_leaves_no_manifest_half_written),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
