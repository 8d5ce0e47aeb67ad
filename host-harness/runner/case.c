/* case: strict parsing of harness case documents (jansson). */
#include "runner/case.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "fileio.h"
#include "jsonutil.h"
#include "runner/image.h"
#include "runner/zero_install.h"
#include "secret.h"

struct pctx {
	const char *path;
	const char *dir;      /* directory of the case file, for relative "file" */
	char **error;
};

static int fail(struct pctx *p, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (p->error) {
		free(*p->error);   /* a more specific message replaces a generic one */
		if (!msg || asprintf(p->error, "%s: %s", p->path, msg) < 0)
			*p->error = NULL;
	}
	free(msg);
	return -EINVAL;
}

const char *cred_via_name(enum cred_via v)
{
	static const char *const n[] = { "smbios", "smbios-binary", "fw_cfg", "cmdline" };
	return v <= VIA_CMDLINE ? n[v] : "?";
}

const char *case_expect_name(enum case_expect k)
{
	static const char *const n[] = { "exact", "absent", "present", "different" };
	return k <= CEXPECT_DIFFERENT ? n[k] : "?";
}

/* Every member of obj must be one of the NULL-terminated known names. */
static int check_fields(struct pctx *p, json_t *obj, const char *where, const char *const *known)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		bool ok = false;
		for (const char *const *k = known; *k; k++)
			ok = ok || strcmp(key, *k) == 0;
		if (!ok)
			return fail(p, "%s%s: unknown field", where, key);
	}
	return 0;
}

static int get_str(struct pctx *p, json_t *obj, const char *key, const char *where, bool required, char **out)
{
	json_t *v = json_object_get(obj, key);
	if (!v) {
		if (required)
			return fail(p, "%s%s: missing", where, key);
		return 0;
	}
	if (!json_is_string(v))
		return fail(p, "%s%s: expected a string", where, key);
	*out = strdup(json_string_value(v));
	return *out ? 0 : -ENOMEM;
}

/* An absent field keeps the runner's default; a present one must lie in min..max (0 is
 * never a silent "default"). */
static int get_uint(struct pctx *p, json_t *obj, const char *key, const char *where, unsigned min, unsigned max,
		    const char *why, unsigned *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)min || json_integer_value(v) > (json_int_t)max)
		return fail(p, "%s%s: expected an integer from %u to %u%s", where, key, min, max, why);
	*out = (unsigned)json_integer_value(v);
	return 0;
}

static int parse_enum(struct pctx *p, const char *s, const char *field, const char *const *names, int n, int *out)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
	return fail(p, "%s: unknown value \"%s\"", field, s);
}

static int parse_via(struct pctx *p, json_t *c, const char *where, struct case_cred *cred)
{
	static const char *const vias[] = { "smbios", "smbios-binary", "fw_cfg", "cmdline" };
	json_t *v = json_object_get(c, "via");
	char field[128];
	int i = 0;
	if (!v)
		return 0;
	snprintf(field, sizeof field, "%svia", where);
	if (!json_is_string(v))
		return fail(p, "%s: expected one of smbios, smbios-binary, fw_cfg, cmdline", field);
	if (parse_enum(p, json_string_value(v), field, vias, 4, &i) < 0)
		return fail(p, "%s: unknown value \"%s\" (known: smbios, smbios-binary, fw_cfg, cmdline)", field,
			    json_string_value(v));
	cred->via = (enum cred_via)i;
	return 0;
}

/* The ways a name can break the delivery mechanism itself (not systemd's rules: those
 * are what the cases test). */
static int check_cred_name(struct pctx *p, const struct case_cred *c, const char *where)
{
	if (c->name[0] == '\0')
		return fail(p, "%sname: empty", where);
	if (c->via == VIA_FW_CFG && strlen(FW_CFG_CRED_PREFIX) + strlen(c->name) > FW_CFG_NAME_MAX)
		return fail(p, "%sname: \"%s%s\" is longer than the %u characters QEMU allows for a fw_cfg name", where,
			    FW_CFG_CRED_PREFIX, c->name, FW_CFG_NAME_MAX);
	if ((c->via == VIA_SMBIOS || c->via == VIA_SMBIOS_BINARY) && strchr(c->name, '='))
		return fail(p, "%sname: contains '=', which ends the name in an SMBIOS credential string", where);
	if (c->via == VIA_CMDLINE && strpbrk(c->name, " \t\n\":"))
		return fail(p, "%sname: contains a blank, '\"' or ':', which the kernel command line cannot carry", where);
	if (c->via == VIA_FW_CFG && strchr(c->name, '/'))
		return fail(p, "%sname: contains '/', which fw_cfg would treat as a directory (to send such a name on "
			    "purpose, use fw_cfg_raw)", where);
	return 0;
}

