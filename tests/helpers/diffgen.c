/* diffgen [--seed N] [--subset] OUTDIR: writes the differential oracle's adversarial cases
 * (docs/differential.md) as harness case files OUTDIR/diff-*.json, each with
 * "differential": true: the harness boots them on every flavor and counts, per credential,
 * whether the agent's prediction is what real PID 1 put into /run/credentials/@system.
 *
 * The inputs sit at the edges systemd's import has: names at every validity edge
 * (credential_name_valid(): empty, ".", "..", '/', ':', control bytes, DEL, bytes above
 * 0x7e, 255 and 256 bytes), the SMBIOS prefix and separator, base64 alphabets, padding and
 * whitespace, kernel command-line quoting and separators (blanks, tabs, newlines, CR),
 * sizes around the page (4096), the per-credential limit and the shared 1 MiB budget, the
 * tmpfs store's pages (256) and inodes (1023), precedence and collisions across fw_cfg,
 * SMBIOS and the command line, and the import gate (systemd.import_credentials=). A
 * seeded generator (--seed, default 1) adds random names and values on top of the fixed
 * edges, so another seed tries other inputs; the same seed writes the same files.
 *
 * --subset writes only diff-mixed.json, a sample of every kind (make check boots it on
 * every flavor); the full set is what `make differential` runs.
 *
 * The delivery limits of the harness itself hold: every name and value is a JSON string
 * without NUL; fw_cfg names have no '/' and fit QEMU's 55 characters; the SMBIOS total
 * stays under QEMU's 65535-byte table; a case has at most 12 fw_cfg files. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PFX "io.systemd.credential:"
#define PFXB "io.systemd.credential.binary:"
/* x86's boot protocol takes 2047 bytes of command line; the image's and the harness's own
 * words take about 300 of them, and QEMU refuses to boot a longer one */
#define CMDLINE_MAX 1500

static uint64_t rng_state = 1;

/* splitmix64: a small deterministic generator, enough for test inputs */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned rnd_below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

struct gen {
	json_t *oem;        /* oem_strings */
	json_t *creds;      /* credentials */
	char *cmdline;      /* kernel_cmdline_extra */
	size_t cmdline_len;
	size_t smbios_bytes;
	unsigned n_fw_cfg;
	unsigned serial;    /* makes names unique */
};

static void die(const char *what)
{
	fprintf(stderr, "diffgen: %s\n", what);
	exit(2);
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;
	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		die("out of memory");
	va_end(ap);
	return s;
}

/* json_stringn: the bytes as they are; the harness writes them to the guest unchanged */
static void oem(struct gen *g, const char *s)
{
	size_t n = strlen(s);
	if (!n)
		die("an empty OEM string never reaches the guest");
	g->smbios_bytes += n + 1;
	if (g->smbios_bytes > 60000)
		die("the SMBIOS strings of one case would pass QEMU's 65535-byte table");
	if (json_array_append_new(g->oem, json_stringn(s, n)) < 0)
		die("an OEM string is not valid UTF-8 (JSON carries UTF-8 only)");
}

static void oem_own(struct gen *g, char *s)
{
	oem(g, s);
	free(s);
}

static void word(struct gen *g, const char *sep, const char *w)
{
	size_t add = strlen(sep) + strlen(w);
	char *n = realloc(g->cmdline, g->cmdline_len + add + 1);
	if (!n)
		die("out of memory");
	g->cmdline = n;
	if (g->cmdline_len + add > CMDLINE_MAX)
		die("the kernel command line of one case would pass what the kernel takes (2047 bytes with the "
		    "harness's own words)");
	memcpy(g->cmdline + g->cmdline_len, sep, strlen(sep));
	memcpy(g->cmdline + g->cmdline_len + strlen(sep), w, strlen(w) + 1);
	g->cmdline_len += add;
}

static void word_own(struct gen *g, const char *sep, char *w)
{
	word(g, sep, w);
	free(w);
}

static void fw_cfg(struct gen *g, const char *name, const char *value, size_t random_len)
{
	json_t *c = json_pack("{s:s, s:s}", "name", name, "via", "fw_cfg");
	if (++g->n_fw_cfg > 12)
		die("more than 12 fw_cfg files in one case (QEMU has few file slots)");
	if (strlen(name) > 55 - strlen("opt/io.systemd.credentials/"))
		die("a fw_cfg name longer than QEMU allows");
	if (value)
		json_object_set_new(c, "value", json_string(value));
	else
		json_object_set_new(c, "random", json_integer((json_int_t)random_len));
	json_array_append_new(g->creds, c);
}

