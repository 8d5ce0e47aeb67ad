/* libFuzzer target: the manifest parser must never crash, leak or accept a manifest whose
 * canonical re-serialisation does not parse back to the same entries. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m, back;
	char *err = NULL;
	if (manifest_parse((const char *)data, size, &m, &err) < 0) {
		free(err);
		return 0;
	}
	char *json = manifest_to_json(&m);
	if (json) {
		if (manifest_parse(json, strlen(json), &back, &err) < 0 || back.n_entries != m.n_entries)
			abort();
		for (size_t i = 0; i < m.n_entries; i++)
			if (strcmp(back.entries[i].name, m.entries[i].name) || back.entries[i].expect != m.entries[i].expect)
				abort();
		manifest_free(&back);
		free(json);
	}
	manifest_free(&m);
	return 0;
}