static int parse_cred_source(struct pctx *p, json_t *c, const char *where, struct case_cred *cred)
{
	json_t *val = json_object_get(c, "value"), *file = json_object_get(c, "file"), *rnd = json_object_get(c, "random");
	if (!!val + !!file + !!rnd != 1)
		return fail(p, "%.*s: give exactly one of value, file, random", (int)strlen(where) - 1, where);
	if (val) {
		if (!json_is_string(val))
			return fail(p, "%svalue: expected a string", where);
		cred->value_len = json_string_length(val);
		cred->value = strdup(json_string_value(val));
		return cred->value ? 0 : -ENOMEM;
	}
	if (rnd) {
		if (!json_is_integer(rnd) || json_integer_value(rnd) < 1 || json_integer_value(rnd) > CASE_RANDOM_MAX)
			return fail(p, "%srandom: expected a byte count from 1 to %u", where, CASE_RANDOM_MAX);
		cred->random_len = (size_t)json_integer_value(rnd);
		return 0;
	}
	if (!json_is_string(file) || json_string_length(file) == 0)
		return fail(p, "%sfile: expected a path", where);
	const char *f = json_string_value(file);
	if (f[0] == '/')
		cred->file = strdup(f);
	else if (asprintf(&cred->file, "%s/%s", p->dir, f) < 0)
		cred->file = NULL;
	return cred->file ? 0 : -ENOMEM;
}

static int parse_cred(struct pctx *p, json_t *c, size_t idx, struct case_cred *cred)
{
	static const char *const known[] = { "name", "value", "file", "random", "via", NULL };
	char where[96];
	int r;
	snprintf(where, sizeof where, "credentials[%zu].", idx);
	if (!json_is_object(c))
		return fail(p, "credentials[%zu]: expected an object", idx);
	if ((r = check_fields(p, c, where, known)) < 0 || (r = get_str(p, c, "name", where, true, &cred->name)) < 0 ||
	    (r = parse_via(p, c, where, cred)) < 0 || (r = parse_cred_source(p, c, where, cred)) < 0)
		return r;
	if ((r = check_cred_name(p, cred, where)) < 0)
		return r;
	if (cred->via == VIA_CMDLINE && !cred->value)
		return fail(p, "%svia: the kernel command line is readable by every process in the guest and on the "
			    "host; a secret from \"file\" or \"random\" cannot go there (use smbios-binary or fw_cfg)", where);
	if (cred->via == VIA_CMDLINE && strpbrk(cred->value, " \t\n\""))
		return fail(p, "%svalue: contains a blank or '\"', which the kernel command line cannot carry", where);
	return 0;
}

static int parse_creds(struct pctx *p, json_t *root, struct test_case *tc)
{
	json_t *a = json_object_get(root, "credentials");
	if (!a)
		return 0;
	if (!json_is_array(a))
		return fail(p, "credentials: expected an array");
	tc->creds = calloc(json_array_size(a) + 1, sizeof *tc->creds);
	if (!tc->creds)
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(a); i++) {
		int r = parse_cred(p, json_array_get(a, i), i, &tc->creds[i]);
		tc->n_creds = i + 1;
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_str_list(struct pctx *p, json_t *v, const char *field, bool allow_single, char ***out, size_t *n)
{
	if (!v)
		return 0;
	if (allow_single && json_is_string(v)) {
		*out = calloc(2, sizeof **out);
		if (!*out || !((*out)[0] = strdup(json_string_value(v))))
			return -ENOMEM;
		*n = 1;
		return 0;
	}
	if (!json_is_array(v))
		return fail(p, "%s: expected %san array of strings", field, allow_single ? "a string or " : "");
	*out = calloc(json_array_size(v) + 1, sizeof **out);
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *s = json_array_get(v, i);
		if (!json_is_string(s))
			return fail(p, "%s[%zu]: expected a string", field, i);
		if (!((*out)[i] = strdup(json_string_value(s))))
			return -ENOMEM;
		*n = i + 1;
	}
	return 0;
}

/* A fw_cfg file name QEMU takes from a user and the guest kernel can show: "opt/...",
 * printable, and every '/'-separated part a name the kernel can make a sysfs directory
 * (all but the last) or entry of: not empty, "." or "..". */
static int check_fw_cfg_raw_name(struct pctx *p, const char *name, const char *where)
{
	const char *part = name;

	if (strncmp(name, "opt/", 4) != 0)
		return fail(p, "%sname: does not start with \"opt/\", QEMU's prefix for the fw_cfg files a user adds",
			    where);
	if (strlen(name) > FW_CFG_NAME_MAX)
		return fail(p, "%sname: %zu characters, more than the %u QEMU allows for a fw_cfg name", where,
			    strlen(name), FW_CFG_NAME_MAX);
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		if (*c <= 0x20 || *c >= 0x7f)
			return fail(p, "%sname: byte 0x%02x at offset %zu; a fw_cfg name here is printable ASCII without "
				    "blanks", where, *c, (size_t)(c - (const unsigned char *)name));
	for (;;) {
		size_t n = strcspn(part, "/");
		if (n == 0 || strncmp(part, ".", n) == 0 || strncmp(part, "..", n) == 0)
			return fail(p, "%sname: \"%s\" has an empty, \".\" or \"..\" part, which the guest kernel cannot "
				    "make a directory or entry of", where, name);
		if (!part[n])
			return 0;
		part += n + 1;
	}
}

/* QEMU refuses a fw_cfg name given twice: by two raw entries, or by one and a credential
 * sent by fw_cfg. */