/* a printable value without blanks or quotes (it may go on the command line) */
static char *rnd_value(size_t len)
{
	static const char a[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;_-+%@!#$&*()[]{}<>|~^";
	char *s = malloc(len + 1);
	if (!s)
		die("out of memory");
	for (size_t i = 0; i < len; i++)
		s[i] = a[rnd_below(sizeof a - 1)];
	s[len] = 0;
	return s;
}

static char *b64(const uint8_t *p, size_t n, bool pad, bool url)
{
	const char *a = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			    : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *s = malloc(n / 3 * 4 + 8), *o = s;
	if (!s)
		die("out of memory");
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
		*o++ = a[v >> 18 & 63];
		*o++ = a[v >> 12 & 63];
		if (i + 1 < n)
			*o++ = a[v >> 6 & 63];
		else if (pad)
			*o++ = '=';
		if (i + 2 < n)
			*o++ = a[v & 63];
		else if (pad)
			*o++ = '=';
	}
	*o = 0;
	return s;
}

/* ---- kinds of input ---------------------------------------------------------------- */

/* Names at every edge of credential_name_valid(), and the SMBIOS prefix and separator. */
static void gen_names(struct gen *g, unsigned n_random)
{
	static const char *const edge[] = {
		"a", "Z", "0", "a.b", "-dash", "_under", "with space", "trail ", " lead", "~tilde", ".hidden", "...",
		".", "..", "a/b", "/", "a:b", ":", "tab\there", "ctl\x01", "del\x7f", "caf\xc3\xa9", "\xe2\x82\xac",
		"quote\"d", "back\\slash", "semi;colon", "pct%41", "x=y", NULL,
	};
	char n255[256], n256[257];
	for (const char *const *e = edge; *e; e++)
		oem_own(g, fmt(PFX "%s=v%u", *e, g->serial++));
	memset(n255, 'L', 255), n255[255] = 0;
	memset(n256, 'M', 256), n256[256] = 0;
	oem_own(g, fmt(PFX "%s=v255", n255));
	oem_own(g, fmt(PFX "%s=v256", n256));
	oem(g, PFX "=empty-name");
	oem(g, PFX "NOSEP");
	oem(g, PFX "EMPTYVAL=");
	oem(g, PFX "EQ=a=b=c");
	oem(g, "io.systemd.credentialX:NOTCRED=1");
	oem(g, "IO.SYSTEMD.CREDENTIAL:UPPER=1");
	oem(g, " " PFX "LEADSP=1");
	oem(g, "io.systemd.credential" "=NOCOLON");
	oem(g, PFX "VALCTL=a\x01" "b\x1f" "c");
	oem(g, PFX "VALHIGH=\xc3\xa9\xe2\x82\xac");
	oem(g, PFX "VALNL=line1\nline2\n");
	/* duplicates inside SMBIOS: the first string wins */
	oem(g, PFX "DUP=first");
	oem(g, PFX "DUP=second");
	oem(g, PFX "DUP=third");
	/* random names: printable ASCII with the bytes systemd refuses mixed in */
	for (unsigned i = 0; i < n_random; i++) {
		static const char alpha[] = "abcXYZ019._-~ :/\t";
		size_t len = 1 + rnd_below(rnd_below(4) == 0 ? 40 : 12);
		char name[64];
		for (size_t k = 0; k < len; k++)
			name[k] = alpha[rnd_below(sizeof alpha - 1)];
		name[len] = 0;
		if (strchr(name, '='))
			continue;
		char *v = rnd_value(rnd_below(24));
		oem_own(g, fmt(PFX "r%u%s=%s", g->serial++, name, v));
		free(v);
	}
}

