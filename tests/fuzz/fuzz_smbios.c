/* libFuzzer target for the SMBIOS parsers: entry point, DMI table walk, one 11-N/raw entry,
 * the entries/table cross-check and the per-string judgment.
 *
 * Input: byte 0 = n (mod 40), then n bytes of tables/smbios_entry_point, then the rest,
 * used both as tables/DMI and as entries/11-0/raw. Seeds: tests/fuzz/corpus/fuzz_smbios
 * (the real QEMU fixtures in this layout). Beyond "no crash, no leak", it checks that every
 * string and structure the parsers return lies inside the input. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "smbios.h"
#include "smbios_view.h"

static void check_inside(const struct smbios_structure *s, const uint8_t *buf, size_t len)
{
	if (s->bytes < buf || s->bytes + s->size > buf + len)
		__builtin_trap();
	for (size_t i = 0; i < s->n_strings; i++) {
		const struct smbios_string *x = &s->strings[i];

		if (x->len == 0 || x->data < buf || x->data + x->len > buf + len)
			__builtin_trap();
	}
}

static void judge_all(const struct smbios_structure *s, unsigned version)
{
	for (size_t i = 0; i < s->n_strings; i++) {
		struct smbios_verdict v;

		if (smbios_judge_string(&s->strings[i], version, 64, false, NULL, NULL, 0, &v) == 0 && !v.summary)
			__builtin_trap();
		smbios_verdict_free(&v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smbios_findings f = { 0 };
	struct smbios_entry_point ep;
	struct smbios_structure s;
	struct smbios_table t;
	size_t ep_len, rest_len;
	const uint8_t *rest;

	if (size < 1)
		return 0;
	ep_len = data[0] % 40;
	if (ep_len > size - 1)
		ep_len = size - 1;
	rest = data + 1 + ep_len;
	rest_len = size - 1 - ep_len;
	struct raw_blob entry = { .name = (char *) "11-0", .data = (uint8_t *) rest, .len = rest_len };

	(void) smbios_parse_entry_point(data + 1, ep_len, &ep, &f);
	if (smbios_parse_table(rest, rest_len, &ep, &t, &f) == 0) {
		for (size_t i = 0; i < t.n_structs; i++)
			check_inside(&t.structs[i], rest, rest_len);
		(void) smbios_cross_check(&entry, 1, &t, &f);
		smbios_table_free(&t);
	}
	if (smbios_parse_structure(rest, rest_len, 0, true, "entries/11-0/raw", &s, &f) != -ENOMEM) {
		check_inside(&s, rest, rest_len);
		judge_all(&s, 252);
		judge_all(&s, 0);
		smbios_structure_free(&s);
	}
	(void) smbios_check_page_size(&entry, 1, 64, 252, &f);
	for (size_t i = 0; i < f.n; i++)
		if (!f.v[i].message || !f.v[i].where)
			__builtin_trap();
	smbios_findings_free(&f);
	return 0;
}