static int check_fw_cfg_raw_unique(struct pctx *p, const struct test_case *tc, size_t i)
{
	const char *name = tc->fw_cfg_raw[i].name, *cred = name + strlen(FW_CFG_CRED_PREFIX);
	bool in_creds = strncmp(name, FW_CFG_CRED_PREFIX, strlen(FW_CFG_CRED_PREFIX)) == 0;

	for (size_t k = 0; k < i; k++)
		if (strcmp(tc->fw_cfg_raw[k].name, name) == 0)
			return fail(p, "fw_cfg_raw[%zu].name: \"%s\" is fw_cfg_raw[%zu]'s too; QEMU refuses a fw_cfg name "
				    "given twice", i, name, k);
	for (size_t k = 0; in_creds && k < tc->n_creds; k++)
		if (tc->creds[k].via == VIA_FW_CFG && strcmp(tc->creds[k].name, cred) == 0)
			return fail(p, "fw_cfg_raw[%zu].name: \"%s\" is where credentials[%zu] goes by fw_cfg; QEMU refuses "
				    "a fw_cfg name given twice", i, name, k);
	return 0;
}

/* "fw_cfg_raw": [{"name": "opt/io.systemd.credentials/sub/X", "value": "..."}] (test only;
 * after the credentials, whose fw_cfg names it must not repeat). */
static int parse_fw_cfg_raw(struct pctx *p, json_t *root, struct test_case *tc)
{
	static const char *const known[] = { "name", "value", NULL };
	json_t *a = json_object_get(root, "fw_cfg_raw");
	int r;

	if (!a)
		return 0;
	if (!json_is_array(a))
		return fail(p, "fw_cfg_raw: expected an array of objects with name and value");
	tc->fw_cfg_raw = calloc(json_array_size(a) + 1, sizeof *tc->fw_cfg_raw);
	if (!tc->fw_cfg_raw)
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(a); i++) {
		struct case_fw_cfg_raw *e = &tc->fw_cfg_raw[i];
		json_t *o = json_array_get(a, i), *v;
		char where[48];

		snprintf(where, sizeof where, "fw_cfg_raw[%zu].", i);
		tc->n_fw_cfg_raw = i + 1;
		if (!json_is_object(o))
			return fail(p, "fw_cfg_raw[%zu]: expected an object with name and value", i);
		if ((r = check_fields(p, o, where, known)) < 0 || (r = get_str(p, o, "name", where, true, &e->name)) < 0)
			return r;
		if (!(v = json_object_get(o, "value")) || !json_is_string(v))
			return fail(p, "%svalue: %s", where, v ? "expected a string (inline test data)" : "missing");
		e->value_len = json_string_length(v);
		if (!(e->value = strdup(json_string_value(v))))
			return -ENOMEM;
		if ((r = check_fw_cfg_raw_name(p, e->name, where)) < 0 || (r = check_fw_cfg_raw_unique(p, tc, i)) < 0)
			return r;
	}
	return 0;
}

static int parse_expect(struct pctx *p, json_t *v, const char *where, struct case_expectation **out, size_t *n)
{
	static const char *const kinds[] = { "exact", "absent", "present", "different" };
	const char *key;
	json_t *k;
	if (!v)
		return 0;
	if (!json_is_object(v))
		return fail(p, "%sexpect: expected an object mapping names to exact, absent, present or different", where);
	*out = calloc(json_object_size(v) + 1, sizeof **out);
	if (!*out)
		return -ENOMEM;
	json_object_foreach(v, key, k) {
		char field[300];
		int kind = 0;
		snprintf(field, sizeof field, "%sexpect.%.255s", where, key);
		if (!json_is_string(k))
			return fail(p, "%s: expected exact, absent, present or different", field);
		if (parse_enum(p, json_string_value(k), field, kinds, 4, &kind) < 0)
			return fail(p, "%s: unknown value \"%s\" (known: exact, absent, present, different)", field,
				    json_string_value(k));
		if (key[0] == '\0')
			return fail(p, "%sexpect: an empty name cannot be in a manifest (use expect_fate)", where);
		if (!((*out)[*n].name = strdup(key)))
			return -ENOMEM;
		(*out)[(*n)++].kind = (enum case_expect)kind;
	}
	return 0;
}

static int parse_fate(struct pctx *p, json_t *f, const char *where, struct case_fate *out)
{
	static const char *const known[] = { "name", "source", "fate", "count", NULL };
	int r;
	if (!json_is_object(f))
		return fail(p, "%s: expected an object with fate and optional name, source, count", where);
	char w[200];
	snprintf(w, sizeof w, "%s.", where);
	out->count = -1;
	if ((r = check_fields(p, f, w, known)) < 0 || (r = get_str(p, f, "name", w, false, &out->name)) < 0 ||
	    (r = get_str(p, f, "source", w, false, &out->source)) < 0 || (r = get_str(p, f, "fate", w, true, &out->fate)) < 0)
		return r;
	json_t *c = json_object_get(f, "count");
	if (c) {
		if (!json_is_integer(c) || json_integer_value(c) < 0 || json_integer_value(c) > 100000)
			return fail(p, "%scount: expected an integer from 0 to 100000", w);
		out->count = (int)json_integer_value(c);
	}
	return 0;
}

