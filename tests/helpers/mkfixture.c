/* mkfixture: writes a guest root tree for credscope --root: SMBIOS type 11 (dmi-sysfs
 * entries/11-N/raw, a 3.0 _SM3_ entry point and the DMI table), /run/credentials/@system,
 * proc/self/mountinfo, proc/cmdline, a libsystemd-shared-N.so for version detection, and
 * optionally a manifest (credscope JSON, and the same digests in sha256sum format).
 *
 *   mkfixture DIR [--version N] [--fs ramfs|tmpfs|tmpfs-noswap] [--cmdline TEXT]
 *                 [--cred NAME=VALUE]... [--oem STRING]... [--store NAME=VALUE]...
 *                 [--bulk N TOTAL] [--entries K] [--manifest FILE] [--sums FILE]
 *
 * --cred passes NAME=VALUE as io.systemd.credential:, stores it in @system and expects it;
 * --oem adds a raw OEM string only; --store writes a file only; --bulk adds N credentials
 * C0000... whose values total TOTAL bytes (printable, deterministic); --entries spreads the
 * strings over K type 11 structures (QEMU uses one; K > 1 keeps each count byte < 256).
 * Test and benchmark helper: values are not secret here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "manifest.h"

struct cred { char *name; char *value; size_t len; bool store, expect, smbios; char *oem; };

struct fixture {
	const char *dir;
	unsigned version;
	const char *fs;
	const char *cmdline;
	struct cred *creds;
	size_t n;
	unsigned entries;
	const char *manifest, *sums;
};

static void die(const char *what)
{
	fprintf(stderr, "mkfixture: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void mkdirs(const char *dir, const char *rel)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
		*p = 0;
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			die(path);
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die(path);
}

static void write_file(const char *dir, const char *rel, const void *data, size_t len, mode_t mode)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(path);
	for (size_t off = 0; off < len; ) {
		ssize_t w = write(fd, (const char *)data + off, len - off);
		if (w < 0)
			die(path);
		off += (size_t)w;
	}
	if (fchmod(fd, mode) < 0 || close(fd) < 0)
		die(path);
}

static struct cred *add(struct fixture *f)
{
	struct cred *n = realloc(f->creds, (f->n + 1) * sizeof *n);
	if (!n)
		die("realloc");
	f->creds = n;
	memset(&n[f->n], 0, sizeof *n);
	return &n[f->n++];
}

static void add_pair(struct fixture *f, const char *arg, bool smbios, bool store, bool expect)
{
	const char *eq = strchr(arg, '=');
	if (!eq) {
		fprintf(stderr, "mkfixture: %s: expected NAME=VALUE\n", arg);
		exit(2);
	}
	struct cred *c = add(f);
	c->name = strndup(arg, (size_t)(eq - arg));
	c->value = strdup(eq + 1);
	c->len = strlen(eq + 1);
	c->smbios = smbios;
	c->store = store;
	c->expect = expect;
}

/* N credentials whose values total exactly TOTAL bytes of [a-z0-9], from a fixed LCG. */
static void add_bulk(struct fixture *f, size_t n, size_t total)
{
	uint32_t x = 12345;
	for (size_t i = 0; i < n; i++) {
		struct cred *c = add(f);
		size_t len = total / n + (i < total % n ? 1 : 0);
		if (asprintf(&c->name, "C%04zu", i) < 0 || !(c->value = malloc(len + 1)))
			die("malloc");
		for (size_t j = 0; j < len; j++) {
			x = x * 1103515245u + 12345u;
			c->value[j] = "abcdefghijklmnopqrstuvwxyz0123456789"[(x >> 16) % 36];
		}
		c->value[len] = 0;
		c->len = len;
		c->smbios = c->store = c->expect = true;
	}
}

struct buf { uint8_t *p; size_t len, cap; };

static void put(struct buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len)
			cap *= 2;
		if (!(b->p = realloc(b->p, cap)))
			die("realloc");
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

