/* smbios_entry_point: tables/smbios_entry_point parsed as the kernel's dmi_present() and
 * dmi_smbios3_present() (drivers/firmware/dmi_scan.c) accept it: the 2.1 "_SM_" point with
 * its "_DMI_" intermediate, the legacy "_DMI_" point and the 3.0 "_SM3_" point, with their
 * length and checksum rules. Every problem is a finding naming its byte. See smbios.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "smbios.h"

#define EP_WHERE "tables/smbios_entry_point"

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static uint16_t le16(const uint8_t *p) { return (uint16_t) (p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t) le16(p) | (uint32_t) le16(p + 2) << 16; }
static uint64_t le64(const uint8_t *p) { return (uint64_t) le32(p) | (uint64_t) le32(p + 4) << 32; }

/* Length byte at `at`: the kernel requires < 32 and checksums that many bytes; the fields
 * need at least `min`. Returns 1 when usable, 0 when not (finding added), or -ENOMEM. */
static int check_ep_length(const uint8_t *buf, size_t len, size_t at, uint8_t min, struct smbios_findings *f)
{
	uint8_t l;

	if (len <= at)
		return smbios_finding_add(f, SMBIOS_FINDING_ENTRY_POINT, EP_WHERE, len,
				   "the entry point is %zu bytes, too short for its length byte at byte %zu", len, at);
	l = buf[at];
	if (l >= 32)
		return smbios_finding_add(f, SMBIOS_FINDING_ENTRY_POINT, EP_WHERE, at,
				   "length byte is %u; the kernel accepts only lengths below 32", l);
	if (l < min)
		return smbios_finding_add(f, SMBIOS_FINDING_ENTRY_POINT, EP_WHERE, at,
				   "length byte is %u, shorter than the %u bytes of this entry point's fields", l, min);
	if (l > len)
		return smbios_finding_add(f, SMBIOS_FINDING_ENTRY_POINT, EP_WHERE, len,
				   "length byte says %u bytes but the file ends after %zu", l, len);
	return 1;
}

/* Checksum over n bytes from `from`, reported at the checksum byte `at`. Returns 1 ok, 0 bad. */
static int check_sum(const uint8_t *buf, size_t from, size_t n, size_t at, const char *what,
		     struct smbios_findings *f)
{
	uint8_t s = sum8(buf + from, n);

	if (s == 0)
		return 1;
	return smbios_finding_add(f, SMBIOS_FINDING_ENTRY_POINT, EP_WHERE, at,
			   "%s checksum over %zu bytes from byte %zu sums to 0x%02x, not 0", what, n, from, s);
}

static int parse_ep30(const uint8_t *buf, size_t len, struct smbios_entry_point *ep, struct smbios_findings *f)
{
	int r = check_ep_length(buf, len, 6, 0x18, f);

	if (r <= 0)
		return r;
	ep->ep_length = buf[6];
	ep->major = buf[7];
	ep->minor = buf[8];
	ep->docrev = buf[9];
	ep->table_length = le32(buf + 0x0c);
	ep->table_address = le64(buf + 0x10);
	return check_sum(buf, 0, ep->ep_length, 5, "entry point", f);
}

static int parse_ep21(const uint8_t *buf, size_t len, struct smbios_entry_point *ep, struct smbios_findings *f)
{
	/* 0x1e: SMBIOS 2.1's own typo for 0x1f; the kernel accepts it and then exposes only 30
	 * bytes, so the intermediate's last byte (BCD revision) is missing from the file. */
	int r = check_ep_length(buf, len, 5, 0x1e, f), ok;

	if (r <= 0)
		return r;
	ep->ep_length = buf[5];
	ep->major = buf[6];
	ep->minor = buf[7];
	ep->table_length = le16(buf + 0x16);
	ep->table_address = le32(buf + 0x18);
	ep->n_structures = le16(buf + 0x1c);
	ok = check_sum(buf, 0, ep->ep_length, 4, "entry point", f);
	if (ok <= 0)
		return ok;
	if (memcmp(buf + 0x10, "_DMI_", 5) != 0)
		return smbios_finding_add(f, SMBIOS_FINDING_ENTRY_POINT, EP_WHERE, 0x10,
				   "no _DMI_ intermediate anchor at byte 16");
	if (ep->ep_length < 0x1f) {
		r = smbios_finding_add(f, SMBIOS_FINDING_ENTRY_POINT, EP_WHERE, 5,
				       "length byte is 30 (SMBIOS 2.1's typo for 31): the intermediate checksum "
				       "cannot be verified");
		return r < 0 ? r : 1;
	}
	return check_sum(buf, 0x10, 15, 0x15, "intermediate (_DMI_)", f);
}

static int parse_ep_legacy(const uint8_t *buf, size_t len, struct smbios_entry_point *ep, struct smbios_findings *f)
{
	if (len < 15)
		return smbios_finding_add(f, SMBIOS_FINDING_ENTRY_POINT, EP_WHERE, len,
				   "the legacy _DMI_ entry point is %zu bytes, it needs 15", len);
	ep->ep_length = 15;
	ep->table_length = le16(buf + 6);
	ep->table_address = le32(buf + 8);
	ep->n_structures = le16(buf + 12);
	ep->major = buf[14] >> 4;
	ep->minor = buf[14] & 0x0f;
	return check_sum(buf, 0, 15, 5, "entry point", f);
}

int smbios_parse_entry_point(const uint8_t *buf, size_t len, struct smbios_entry_point *out,
			     struct smbios_findings *f)
{
	int r;

	*out = (struct smbios_entry_point) { .kind = SMBIOS_EP_NONE };
	if (len >= 5 && memcmp(buf, "_SM3_", 5) == 0) {
		out->kind = SMBIOS_EP_30;
		r = parse_ep30(buf, len, out, f);
	} else if (len >= 4 && memcmp(buf, "_SM_", 4) == 0) {
		out->kind = SMBIOS_EP_21;
		r = parse_ep21(buf, len, out, f);
	} else if (len >= 5 && memcmp(buf, "_DMI_", 5) == 0) {
		out->kind = SMBIOS_EP_LEGACY;
		r = parse_ep_legacy(buf, len, out, f);
	} else
		r = smbios_finding_add(f, SMBIOS_FINDING_ENTRY_POINT, EP_WHERE, 0,
				"no _SM3_, _SM_ or _DMI_ anchor at byte 0 (%zu bytes)", len);
	if (r < 0)
		return r;
	out->valid = r > 0;
	/* The kernel copies exactly the length byte's worth: more means someone else wrote it. */
	if (out->valid && len > out->ep_length) {
		r = smbios_finding_add(f, SMBIOS_FINDING_ENTRY_POINT, EP_WHERE, out->ep_length,
				"%zu bytes follow the %u-byte entry point", len - out->ep_length, out->ep_length);
		if (r < 0)
			return r;
	}
	return out->valid ? 0 : -EBADMSG;
}

const char *smbios_entry_point_version(const struct smbios_entry_point *ep, char *buf, size_t n)
{
	switch (ep->kind) {
	case SMBIOS_EP_30:
		snprintf(buf, n, "%u.%u.%u", ep->major, ep->minor, ep->docrev);
		break;
	case SMBIOS_EP_21:
		snprintf(buf, n, "%u.%u", ep->major, ep->minor);
		break;
	case SMBIOS_EP_LEGACY:
		snprintf(buf, n, "legacy DMI %u.%u", ep->major, ep->minor);
		break;
	default:
		snprintf(buf, n, "unknown");
	}
	return buf;
}
