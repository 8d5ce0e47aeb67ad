/* fuzz_case: case_parse() (host-harness/runner/case.h) over any bytes a case file can hold.
 *
 * Proves, beyond "no crash, no leak": a case that parses re-serialises (this target's own
 * writer, field by field) to a document that parses back to the same case; every inline
 * value's length is its string length (case_cred_load() copies value_len bytes); every
 * per-image view (case_view()) of each image named in by_image, and of one that is not,
 * holds only known expectation kinds, and case_view_expect() agrees with the view. The
 * input is the whole file; the path is absolute so relative "file" paths resolve the same
 * way twice. Seeds: tests/integration/cases/ and examples. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runner/case.h"

#define CASE_PATH "/fuzz/case.json"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void set_opt(json_t *o, const char *key, const char *s)
{
	if (s)
		json_object_set_new(o, key, json_string(s));
}

static json_t *expect_json(const struct case_expectation *e, size_t n)
{
	json_t *o = json_object();
	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, e[i].name, json_string(case_expect_name(e[i].kind)));
	return o;
}

static json_t *fates_json(const struct case_fate *f, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		set_opt(o, "name", f[i].name);
		set_opt(o, "source", f[i].source);
		json_object_set_new(o, "fate", json_string(f[i].fate));
		if (f[i].count >= 0)
			json_object_set_new(o, "count", json_integer(f[i].count));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *cred_json(const struct case_cred *c)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "via", json_string(cred_via_name(c->via)));
	if (c->value)
		json_object_set_new(o, "value", json_stringn(c->value, c->value_len));
	else if (c->file)
		json_object_set_new(o, "file", json_string(c->file));
	else
		json_object_set_new(o, "random", json_integer((json_int_t) c->random_len));
	return o;
}

static json_t *case_json(const struct test_case *tc)
{
	static const char *const outcomes[] = { "pass", "fail", "error" };
	json_t *o = json_object(), *a;

	json_object_set_new(o, "name", json_string(tc->name));
	if (tc->images) {
		a = json_array();
		for (size_t i = 0; i < tc->n_images; i++)
			json_array_append_new(a, json_string(tc->images[i]));
		json_object_set_new(o, "image", a);
	}
	json_object_set_new(o, "machine", json_string(tc->machine));
	json_object_set_new(o, "hypervisor", json_string(tc->hypervisor == HV_QEMU ? "qemu" : "cloud-hypervisor"));
	a = json_array();
	for (size_t i = 0; i < tc->n_creds; i++)
		json_array_append_new(a, cred_json(&tc->creds[i]));
	json_object_set_new(o, "credentials", a);
	if (tc->oem_strings) {
		a = json_array();
		for (size_t i = 0; i < tc->n_oem_strings; i++)
			json_array_append_new(a, json_string(tc->oem_strings[i]));
		json_object_set_new(o, "oem_strings", a);
	}
	json_object_set_new(o, "expect", expect_json(tc->expect, tc->n_expect));
	json_object_set_new(o, "expect_fate", fates_json(tc->fates, tc->n_fates));
	a = json_object();
	for (size_t i = 0; i < tc->n_overrides; i++) {
		const struct case_override *ov = &tc->overrides[i];
		json_t *x = json_object();
		json_object_set_new(x, "expect", expect_json(ov->expect, ov->n_expect));
		json_object_set_new(x, "expect_fate", fates_json(ov->fates, ov->n_fates));
		if (ov->has_outcome)
			json_object_set_new(x, "outcome", json_string(outcomes[ov->outcome]));
		set_opt(x, "diagnosis", ov->diagnosis);
		json_object_set_new(a, ov->image, x);
	}
	json_object_set_new(o, "by_image", a);
	json_object_set_new(o, "strict", json_boolean(tc->strict));
	json_object_set_new(o, "outcome", json_string(outcomes[tc->outcome]));
	set_opt(o, "diagnosis", tc->diagnosis);
	set_opt(o, "kernel_cmdline_extra", tc->cmdline_extra);
	if (tc->first_contact_s || tc->verdict_s || tc->idle_s) {
		json_t *t = json_object();
		if (tc->first_contact_s)
			json_object_set_new(t, "first_contact", json_integer(tc->first_contact_s));
		if (tc->verdict_s)
			json_object_set_new(t, "verdict", json_integer(tc->verdict_s));
		if (tc->idle_s)
			json_object_set_new(t, "idle", json_integer(tc->idle_s));
		json_object_set_new(o, "timeouts", t);
	}
	if (tc->memory_mb)
		json_object_set_new(o, "memory_mb", json_integer(tc->memory_mb));
	if (tc->firmware_given)
		json_object_set_new(o, "firmware", json_string(case_firmware_name(tc->firmware)));
	set_opt(o, "smbios_entry_point", tc->smbios_entry_point);
	if (tc->zero_install)
		json_object_set_new(o, "zero_install", json_true());
	if (tc->guest) {   /* absolute paths now: they resolve the same way again */
		json_t *g = json_object();
		set_opt(g, "kernel", tc->guest->kernel);
		set_opt(g, "initrd", tc->guest->initrd);
		set_opt(g, "disk", tc->guest->disk);
		set_opt(g, "format", tc->guest->format);
		set_opt(g, "append", tc->guest->append);
		json_object_set_new(o, "guest", g);
	}
	return o;
}