/* io.systemd.credential.binary: alphabets, padding, whitespace, garbage. */
static void gen_base64(struct gen *g, unsigned n_random)
{
	static const char *const edge[] = {
		"aGVsbG8=", "aGVsbG8", "aGVsbG8==", "aGVsbA==", "aGVsbA", "aGVsbA=", "aGVsbA===", "====", "=", "",
		"aGVs bG8=", "aGVs\tbG8=", "aGVs\nbG8=", " aGVsbG8=", "aGVsbG8= ", "aGVsbG8=\n", "aG=Vs", "aGVsb",
		"a", "ab", "abc", "abcd", "-_-_", "+/+/", "-_+/", "!!!!", "aGk=x", "aGk=aGk=", "YQ==YQ==", "AAAA",
		"////", "____", "Zm9v\r\nYmFy", "Zm9vYmFy\x01", NULL,
	};
	unsigned i = 0;
	for (const char *const *e = edge; *e; e++, i++)
		oem_own(g, fmt(PFXB "B64_%02u=%s", i, *e));
	oem(g, PFXB "B64NOSEP");
	oem(g, PFXB "bad/name=aGVsbG8=");
	for (unsigned k = 0; k < n_random; k++) {
		uint8_t raw[96];
		size_t n = rnd_below(sizeof raw);
		for (size_t x = 0; x < n; x++)
			raw[x] = (uint8_t)rnd();
		char *s = b64(raw, n, rnd_below(3) != 0, rnd_below(4) == 0);
		oem_own(g, fmt(PFXB "B64R_%u=%s", k, s));
		free(s);
	}
}

/* systemd.set_credential= and _binary= words: quoting, separators, missing parts. */
static void gen_cmdline(struct gen *g, unsigned n_random)
{
	static const char *const w[] = {
		"systemd.set_credential=CL_PLAIN:v1",
		"systemd.set_credential=CL_EMPTY:",
		"systemd.set_credential=CL_NOCOLON",
		"systemd.set_credential=:noname",
		"systemd.set_credential=CL_COLONS:a:b:c",
		"\"systemd.set_credential=CL_QWORD:has space\"",
		"systemd.set_credential=\"CL_QMID:q v\"",
		"systemd.set_credential=CL_QEND:\"x y\"",
		"systemd.set_credential=CL_SQ:'single q'",
		"systemd.set_credential=CL_BS:a\\b",
		"systemd.set_credential=CL_EQ:a=b",
		"systemd.set_credential=CL_PLAIN:second",
		"systemd.set_credential=bad/name:x",
		"systemd.set_credential=bad:name:x",
		"systemd.set_credential_binary=CLB_OK:aGVsbG8=",
		"systemd.set_credential_binary=CLB_NOPAD:aGVsbG8",
		"systemd.set_credential_binary=CLB_BAD:!!!",
		"systemd.set_credential_binary=CLB_URL:-_-_",
		"systemd.set_credential_binary=CLB_NOCOLON",
		"systemd.set_credentialX=CL_NOTCRED:1",
		"SYSTEMD.SET_CREDENTIAL=CL_UPPER:1",
		NULL,
	};
	for (const char *const *e = w; *e; e++)
		word(g, " ", *e);
	/* word separators the kernel keeps in /proc/cmdline: tab, newline, carriage return */
	word(g, "\t", "systemd.set_credential=CL_TAB:t");
	word(g, "\n", "systemd.set_credential=CL_NL:n");
	word(g, "\r", "systemd.set_credential=CL_CR:r");
	word(g, " \n ", "systemd.set_credential=CL_NLSP:n2");
	for (unsigned k = 0; k < n_random; k++) {
		char *v = rnd_value(1 + rnd_below(10));
		if (rnd_below(5) == 0)
			word_own(g, " ", fmt("\"systemd.set_credential=CLR_%u:%s %s\"", k, v, v));
		else
			word_own(g, rnd_below(6) == 0 ? "\t" : " ", fmt("systemd.set_credential=CLR_%u:%s", k, v));
		free(v);
	}
}

