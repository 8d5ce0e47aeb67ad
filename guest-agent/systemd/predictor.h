/* predictor: the replay's working state, shared by the files of the import model
 * (import_creds.c, smbios11.c) and by nothing else.
 *
 * Promise: a candidate is appended with cand_new() and judged exactly once by cand_fate()
 * (directly, or through judge_named(), which applies upstream's name check, base64 decode,
 * size limit, shared budget and O_EXCL first-writer-wins in that order). Candidates are
 * addressed by index because the array moves when it grows.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "systemd/import_types.h"
#include "systemd/versions.h"

struct predictor {
	unsigned version;                       /* effective version: 0 becomes the newest row's */
	const struct systemd_release *rel;      /* the rules of that version */
	struct prediction *out;
	size_t cap;
	size_t used_by[_CRED_SOURCE_MAX];       /* budget bytes per source, for details */
	size_t *slots;                          /* hash set of created names: candidate index + 1 */
	size_t n_slots, n_created;
	/* the store's capacity (env.store): pages of page_size and inodes; 0 = unlimited */
	size_t page_size, max_pages, max_files;
	/* a source whose create or write failed (ENOSPC): the candidate index + 1 that failed;
	 * systemd returns from that source, the other sources still run */
	size_t aborted_by[_CRED_SOURCE_MAX];
	size_t first_full;                      /* index + 1 of the first ENOSPC, 0 none */
	bool full_by_inodes;
	size_t n_full;                          /* candidates dropped by a full store */
};

struct cred_candidate *cand_at(struct predictor *pr, size_t i);
/* Appends a candidate whose origin is printf-formatted; *idx is its index. 0 or -ENOMEM. */
int cand_new(struct predictor *pr, enum cred_source src, size_t *idx, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Sets the fate and its detail (printf-formatted, NULL for none). 0 or -ENOMEM. */
int cand_fate(struct predictor *pr, size_t idx, enum cred_fate fate, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int cand_set_name(struct predictor *pr, size_t idx, const char *name, size_t len);
/* The value as the host sent it: text copied, base64 decoded by the version's rules (left
 * NULL when undecodable). 0 or -ENOMEM. */
int cand_set_value(struct predictor *pr, size_t idx, const char *v, size_t len, bool binary);
/* Name check, optional base64 decode, then size, budget and duplicate checks; V/VLEN is
 * what systemd sees. TRUNC_DETAIL, when not NULL, says how a page cut shortened it. */
int judge_named(struct predictor *pr, size_t idx, const char *name, size_t nlen,
		const char *v, size_t vlen, bool binary, const char *trunc_detail);

/* The SMBIOS source (smbios11.c): every string of every 11-N entry, in systemd's order.
 * SKIP, when not NULL, is why the whole source was skipped. 0 or -ENOMEM. */
int predict_smbios(struct predictor *pr, const struct import_sources *src, size_t page_size, const char *skip);