static int parse_fates(struct pctx *p, json_t *v, const char *where, struct case_fate **out, size_t *n)
{
	if (!v)
		return 0;
	if (!json_is_array(v))
		return fail(p, "%sexpect_fate: expected an array of objects", where);
	*out = calloc(json_array_size(v) + 1, sizeof **out);
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(v); i++) {
		char w[160];
		snprintf(w, sizeof w, "%sexpect_fate[%zu]", where, i);
		*n = i + 1;
		int r = parse_fate(p, json_array_get(v, i), w, &(*out)[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_outcome(struct pctx *p, json_t *obj, const char *where, bool *has, enum case_outcome *out)
{
	static const char *const names[] = { "pass", "fail", "error" };
	json_t *v = json_object_get(obj, "outcome");
	char field[96];
	int i = 0;
	if (!v)
		return 0;
	snprintf(field, sizeof field, "%soutcome", where);
	if (!json_is_string(v) || parse_enum(p, json_string_value(v), field, names, 3, &i) < 0)
		return fail(p, "%s: expected pass, fail or error", field);
	*has = true;
	*out = (enum case_outcome)i;
	return 0;
}

#define FLAVOR_RULE "a plain directory name under --image-dir such as bookworm: letters, digits, '.', '_', '-', no '/' or '..'"

static int parse_override(struct pctx *p, const char *image, json_t *o, struct case_override *ov)
{
	static const char *const known[] = { "expect", "expect_fate", "outcome", "diagnosis", NULL };
	char where[96];
	int r;
	snprintf(where, sizeof where, "by_image.%.60s.", image);
	if (!image_flavor_name_ok(image))
		return fail(p, "by_image: \"%s\" is not a flavor name (%s)", image, FLAVOR_RULE);
	if (!json_is_object(o))
		return fail(p, "by_image.%s: expected an object", image);
	if (!(ov->image = strdup(image)))
		return -ENOMEM;
	if ((r = check_fields(p, o, where, known)) < 0 ||
	    (r = parse_expect(p, json_object_get(o, "expect"), where, &ov->expect, &ov->n_expect)) < 0 ||
	    (r = parse_fates(p, json_object_get(o, "expect_fate"), where, &ov->fates, &ov->n_fates)) < 0 ||
	    (r = parse_outcome(p, o, where, &ov->has_outcome, &ov->outcome)) < 0)
		return r;
	return get_str(p, o, "diagnosis", where, false, &ov->diagnosis);
}

static int parse_overrides(struct pctx *p, json_t *v, struct test_case *tc)
{
	const char *key;
	json_t *o;
	if (!v)
		return 0;
	if (!json_is_object(v))
		return fail(p, "by_image: expected an object mapping image names to overrides");
	tc->overrides = calloc(json_object_size(v) + 1, sizeof *tc->overrides);
	if (!tc->overrides)
		return -ENOMEM;
	json_object_foreach(v, key, o) {
		int r = parse_override(p, key, o, &tc->overrides[tc->n_overrides++]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_machine(struct pctx *p, json_t *root, struct test_case *tc)
{
	static const char *const machines[] = { "q35", "pc", "microvm", "virt" };
	int i = 0, r = get_str(p, root, "machine", "", false, &tc->machine);
	if (r < 0)
		return r;
	tc->machine_given = tc->machine != NULL;
	if (!tc->machine)   /* an aarch64 run boots virt instead (runner: case_arch_misfit()) */
		return (tc->machine = strdup("q35")) ? 0 : -ENOMEM;
	if (parse_enum(p, tc->machine, "machine", machines, 4, &i) < 0)
		return fail(p, "machine: unknown value \"%s\" (known: q35, pc, microvm, virt)", tc->machine);
	return 0;
}

/* "hypervisor": "qemu" (the default) or "cloud-hypervisor", which ch_runner.c boots */
static int parse_hypervisor(struct pctx *p, json_t *root, struct test_case *tc)
{
	json_t *v = json_object_get(root, "hypervisor");
	const char *s = json_string_value(v);

	if (!v || (s && strcmp(s, "qemu") == 0))
		return 0;
	if (s && strcmp(s, "cloud-hypervisor") == 0) {
		tc->hypervisor = HV_CLOUD_HYPERVISOR;
		return 0;
	}
	return fail(p, "hypervisor: expected \"qemu\" or \"cloud-hypervisor\"");
}

/* "expectations": "fw_cfg" (QEMU's default) or "disk" (the labelled disk, the only way on
 * cloud-hypervisor, which has no fw_cfg) */
static int parse_expectations(struct pctx *p, json_t *root, struct test_case *tc)
{
	json_t *v = json_object_get(root, "expectations");
	const char *s = json_string_value(v);

	if (!v)
		return 0;
	if (s && strcmp(s, "disk") == 0)
		tc->expectations = EXPECT_VIA_DISK;
	else if (s && strcmp(s, "fw_cfg") == 0)
		tc->expectations = EXPECT_VIA_FW_CFG;
	else
		return fail(p, "expectations: expected \"fw_cfg\" or \"disk\"");
	if (tc->expectations == EXPECT_VIA_FW_CFG && tc->hypervisor == HV_CLOUD_HYPERVISOR)
		return fail(p, "expectations: cloud-hypervisor has no fw_cfg, so its guest gets the manifest on a disk "
			    "(\"disk\", the default there)");
	return 0;
}

#define TIMEOUT_WHY " seconds (leave the field out for the default)"

static int parse_timeouts(struct pctx *p, json_t *root, struct test_case *tc)
{
	static const char *const known[] = { "first_contact", "verdict", "idle", NULL };
	json_t *t = json_object_get(root, "timeouts");
	int r;
	if (!t)
		return 0;
	if (!json_is_object(t))
		return fail(p, "timeouts: expected an object with first_contact, idle and/or verdict (seconds)");
	if ((r = check_fields(p, t, "timeouts.", known)) < 0 ||
	    (r = get_uint(p, t, "first_contact", "timeouts.", 1, 3600, TIMEOUT_WHY, &tc->first_contact_s)) < 0)
		return r;
	if ((r = get_uint(p, t, "idle", "timeouts.", 1, 3600, TIMEOUT_WHY, &tc->idle_s)) < 0)
		return r;
	return get_uint(p, t, "verdict", "timeouts.", 1, 3600, TIMEOUT_WHY, &tc->verdict_s);
}

/* What the JSON types allow but the run cannot use. */
static int check_lists(struct pctx *p, const struct test_case *tc)
{
	if (tc->images && tc->n_images == 0)
		return fail(p, "image: an empty list runs nowhere");
	for (size_t i = 0; i < tc->n_images; i++)
		if (!image_flavor_name_ok(tc->images[i]))
			return fail(p, "image: \"%s\" is not a flavor name (%s)", tc->images[i], FLAVOR_RULE);
	for (size_t i = 0; i < tc->n_oem_strings; i++)
		if (tc->oem_strings[i][0] == '\0')
			return fail(p, "oem_strings[%zu]: empty; QEMU cannot pass an empty SMBIOS type 11 string, so it "
				    "would never reach the guest", i);
	return 0;
}

static int get_bool(struct pctx *p, json_t *root, const char *key, bool *out)
{
	json_t *v = json_object_get(root, key);
	if (v && !json_is_boolean(v))
		return fail(p, "%s: expected true or false", key);
	*out = v && json_is_true(v);
	return 0;
}

/* The name of the first credential sent on the kernel command line, or NULL. */
static const char *first_cmdline_cred(const struct test_case *tc)
{
	for (size_t i = 0; i < tc->n_creds; i++)
		if (tc->creds[i].via == VIA_CMDLINE)
			return tc->creds[i].name;
	return NULL;
}

/* "guest", "firmware", "arch" (runner/case_guest.c), then whether the rest of the case fits them. */
static int parse_guest(struct pctx *p, json_t *root, struct test_case *tc)
{
	char *msg = NULL;
	int r = case_guest_parse(root, p->dir, &tc->guest, &tc->firmware, &tc->firmware_given, &tc->arch, &tc->arch_given,
				 &msg);

	if (r == 0 && tc->machine_given && strcmp(tc->machine, "virt") == 0 && !tc->arch_given)
		tc->arch = GUEST_ARCH_AARCH64, tc->arch_given = true;   /* virt is aarch64's machine */
	if (r == 0)
		r = case_arch_fit(tc->arch, tc->arch_given, tc->firmware, tc->firmware_given, tc->machine, tc->machine_given,
				  &msg);
	if (r == 0)
		r = case_guest_fit(tc->guest, tc->firmware, tc->machine, first_cmdline_cred(tc), tc->cmdline_extra != NULL, &msg);
	if (r == -EINVAL)
		r = fail(p, "%s", msg ? msg : "guest: out of memory");
	else if (r == 0 && tc->hypervisor == HV_CLOUD_HYPERVISOR && (tc->guest || tc->firmware == FIRMWARE_UEFI))
		r = fail(p, "%s: the cloud-hypervisor runner boots built flavors with SeaBIOS-free direct kernel boot only "
			 "(use \"hypervisor\": \"qemu\")", tc->guest ? "guest" : "firmware");
	free(msg);
	return r;
}

int case_use_guest(struct test_case *tc, const struct case_guest *guest, const enum case_firmware *firmware, char **error)
{
	struct pctx p = { .path = tc->path, .error = error };
	struct case_guest *copy = NULL;
	enum case_firmware fw = firmware && !tc->firmware_given ? *firmware : tc->firmware;
	char *msg = NULL;
	int r;

	if (error)
		*error = NULL;
	if (!tc->guest && guest && (r = case_guest_copy(guest, &copy)) < 0)
		return r;
	r = case_guest_fit(copy ? copy : tc->guest, fw, tc->machine, first_cmdline_cred(tc), tc->cmdline_extra != NULL, &msg);
	if (r == -EINVAL)
		r = fail(&p, "%s", msg ? msg : "out of memory");
	free(msg);
	if (r < 0) {
		case_guest_free(copy);
		return r;
	}
	if (copy)
		tc->guest = copy;
	tc->firmware = fw;
	return 0;
}

/* "smbios_entry_point": the anchor the guest kernel must have found (the agent reports it):
 * "_SM3_" (SMBIOS 3.0, 64-bit: UEFI), "_SM_" (2.x: SeaBIOS), "_DMI_" (legacy), "none". */
static int parse_smbios_entry(struct pctx *p, json_t *root, struct test_case *tc)
{
	static const char *const anchors[] = { "_SM3_", "_SM_", "_DMI_", "none" };
	int i, r = get_str(p, root, "smbios_entry_point", "", false, &tc->smbios_entry_point);

	if (r < 0 || !tc->smbios_entry_point)
		return r;
	if (parse_enum(p, tc->smbios_entry_point, "smbios_entry_point", anchors, 4, &i) < 0)
		return fail(p, "smbios_entry_point: unknown value \"%s\" (known: _SM3_, _SM_, _DMI_, none)",
			    tc->smbios_entry_point);
	return 0;
}

/* "zero_install": true: the harness sends the agent's unit as systemd.extra-unit credentials
 * by SMBIOS and the static agent on the disk (runner/zero_install.h); QEMU with SMBIOS only. */
static int zero_install_fits(struct pctx *p, const struct test_case *tc)
{
	if (tc->hypervisor != HV_QEMU)
		return fail(p, "zero_install: QEMU only (the unit goes by SMBIOS and the agent on a disk; the "
			    "cloud-hypervisor runner does neither)");
	if (tc->machine && strcmp(tc->machine, "microvm") == 0)
		return fail(p, "zero_install: microvm has no SMBIOS, and the unit's credential name "
			    "(" ZI_UNIT_CRED ") is longer than a fw_cfg name may be; use q35 or pc");
	for (size_t i = 0; i < tc->n_creds; i++)
		if (strcmp(tc->creds[i].name, ZI_UNIT_CRED) == 0 || strcmp(tc->creds[i].name, ZI_DROPIN_CRED) == 0)
			return fail(p, "credentials: %s is the name zero_install sends itself", tc->creds[i].name);
	return 0;
}

static int parse_zero_install(struct pctx *p, json_t *root, struct test_case *tc)
{
	int r = get_bool(p, root, "zero_install", &tc->zero_install);

	return r < 0 || !tc->zero_install ? r : zero_install_fits(p, tc);
}

int case_use_zero_install(struct test_case *tc, char **error)
{
	struct pctx p = { .path = tc->path, .error = error };
	int r;

	if (error)
		*error = NULL;
	if ((r = zero_install_fits(&p, tc)) == 0)
		tc->zero_install = true;
	return r;
}

static int parse_root(struct pctx *p, json_t *root, struct test_case *tc)
{
	static const char *const known[] = { "name", "image", "machine", "credentials", "oem_strings", "fw_cfg_raw", "expect",
					     "expect_fate", "by_image", "strict", "outcome", "diagnosis",
					     "kernel_cmdline_extra", "timeouts", "memory_mb", "description", "hypervisor",
					     "differential", "guest", "firmware", "arch", "smbios_entry_point", "expectations",
					     "zero_install", NULL };
	bool has_outcome = false;
	int r;
	if (!json_is_object(root))
		return fail(p, "the top level must be a JSON object");
	if ((r = check_fields(p, root, "", known)) < 0 || (r = get_str(p, root, "name", "", true, &tc->name)) < 0 ||
	    (r = parse_str_list(p, json_object_get(root, "image"), "image", true, &tc->images, &tc->n_images)) < 0 ||
	    (r = parse_machine(p, root, tc)) < 0 || (r = parse_hypervisor(p, root, tc)) < 0 ||
	    (r = parse_expectations(p, root, tc)) < 0 || (r = parse_creds(p, root, tc)) < 0 ||
	    (r = parse_str_list(p, json_object_get(root, "oem_strings"), "oem_strings", false, &tc->oem_strings,
				&tc->n_oem_strings)) < 0 || (r = parse_fw_cfg_raw(p, root, tc)) < 0 ||
	    (r = parse_expect(p, json_object_get(root, "expect"), "", &tc->expect, &tc->n_expect)) < 0 ||
	    (r = parse_fates(p, json_object_get(root, "expect_fate"), "", &tc->fates, &tc->n_fates)) < 0 ||
	    (r = parse_overrides(p, json_object_get(root, "by_image"), tc)) < 0 ||
	    (r = parse_outcome(p, root, "", &has_outcome, &tc->outcome)) < 0 ||
	    (r = get_str(p, root, "diagnosis", "", false, &tc->diagnosis)) < 0 ||
	    (r = get_str(p, root, "kernel_cmdline_extra", "", false, &tc->cmdline_extra)) < 0 ||
	    (r = parse_timeouts(p, root, tc)) < 0 || (r = get_uint(p, root, "memory_mb", "", CASE_MEMORY_MIN_MB, CASE_MEMORY_MAX_MB,
				 " MiB (QEMU and --memory need at least 128; leave it out for the default)", &tc->memory_mb)) < 0)
		return r;
	if ((r = get_bool(p, root, "strict", &tc->strict)) < 0 || (r = get_bool(p, root, "differential", &tc->differential)) < 0)
		return r;
	if (tc->differential && (tc->n_expect || tc->strict || has_outcome || tc->diagnosis))
		return fail(p, "differential: the model is judged against what PID 1 did, so the case gives no "
			    "expect, strict, outcome or diagnosis");
	if (tc->name[0] == '\0' || strpbrk(tc->name, "/ \t\n"))
		return fail(p, "name: must be non-empty, without '/' or blanks (it names files and test lines)");
	if ((r = parse_guest(p, root, tc)) < 0 || (r = parse_smbios_entry(p, root, tc)) < 0 ||
	    (r = parse_zero_install(p, root, tc)) < 0)
		return r;
	return check_lists(p, tc);
}

int case_parse(const char *buf, size_t len, const char *path, struct test_case *out, char **error)
{
	char *pathcopy = strdup(path);
	struct pctx p = { .path = path, .dir = pathcopy ? dirname(pathcopy) : ".", .error = error };
	memset(out, 0, sizeof *out);
	if (error)
		*error = NULL;
	if (!pathcopy || !(out->path = strdup(path))) {
		free(pathcopy);
		return -ENOMEM;
	}
	/* no limit here: case_load() bounds the file where it reads it */
	const struct json_doc doc = { path, SIZE_MAX, JSON_DOC_FILE };
	json_t *root;
	int r = json_doc_load(&doc, buf, len, &root, error);
	if (r == 0)
		r = parse_root(&p, root, out);
	json_decref(root);
	free(pathcopy);
	if (r < 0)
		case_free(out);
	return r;
}

int case_load(const char *path, struct test_case *out, char **error)
{
	uint8_t *buf;
	size_t len;
	int r = file_read_bounded(AT_FDCWD, path, CASE_MAX_SIZE, &buf, &len);
	memset(out, 0, sizeof *out);
	if (r < 0) {
		if (error && asprintf(error, "%s: cannot read the case: %s", path, file_error_text(r)) < 0)
			*error = NULL;
		return r;
	}
	r = case_parse((const char *)buf, len, path, out, error);
	free(buf);
	return r;
}

void case_free_all(struct test_case *cases, size_t n)
{
	for (size_t i = 0; cases && i < n; i++)
		case_free(&cases[i]);
	free(cases);
}

static int duplicate_name(const struct test_case *cases, size_t n, char **error)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = i + 1; k < n; k++)
			if (strcmp(cases[i].name, cases[k].name) == 0) {
				if (error && asprintf(error, "%s and %s: both name the case \"%s\" (each case needs a name "
						      "of its own: it names the console log, the TAP and the JUnit lines)",
						      cases[i].path, cases[k].path, cases[i].name) < 0)
					*error = NULL;
				return -EINVAL;
			}
	return 0;
}

int case_load_all(const char *const *paths, size_t n, struct test_case **out, char **error)
{
	struct test_case *cases = calloc(n + 1, sizeof *cases);
	int r = 0;

	*out = NULL;
	if (error)
		*error = NULL;
	if (!cases)
		return -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++)
		r = case_load(paths[i], &cases[i], error);
	if (r == 0)
		r = duplicate_name(cases, n, error);
	if (r < 0) {
		case_free_all(cases, n);
		return r;
	}
	*out = cases;
	return 0;
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

static int unknown_flavor(const struct test_case *tc, const char *field, const char *flavor, const char *image_dir,
			  const char *const *built, size_t n_built, char **error)
{
	size_t len = 0;
	for (size_t i = 0; i < n_built; i++)
		len += strlen(built[i]) + 2;
	char *list = calloc(len + 1, 1);
	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < n_built; i++)
		strcat(strcat(list, i ? ", " : ""), built[i]);
	if (error && asprintf(error, "%s: %s: \"%s\" is not a flavor of this run (--images) nor one built in %s "
			      "(there: %s)", tc->path, field, flavor, image_dir, n_built ? list : "none; run `make images`") < 0)
		*error = NULL;
	free(list);
	return -EINVAL;
}

int case_check_flavors(const struct test_case *tc, const char *const *known, size_t n_known, const char *image_dir,
		       const char *const *built, size_t n_built, char **error)
{
	if (error)
		*error = NULL;
	for (size_t i = 0; i < tc->n_images; i++)
		if (!in_list(tc->images[i], known, n_known) && !in_list(tc->images[i], built, n_built))
			return unknown_flavor(tc, "image", tc->images[i], image_dir, built, n_built, error);
	for (size_t i = 0; i < tc->n_overrides; i++) {
		const char *f = tc->overrides[i].image;
		if (!in_list(f, known, n_known) && !in_list(f, built, n_built))
			return unknown_flavor(tc, "by_image", f, image_dir, built, n_built, error);
	}
	return 0;
}

bool case_cred_is_secret(const struct case_cred *c)
{
	return c->value == NULL;
}

int case_cred_load(const struct case_cred *c, uint8_t **out, size_t *out_len, char **error)
{
	int r = 0;
	*out = NULL;
	*out_len = 0;
	if (c->value) {
		*out = malloc(c->value_len + 1);
		if (!*out)
			return -ENOMEM;
		memcpy(*out, c->value, c->value_len + 1);
		*out_len = c->value_len;
		return 0;
	}
	if (c->random_len) {
		*out = malloc(c->random_len);
		if (!*out)
			return -ENOMEM;
		*out_len = c->random_len;
		r = random_bytes(*out, c->random_len);
	} else
		r = secret_read_file(c->file, CASE_RANDOM_MAX, out, out_len);
	if (r < 0 && error && asprintf(error, "credential %s: cannot read %s: %s", c->name,
				       c->file ? c->file : "the random source", file_error_text(r)) < 0)
		*error = NULL;
	if (r < 0 && *out) {
		secret_clear(*out, *out_len);
		free(*out);
		*out = NULL;
	}
	return r;
}

bool case_runs_on(const struct test_case *tc, const char *image)
{
	if (tc->guest)   /* once, on its own guest: the runner labels it CASE_GUEST_LABEL */
		return strcmp(image, CASE_GUEST_LABEL) == 0;
	if (!tc->images)
		return true;
	for (size_t i = 0; i < tc->n_images; i++)
		if (strcmp(tc->images[i], image) == 0)
			return true;
	return false;
}

static const struct case_override *find_override(const struct test_case *tc, const char *image)
{
	for (size_t i = 0; i < tc->n_overrides; i++)
		if (strcmp(tc->overrides[i].image, image) == 0)
			return &tc->overrides[i];
	return NULL;
}

static void view_set_expect(struct case_view *v, const struct case_expectation *e)
{
	for (size_t i = 0; i < v->n_expect; i++)
		if (strcmp(v->expect[i].name, e->name) == 0) {
			v->expect[i] = *e;
			return;
		}
	v->expect[v->n_expect++] = *e;
}

int case_view(const struct test_case *tc, const char *image, struct case_view *out)
{
	const struct case_override *ov = find_override(tc, image);
	size_t ne = tc->n_expect + (ov ? ov->n_expect : 0), nf = tc->n_fates + (ov ? ov->n_fates : 0);
	memset(out, 0, sizeof *out);
	out->tc = tc;
	out->image = image;
	out->expect = calloc(ne + 1, sizeof *out->expect);
	out->fates = calloc(nf + 1, sizeof *out->fates);
	if (!out->expect || !out->fates) {
		case_view_free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < tc->n_expect; i++)
		view_set_expect(out, &tc->expect[i]);
	for (size_t i = 0; i < tc->n_fates; i++)
		out->fates[out->n_fates++] = &tc->fates[i];
	out->outcome = tc->outcome;
	out->diagnosis = tc->diagnosis;
	if (!ov)
		return 0;
	for (size_t i = 0; i < ov->n_expect; i++)
		view_set_expect(out, &ov->expect[i]);
	for (size_t i = 0; i < ov->n_fates; i++)
		out->fates[out->n_fates++] = &ov->fates[i];
	if (ov->has_outcome)
		out->outcome = ov->outcome;
	if (ov->diagnosis)
		out->diagnosis = ov->diagnosis;
	return 0;
}

void case_view_free(struct case_view *v)
{
	free(v->expect);
	free((void *)v->fates);
	v->expect = NULL;
	v->fates = NULL;
}

enum case_expect case_view_expect(const struct case_view *v, const char *name, bool *listed)
{
	for (size_t i = 0; i < v->n_expect; i++)
		if (strcmp(v->expect[i].name, name) == 0) {
			if (listed)
				*listed = true;
			return v->expect[i].kind;
		}
	if (listed)
		*listed = false;
	return CEXPECT_EXACT;
}

static void free_fates(struct case_fate *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].name);
		free(f[i].source);
		free(f[i].fate);
	}
	free(f);
}