/* the same name through every source, and collisions inside each */
static void gen_precedence(struct gen *g)
{
	fw_cfg(g, "PR_ALL", "from-fw_cfg", 0);
	oem(g, PFX "PR_ALL=from-smbios");
	word(g, " ", "systemd.set_credential=PR_ALL:from-cmdline");
	oem(g, PFX "PR_SC=from-smbios");
	word(g, " ", "systemd.set_credential=PR_SC:from-cmdline");
	fw_cfg(g, "PR_FC", "from-fw_cfg", 0);
	word(g, " ", "systemd.set_credential=PR_FC:from-cmdline");
	oem(g, PFXB "PR_BIN=ZnJvbS1iaW5hcnk=");
	oem(g, PFX "PR_BIN=from-text");
	oem(g, PFX "bad/PR=x");
	word(g, " ", "systemd.set_credential=PR_BADSMB:from-cmdline");
	oem(g, PFXB "PR_BADSMB=!!!");
	fw_cfg(g, ".PR_DOT", "dot-file", 0);
	fw_cfg(g, "PR:COLON", "colon", 0);
	fw_cfg(g, "PR_EMPTYFW", "", 0);
	oem(g, PFX "PR_EMPTYFW=from-smbios");
}

/* values around the page: systemd before 257 reads one page of each 11-N entry */
static void gen_page(struct gen *g)
{
	/* QEMU puts all OEM strings into one type 11 structure: strings straddling 4096 */
	char *v = rnd_value(1000);
	for (unsigned i = 0; i < 6; i++)
		oem_own(g, fmt(PFX "PG_%u=%s", i, v));
	free(v);
}

/* the 1 MiB per-credential limit and the shared budget (fw_cfg can carry them) */
static void gen_sizes(struct gen *g)
{
	fw_cfg(g, "SZ_A_1MiB", NULL, 1048576);
	fw_cfg(g, "SZ_B_1MiBplus1", NULL, 1048577);
	fw_cfg(g, "SZ_C_4095", NULL, 4095);
	fw_cfg(g, "SZ_D_4096", NULL, 4096);
	fw_cfg(g, "SZ_E_4097", NULL, 4097);
	oem(g, PFX "SZ_SMB=after-the-budget");
	oem(g, PFX "SZ_SMBEMPTY=");
	word(g, " ", "systemd.set_credential=SZ_CL:after");
}

static void gen_budget(struct gen *g)
{
	fw_cfg(g, "BU_1", NULL, 300000);
	fw_cfg(g, "BU_2", NULL, 300000);
	fw_cfg(g, "BU_3", NULL, 300000);
	fw_cfg(g, "BU_4", NULL, 148576);   /* 1048576 in all */
	fw_cfg(g, "BU_5", NULL, 1);
	fw_cfg(g, "BU_6", "", 0);
	oem(g, PFX "BU_SMB=x");
	oem(g, PFX "BU_SMBEMPTY=");
	word(g, " ", "systemd.set_credential=BU_CL:y");
}

/* a tmpfs store holds 256 pages and 1023 files besides its root */
static void gen_store_pages(struct gen *g)
{
	for (unsigned i = 0; i < 300; i++)
		oem_own(g, fmt(PFX "ST%03u=v%u", i, i));
	word(g, " ", "systemd.set_credential=ST_CL:after-smbios");
	word(g, " ", "systemd.set_credential=ST_CLEMPTY:");
}

static void gen_store_inodes(struct gen *g)
{
	for (unsigned i = 0; i < 1100; i++)
		oem_own(g, fmt(PFX "IN%04u=", i));
	word(g, " ", "systemd.set_credential=IN_CL:x");
}

static void gen_gate(struct gen *g, const char *gate)
{
	fw_cfg(g, "GA_FW", "fw", 0);
	oem(g, PFX "GA_SMB=smb");
	oem(g, PFXB "GA_BIN=Ymlu");
	word(g, " ", "systemd.set_credential=GA_CL:cl");
	word(g, " ", gate);
}

/* ---- cases ---------------------------------------------------------------------------- */