/* One type 11 structure holding strings [from, to) of the SMBIOS candidates. */
static void type11(const struct fixture *f, size_t from, size_t to, unsigned k, struct buf *out)
{
	size_t count = to - from;
	uint8_t hdr[5] = { 11, 5, (uint8_t)(0x0e00 + k), (uint8_t)((0x0e00 + k) >> 8), (uint8_t)count };
	put(out, hdr, sizeof hdr);
	for (size_t i = 0, seen = 0; i < f->n; i++) {
		const struct cred *c = &f->creds[i];
		if (!c->smbios && !c->oem)
			continue;
		if (seen++ < from || seen > to)
			continue;
		if (c->oem)
			put(out, c->oem, strlen(c->oem));
		else {
			put(out, "io.systemd.credential:", 22);
			put(out, c->name, strlen(c->name));
			put(out, "=", 1);
			put(out, c->value, c->len);
		}
		put(out, "", 1);
	}
	put(out, "", 1);
	if (count == 0)
		put(out, "", 1);
}

static void write_smbios(const struct fixture *f)
{
	struct buf table = { 0 };
	size_t n_strings = 0;
	for (size_t i = 0; i < f->n; i++)
		n_strings += f->creds[i].smbios || f->creds[i].oem;
	mkdirs(f->dir, "sys/firmware/dmi/tables");
	for (unsigned k = 0; k < f->entries; k++) {
		struct buf one = { 0 };
		char rel[64];
		type11(f, n_strings * k / f->entries, n_strings * (k + 1) / f->entries, k, &one);
		snprintf(rel, sizeof rel, "sys/firmware/dmi/entries/11-%u", k);
		mkdirs(f->dir, rel);
		strcat(rel, "/raw");
		write_file(f->dir, rel, one.p, one.len, 0400);
		put(&table, one.p, one.len);
		free(one.p);
	}
	static const uint8_t end[] = { 127, 4, 0xff, 0xfe, 0, 0 };
	mkdirs(f->dir, "sys/firmware/dmi/entries/127-0");
	write_file(f->dir, "sys/firmware/dmi/entries/127-0/raw", end, sizeof end, 0400);
	put(&table, end, sizeof end);
	write_file(f->dir, "sys/firmware/dmi/tables/DMI", table.p, table.len, 0400);
	uint8_t ep[24] = { '_', 'S', 'M', '3', '_', 0, 0x18, 3, 0, 0, 1, 0 };
	uint32_t max = (uint32_t)table.len;
	uint64_t addr = 0x7ffe0000;
	memcpy(ep + 0x0c, &max, 4);   /* little-endian host, as the table is */
	memcpy(ep + 0x10, &addr, 8);
	uint8_t sum = 0;
	for (size_t i = 0; i < sizeof ep; i++)
		sum = (uint8_t)(sum + ep[i]);
	ep[5] = (uint8_t)(0x100 - sum);
	write_file(f->dir, "sys/firmware/dmi/tables/smbios_entry_point", ep, sizeof ep, 0400);
	free(table.p);
}

static void write_store(const struct fixture *f)
{
	static const char base[] =
		"24 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
		"30 24 0:25 / /run rw,nosuid,nodev,noexec,relatime shared:12 - tmpfs tmpfs rw,size=200000k,mode=755\n";
	char mi[1024], rel[512];
	const char *opts = strcmp(f->fs, "ramfs") == 0 ? "ramfs ramfs ro,mode=700" :
			   strcmp(f->fs, "tmpfs-noswap") == 0 ? "tmpfs tmpfs ro,size=1024k,nr_inodes=1024,mode=700,noswap" :
			   "tmpfs tmpfs ro,size=1024k,mode=700";
	snprintf(mi, sizeof mi, "%s1042 30 0:52 / /run/credentials/@system ro,nosuid,nodev,noexec,relatime - %s\n",
		 base, opts);
	mkdirs(f->dir, "proc/self");
	write_file(f->dir, "proc/self/mountinfo", mi, strlen(mi), 0644);
	write_file(f->dir, "proc/cmdline", f->cmdline, strlen(f->cmdline), 0644);
	mkdirs(f->dir, "usr/lib/x86_64-linux-gnu/systemd");
	snprintf(rel, sizeof rel, "usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-%u.so", f->version);
	write_file(f->dir, rel, "", 0, 0644);
	mkdirs(f->dir, "run/credentials/@system");
	for (size_t i = 0; i < f->n; i++) {
		if (!f->creds[i].store)
			continue;
		snprintf(rel, sizeof rel, "run/credentials/@system/%s", f->creds[i].name);
		write_file(f->dir, rel, f->creds[i].value, f->creds[i].len, 0400);
	}
}