static void free_expect(struct case_expectation *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void case_free(struct test_case *tc)
{
	for (size_t i = 0; i < tc->n_creds; i++) {
		free(tc->creds[i].name);
		free(tc->creds[i].value);
		free(tc->creds[i].file);
	}
	free(tc->creds);
	for (size_t i = 0; i < tc->n_overrides; i++) {
		free(tc->overrides[i].image);
		free_expect(tc->overrides[i].expect, tc->overrides[i].n_expect);
		free_fates(tc->overrides[i].fates, tc->overrides[i].n_fates);
		free(tc->overrides[i].diagnosis);
	}
	free(tc->overrides);
	free_strv(tc->images, tc->n_images);
	free_strv(tc->oem_strings, tc->n_oem_strings);
	for (size_t i = 0; i < tc->n_fw_cfg_raw; i++)
		free(tc->fw_cfg_raw[i].name), free(tc->fw_cfg_raw[i].value);
	free(tc->fw_cfg_raw);
	free_expect(tc->expect, tc->n_expect);
	free_fates(tc->fates, tc->n_fates);
	free(tc->path);
	free(tc->name);
	free(tc->machine);
	case_guest_free(tc->guest);
	free(tc->smbios_entry_point);
	free(tc->diagnosis);
	free(tc->cmdline_extra);
	memset(tc, 0, sizeof *tc);
}
