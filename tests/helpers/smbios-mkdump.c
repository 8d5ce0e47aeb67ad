/* smbios-mkdump ROOT OUT: writes ROOT's SMBIOS tables in dmidecode's --dump-bin layout, so
 * that `dmidecode --from-dump OUT` decodes exactly what the fixture's guest would see.
 *
 * Layout (dmidecode's dump-bin): the entry point at offset 0 with its structure table
 * address rewritten to 32 and its checksums fixed, zero padding, the table at offset 32.
 * Independent of guest-agent/smbios.c on purpose: the differential test compares the two. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smbios.h"

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static void fix_checksum(uint8_t *p, size_t n, size_t at)
{
	p[at] = 0;
	p[at] = (uint8_t) -sum8(p, n);
}

/* Returns 0 when the entry point was understood and rewritten, else -EBADMSG. */
static int rewrite_entry_point(uint8_t hdr[32], size_t len)
{
	if (len >= 0x18 && memcmp(hdr, "_SM3_", 5) == 0 && hdr[6] <= len) {
		memset(hdr + 0x10, 0, 8);
		hdr[0x10] = 32;
		fix_checksum(hdr, hdr[6], 0x05);
		return 0;
	}
	if (len >= 0x1f && memcmp(hdr, "_SM_", 4) == 0 && hdr[5] <= len &&
	    memcmp(hdr + 0x10, "_DMI_", 5) == 0) {
		memset(hdr + 0x18, 0, 4);
		hdr[0x18] = 32;
		fix_checksum(hdr + 0x10, 15, 0x05);
		fix_checksum(hdr, hdr[5], 0x04);
		return 0;
	}
	if (len >= 15 && memcmp(hdr, "_DMI_", 5) == 0) {
		memset(hdr + 0x08, 0, 4);
		hdr[0x08] = 32;
		fix_checksum(hdr, 15, 0x05);
		return 0;
	}
	return -EBADMSG;
}

int main(int argc, char **argv)
{
	uint8_t hdr[32] = { 0 }, *ep, *table;
	size_t ep_len, table_len;
	char *p;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: smbios-mkdump ROOT OUT\n");
		return 2;
	}
	if (asprintf(&p, "%s/sys/firmware/dmi/tables/smbios_entry_point", argv[1]) < 0 ||
	    smbios_read_file(p, &ep, &ep_len) < 0) {
		fprintf(stderr, "smbios-mkdump: cannot read %s\n", p);
		return 2;
	}
	free(p);
	if (asprintf(&p, "%s/sys/firmware/dmi/tables/DMI", argv[1]) < 0 ||
	    smbios_read_file(p, &table, &table_len) < 0) {
		fprintf(stderr, "smbios-mkdump: cannot read %s\n", p);
		return 2;
	}
	free(p);
	memcpy(hdr, ep, ep_len < 32 ? ep_len : 32);
	if (rewrite_entry_point(hdr, ep_len) < 0) {
		fprintf(stderr, "smbios-mkdump: %s: unknown entry point\n", argv[1]);
		return 2;
	}
	f = fopen(argv[2], "we");
	if (!f || fwrite(hdr, 1, 32, f) != 32 || fwrite(table, 1, table_len, f) != table_len ||
	    fclose(f) != 0) {
		fprintf(stderr, "smbios-mkdump: cannot write %s\n", argv[2]);
		return 2;
	}
	free(ep);
	free(table);
	return 0;
}