static int opt_cmp(const char *a, const char *b)
{
	return (!a || !b) ? (a != b) : strcmp(a, b);
}

static void same_expect(const struct case_expectation *a, size_t na, const struct case_expectation *b, size_t nb)
{
	if (na != nb)
		abort();
	for (size_t i = 0; i < na; i++)   /* jansson keeps insertion order */
		if (strcmp(a[i].name, b[i].name) || a[i].kind != b[i].kind)
			abort();
}

static void same_fates(const struct case_fate *a, size_t na, const struct case_fate *b, size_t nb)
{
	if (na != nb)
		abort();
	for (size_t i = 0; i < na; i++)
		if (opt_cmp(a[i].name, b[i].name) || opt_cmp(a[i].source, b[i].source) || strcmp(a[i].fate, b[i].fate) ||
		    a[i].count != b[i].count)
			abort();
}

static void same_case(const struct test_case *a, const struct test_case *b)
{
	if (strcmp(a->name, b->name) || strcmp(a->machine, b->machine) || a->hypervisor != b->hypervisor ||
	    a->n_images != b->n_images || !a->images != !b->images || a->n_creds != b->n_creds ||
	    a->n_oem_strings != b->n_oem_strings || a->n_overrides != b->n_overrides || a->strict != b->strict ||
	    a->outcome != b->outcome || opt_cmp(a->diagnosis, b->diagnosis) || opt_cmp(a->cmdline_extra, b->cmdline_extra) ||
	    a->first_contact_s != b->first_contact_s || a->verdict_s != b->verdict_s || a->idle_s != b->idle_s ||
	    a->memory_mb != b->memory_mb || a->firmware != b->firmware || a->firmware_given != b->firmware_given ||
	    opt_cmp(a->smbios_entry_point, b->smbios_entry_point) || !a->guest != !b->guest ||
	    a->zero_install != b->zero_install)
		abort();
	if (a->guest && (opt_cmp(a->guest->kernel, b->guest->kernel) || opt_cmp(a->guest->initrd, b->guest->initrd) ||
			 opt_cmp(a->guest->disk, b->guest->disk) || opt_cmp(a->guest->format, b->guest->format) ||
			 opt_cmp(a->guest->append, b->guest->append)))
		abort();
	for (size_t i = 0; i < a->n_images; i++)
		if (strcmp(a->images[i], b->images[i]))
			abort();
	for (size_t i = 0; i < a->n_oem_strings; i++)
		if (strcmp(a->oem_strings[i], b->oem_strings[i]))
			abort();
	for (size_t i = 0; i < a->n_creds; i++) {
		const struct case_cred *x = &a->creds[i], *y = &b->creds[i];
		if (strcmp(x->name, y->name) || x->via != y->via || opt_cmp(x->value, y->value) ||
		    x->value_len != y->value_len || opt_cmp(x->file, y->file) || x->random_len != y->random_len)
			abort();
	}
	same_expect(a->expect, a->n_expect, b->expect, b->n_expect);
	same_fates(a->fates, a->n_fates, b->fates, b->n_fates);
	for (size_t i = 0; i < a->n_overrides; i++) {
		const struct case_override *x = &a->overrides[i], *y = &b->overrides[i];
		if (strcmp(x->image, y->image) || x->has_outcome != y->has_outcome ||
		    (x->has_outcome && x->outcome != y->outcome) || opt_cmp(x->diagnosis, y->diagnosis))
			abort();
		same_expect(x->expect, x->n_expect, y->expect, y->n_expect);
		same_fates(x->fates, x->n_fates, y->fates, y->n_fates);
	}
}

static void check_view(const struct test_case *tc, const char *image)
{
	struct case_view v;

	(void) case_runs_on(tc, image);
	if (case_view(tc, image, &v) < 0)
		return;
	for (size_t i = 0; i < v.n_expect; i++) {
		bool listed = false;
		if (v.expect[i].kind > CEXPECT_DIFFERENT || case_view_expect(&v, v.expect[i].name, &listed) != v.expect[i].kind ||
		    !listed)
			abort();
	}
	for (size_t i = 0; i < v.n_fates; i++)
		if (!v.fates[i] || !v.fates[i]->fate)
			abort();
	case_view_free(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct test_case tc, back;
	char *err = NULL;

	if (case_parse((const char *) data, size, CASE_PATH, &tc, &err) < 0) {
		free(err);
		return 0;
	}
	for (size_t i = 0; i < tc.n_creds; i++)
		if (tc.creds[i].value && strlen(tc.creds[i].value) != tc.creds[i].value_len)
			abort();
	json_t *j = case_json(&tc);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (s) {
		if (case_parse(s, strlen(s), CASE_PATH, &back, &err) < 0)
			abort();   /* what we parsed, written back, must parse */
		same_case(&tc, &back);
		case_free(&back);
		free(s);
	}
	for (size_t i = 0; i < tc.n_overrides; i++)
		check_view(&tc, tc.overrides[i].image);
	check_view(&tc, "no-such-image");
	case_free(&tc);
	return 0;
}
