/* fuzz_fw_cfg: the agent's source loader (guest-agent/sources.h sources_load()) over a
 * --root tree built from the input, then the import model (predict_import()) over what it
 * loaded. The tree is what a hostile or broken host can put in front of the agent: fw_cfg
 * entries (by_name/opt/io.systemd.credentials/NAME/raw), SMBIOS 11-N entries, @initrd
 * files, /proc/cmdline, the SystemdOptions EFI variable, PID 1's environment, including
 * names of any bytes, missing raw files, directories and FIFOs where files should be.
 *
 * Input: byte 0 picks the systemd version (252, 254, 255, 257); then records
 *   [kind] [name length] [name] [data length, 2 bytes LE] [data]
 * kind & 7: 0-3 fw_cfg NAME, 4 the next SMBIOS 11-N entry, 5 @initrd NAME, 6 /proc/cmdline,
 * 7 the EFI variable (kind & 8: PID 1's environ instead); kind & 0x30: 0x10 no raw file
 * (fw_cfg) / a directory (@initrd), 0x20 a directory where the file goes, 0x30 a FIFO.
 * Names: '/' and NUL become '_', "." and ".." get a prefix, at most 64 bytes.
 *
 * Proves: the loader never crashes, leaks or blocks (a FIFO is refused at once); when it
 * succeeds, it loaded exactly the fw_cfg entries that have a regular raw file, sorted by
 * name, each with the bytes last written to it, and the consecutive SMBIOS entries from
 * 11-0; when it fails it says why; the prediction over what it loaded keeps the 1 MiB
 * budget. Cost per input: the fixed skeleton is made once per process (in /dev/shm when
 * it is there); each input creates and then removes only its own entries. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "sources.h"
#include "systemd/import_creds.h"

#define FWCFG  "/sys/firmware/qemu_fw_cfg/by_name/opt/io.systemd.credentials"
#define DMI    "/sys/firmware/dmi/entries"
#define INITRD "/run/credentials/@initrd"
#define EFIVAR "/sys/firmware/efi/efivars/SystemdOptions-8cf2644b-4b0b-428f-9387-6d876050dc67"
#define MAX_RECORDS 24
#define MAX_PATHS (MAX_RECORDS * 2 + 4)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[64];

struct made {
	char *paths[MAX_PATHS];   /* removed in reverse order */
	size_t n;
};

struct expect_fw { char name[80]; size_t len; const uint8_t *data; bool regular; };

static void cleanup_root(void)
{
	(void) rm_tree(root);
}

static void mkdir_p(const char *rel)
{
	char p[256];
	snprintf(p, sizeof p, "%s%s", root, rel);
	for (char *s = p + strlen(root) + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			(void) mkdir(p, 0755);
			*s = '/';
		}
	(void) mkdir(p, 0755);
}

static void setup_once(void)
{
	if (root[0])
		return;
	snprintf(root, sizeof root, "%s/credscope-fuzz-fwcfg.%d", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
		 (int) getpid());
	(void) rm_tree(root);
	if (mkdir(root, 0700) < 0)
		abort();
	mkdir_p(FWCFG);
	mkdir_p(DMI);
	mkdir_p(INITRD);
	mkdir_p("/proc/1");
	mkdir_p("/sys/firmware/efi/efivars");
	atexit(cleanup_root);
}

/* Creates PATH as KIND (0 file, 0x10/0x20 directory, 0x30 FIFO); remembers it if new. */
static bool make(struct made *m, const char *path, unsigned kind, const uint8_t *d, size_t len)
{
	bool fresh = access(path, F_OK) != 0;
	int ok;

	if (!fresh) {
		struct stat st;
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || kind)
			return false;   /* one shape per path: the first record wins */
	}
	if (kind == 0x30)
		ok = mkfifo(path, 0600) == 0;
	else if (kind)
		ok = mkdir(path, 0700) == 0;
	else {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		ok = fd >= 0 && fd_write_full(fd, d, len) == 0;
		if (fd >= 0)
			close(fd);
	}
	if (fresh && m->n < MAX_PATHS)
		m->paths[m->n++] = strdup(path);
	return ok;
}

static void clean_name(const uint8_t *p, size_t n, char *out)
{
	size_t o = 0;
	if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
		out[o++] = 'x';
	for (size_t i = 0; i < n && i < 64; i++)
		out[o++] = (p[i] == '/' || p[i] == 0) ? '_' : (char) p[i];
	out[o] = 0;
}

static struct expect_fw *find_fw(struct expect_fw *fw, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(fw[i].name, name) == 0)
			return &fw[i];
	return NULL;
}