static void write_case(const char *dir, const char *name, const char *description, void (*fill)(struct gen *, const void *),
		       const void *arg)
{
	struct gen g = { .oem = json_array(), .creds = json_array() };
	size_t fw_cfg_bytes = 0;
	fill(&g, arg);
	json_t *c = json_pack("{s:s, s:s, s:b}", "name", name, "description", description, "differential", 1);
	if (!c)
		die("out of memory");
	for (size_t i = 0; i < json_array_size(g.creds); i++)
		fw_cfg_bytes += (size_t)json_integer_value(json_object_get(json_array_get(g.creds, i), "random"));
	/* the guest's fw_cfg driver reads byte by byte through an I/O port: under TCG each
	 * MiB takes PID 1 and then the agent tens of seconds with no console output */
	if (fw_cfg_bytes > 65536)
		json_object_set_new(c, "timeouts", json_pack("{s:i, s:i}", "idle", 300, "verdict", 1200));
	if (json_array_size(g.creds))
		json_object_set(c, "credentials", g.creds);
	if (json_array_size(g.oem))
		json_object_set(c, "oem_strings", g.oem);
	if (g.cmdline)
		json_object_set_new(c, "kernel_cmdline_extra", json_string(g.cmdline + 1));   /* without the first blank */
	char *path = fmt("%s/%s.json", dir, name);
	if (json_dump_file(c, path, JSON_INDENT(1) | JSON_ENSURE_ASCII) < 0) {
		fprintf(stderr, "diffgen: cannot write %s\n", path);
		exit(2);
	}
	printf("%s: %zu OEM strings, %zu fw_cfg files, %zu command-line bytes\n", path, json_array_size(g.oem),
	       json_array_size(g.creds), g.cmdline_len);
	free(path);
	free(g.cmdline);
	json_decref(g.oem), json_decref(g.creds), json_decref(c);
}

static void fill_mixed(struct gen *g, const void *arg)
{
	gen_names(g, 20);
	gen_base64(g, 10);
	gen_cmdline(g, 3);
	gen_precedence(g);
}
static void fill_names(struct gen *g, const void *arg) { gen_names(g, 300); }
static void fill_base64(struct gen *g, const void *arg) { gen_base64(g, 200); }
static void fill_cmdline(struct gen *g, const void *arg) { gen_cmdline(g, 8); }
static void fill_page(struct gen *g, const void *arg) { gen_page(g); gen_precedence(g); }
static void fill_sizes(struct gen *g, const void *arg) { gen_sizes(g); }
static void fill_budget(struct gen *g, const void *arg) { gen_budget(g); }
static void fill_pages(struct gen *g, const void *arg) { gen_store_pages(g); }
static void fill_inodes(struct gen *g, const void *arg) { gen_store_inodes(g); }
static void fill_gate(struct gen *g, const void *arg) { gen_gate(g, arg); }

int main(int argc, char **argv)
{
	bool subset = false;
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--subset") == 0)
			subset = true;
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			char *end;
			errno = 0;
			rng_state = strtoull(argv[++i], &end, 10);
			if (errno || *end || !*argv[i])
				die("--seed: expected a number");
		} else if (argv[i][0] != '-' && !dir)
			dir = argv[i];
		else {
			fprintf(stderr, "usage: diffgen [--seed N] [--subset] OUTDIR\n");
			return 2;
		}
	}
	if (!dir) {
		fprintf(stderr, "usage: diffgen [--seed N] [--subset] OUTDIR\n");
		return 2;
	}
	write_case(dir, "diff-mixed", "a sample of every kind of edge", fill_mixed, NULL);
	if (subset)
		return 0;
	write_case(dir, "diff-names", "names at every validity edge, prefixes, separators", fill_names, NULL);
	write_case(dir, "diff-base64", "binary credentials: base64 alphabets, padding, whitespace", fill_base64, NULL);
	write_case(dir, "diff-cmdline", "kernel command-line quoting and separators", fill_cmdline, NULL);
	write_case(dir, "diff-page", "SMBIOS strings around the first page; precedence", fill_page, NULL);
	write_case(dir, "diff-sizes", "the 1 MiB per-credential limit", fill_sizes, NULL);
	write_case(dir, "diff-budget", "the shared 1 MiB budget", fill_budget, NULL);
	write_case(dir, "diff-store-pages", "300 small credentials: a tmpfs store's 256 pages", fill_pages, NULL);
	write_case(dir, "diff-store-inodes", "1100 empty credentials: a tmpfs store's 1023 files", fill_inodes, NULL);
	write_case(dir, "diff-gate-no", "systemd.import_credentials=no", fill_gate, "systemd.import_credentials=no");
	write_case(dir, "diff-gate-last", "the last systemd.import_credentials= wins", fill_gate,
		   "systemd.import_credentials=no systemd.import_credentials=yes");
	write_case(dir, "diff-gate-bad", "a systemd.import_credentials= value that is no boolean", fill_gate,
		   "systemd.import_credentials=maybe");
	return 0;
}