static void write_manifests(const struct fixture *f)
{
	struct manifest m = { .entries = calloc(f->n + 1, sizeof *m.entries) };
	FILE *sums = f->sums ? fopen(f->sums, "we") : NULL;
	if (!m.entries || (f->sums && !sums))
		die(f->sums ? f->sums : "calloc");
	for (size_t i = 0; i < f->n; i++) {
		const struct cred *c = &f->creds[i];
		if (!c->expect)
			continue;
		struct manifest_entry *e = &m.entries[m.n_entries++];
		e->name = c->name;
		e->digest = DIGEST_SHA256;
		if (digest_sha256_hex(c->value, c->len, e->hex) < 0)
			die("sha256");
		if (sums)
			fprintf(sums, "%s  %s\n", e->hex, c->name);
	}
	if (sums && fclose(sums) != 0)
		die(f->sums);
	if (f->manifest) {
		char *json = manifest_to_json(&m);
		if (!json)
			die("manifest_to_json");
		int fd = open(f->manifest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, json, strlen(json)) != (ssize_t)strlen(json) || write(fd, "\n", 1) != 1 ||
		    close(fd) < 0)
			die(f->manifest);
		free(json);
	}
	free(m.entries);
}

int main(int argc, char **argv)
{
	struct fixture f = { .version = 257, .fs = "tmpfs-noswap", .entries = 1,
			     .cmdline = "BOOT_IMAGE=/vmlinuz root=/dev/vda1 console=ttyS0\n" };
	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: mkfixture DIR [--version N] [--fs ramfs|tmpfs|tmpfs-noswap] [--cmdline TEXT]\n"
			"       [--cred NAME=VALUE]... [--oem STRING]... [--store NAME=VALUE]... [--expect NAME=VALUE]...\n"
			"       [--bulk N TOTAL] [--entries K] [--manifest FILE] [--sums FILE]\n");
		return 2;
	}
	f.dir = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			goto usage;
		i++;
		if (strcmp(o, "--version") == 0)
			f.version = (unsigned)atoi(v);
		else if (strcmp(o, "--fs") == 0)
			f.fs = v;
		else if (strcmp(o, "--cmdline") == 0)
			f.cmdline = v;
		else if (strcmp(o, "--cred") == 0)
			add_pair(&f, v, true, true, true);
		else if (strcmp(o, "--store") == 0)
			add_pair(&f, v, false, true, false);
		else if (strcmp(o, "--expect") == 0)
			add_pair(&f, v, false, false, true);
		else if (strcmp(o, "--oem") == 0)
			add(&f)->oem = strdup(v);
		else if (strcmp(o, "--entries") == 0)
			f.entries = (unsigned)atoi(v);
		else if (strcmp(o, "--manifest") == 0)
			f.manifest = v;
		else if (strcmp(o, "--sums") == 0)
			f.sums = v;
		else if (strcmp(o, "--bulk") == 0 && i + 1 < argc) {
			add_bulk(&f, (size_t)atol(v), (size_t)atol(argv[i + 1]));
			i++;
		} else
			goto usage;
	}
	if (f.entries < 1 || f.version < 200)
		goto usage;
	if (mkdir(f.dir, 0755) < 0 && errno != EEXIST)
		die(f.dir);
	mkdirs(f.dir, "sys/firmware/dmi/entries");
	write_smbios(&f);
	write_store(&f);
	write_manifests(&f);
	return 0;
usage:
	fprintf(stderr, "mkfixture: bad arguments; run without arguments for usage\n");
	return 2;
}