static void add_fw(struct made *m, struct expect_fw *fw, size_t *n_fw, const char *name, unsigned shape,
		   const uint8_t *d, size_t len)
{
	char dir[256], raw[300];
	struct expect_fw *e = find_fw(fw, *n_fw, name);

	snprintf(dir, sizeof dir, "%s" FWCFG "/%s", root, name);
	snprintf(raw, sizeof raw, "%s/raw", dir);
	if (!e) {
		if (!make(m, dir, 0x20, NULL, 0))
			return;
		e = &fw[(*n_fw)++];
		*e = (struct expect_fw) { .len = 0 };
		snprintf(e->name, sizeof e->name, "%s", name);
		if (shape != 0x10 && make(m, raw, shape, d, len) && shape == 0) {
			e->regular = true;
			e->len = len;
			e->data = d;
		}
		return;
	}
	if (e->regular && shape == 0 && make(m, raw, 0, d, len)) {
		e->len = len;
		e->data = d;
	}
}

static void check_loaded(const struct import_sources *s, struct expect_fw *fw, size_t n_fw, size_t n_smbios)
{
	size_t regular = 0;
	for (size_t i = 0; i < n_fw; i++)
		regular += fw[i].regular;
	size_t usable = 0;
	if (s->n_smbios != n_smbios)
		abort();
	for (size_t i = 0; i < s->n_fw_cfg; i++) {
		const struct expect_fw *e = find_fw(fw, n_fw, s->fw_cfg[i].name);
		if (!e)
			abort();
		/* an entry systemd skips (a directory without raw, a non-directory) is kept with
		 * the warning and no bytes */
		if (s->fw_cfg[i].unusable) {
			if (e->regular)
				abort();
			continue;
		}
		usable++;
		if (!e->regular || e->len != s->fw_cfg[i].len || memcmp(e->data, s->fw_cfg[i].data, e->len))
			abort();
		if (i > 0 && strcmp(s->fw_cfg[i - 1].name, s->fw_cfg[i].name) >= 0)
			abort();
	}
	if (usable != regular)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned versions[] = { 252, 254, 255, 257 };
	struct expect_fw fw[MAX_RECORDS];
	struct made m = { .n = 0 };
	size_t n_fw = 0, n_smbios = 0, i = 1;
	bool all_regular = true;

	if (size < 1)
		return 0;
	setup_once();
	for (int rec = 0; rec < MAX_RECORDS && i + 4 <= size; rec++) {
		unsigned kind = data[i], shape = kind & 0x30;
		size_t nl = data[i + 1], dl;
		char name[80], path[400];
		if (nl > size - i - 4)
			nl = size - i - 4;
		clean_name(data + i + 2, nl, name);
		i += 2 + nl;
		dl = (size_t) (data[i] | data[i + 1] << 8);
		i += 2;
		if (dl > size - i)
			dl = size - i;
		const uint8_t *d = data + i;
		i += dl;
		if (shape)
			all_regular = false;
		switch (kind & 7) {
		case 4:
			snprintf(path, sizeof path, "%s" DMI "/11-%zu", root, n_smbios);
			if (make(&m, path, 0x20, NULL, 0) && (snprintf(path + strlen(path), 16, "/raw"), make(&m, path, shape, d, dl)) &&
			    shape == 0)
				n_smbios++;
			break;
		case 5:
			snprintf(path, sizeof path, "%s" INITRD "/%s", root, name);
			(void) make(&m, path, shape, d, dl);
			break;
		case 6:
		case 7:
			snprintf(path, sizeof path, "%s%s", root,
				 (kind & 7) == 6 ? "/proc/cmdline" : kind & 8 ? "/proc/1/environ" : EFIVAR);
			(void) make(&m, path, shape, d, dl);
			break;
		default:
			add_fw(&m, fw, &n_fw, name, shape, d, dl);
		}
	}

	struct import_env env;
	struct import_sources s;
	struct prediction p;
	char *err = NULL;
	int r = sources_load(root, versions[data[0] & 3], &env, &s, &err);
	if (r == 0) {
		check_loaded(&s, fw, n_fw, n_smbios);
		if (predict_import(&s, &env, &p) == 0) {
			if (p.budget_used > CRED_TOTAL_SIZE_MAX)
				abort();
			prediction_free(&p);
		}
		sources_free(&s);
	} else if (r != -ENOMEM && (!err || all_regular))
		abort();   /* a failure says why, and needs something that is not a plain file */
	free(err);
	while (m.n > 0) {
		char *path = m.paths[--m.n];
		if (path && unlink(path) < 0)
			(void) rmdir(path);
		free(path);
	}
	return 0;
}
