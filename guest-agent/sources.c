/* sources: the I/O edge of the import model; see sources.h. Values are cleared before their
 * buffers are freed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpu_probe.h"
#include "fileio.h"
#include "parse.h"
#include "secret.h"
#include "smbios.h"
#include "sources.h"
#include "strutil.h"
#include "systemd/gates.h"
#include "systemd/proc_cmdline.h"
#include "systemd/versions.h"
#include "systemd/virt.h"

#define FW_CFG_CREDS   "/sys/firmware/qemu_fw_cfg/by_name/opt/io.systemd.credentials"
#define EFI_OPTIONS    "/sys/firmware/efi/efivars/SystemdOptions-8cf2644b-4b0b-428f-9387-6d876050dc67"
#define EFI_SECUREBOOT "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
#define INITRD_CREDS   "/run/credentials/@initrd"
/* Any one input: far above what systemd reads (1 MiB budget, 8 + 1 MiB per SMBIOS entry),
 * far below what would strain the agent. */
#define SOURCE_READ_MAX (16u * 1024u * 1024u)

/* The sentence for a failed read of PATH; returns R. */
static int read_error(char **error, const char *path, int r)
{
	if (r != -ENOMEM && error)
		*error = strprintf("cannot read %s: %s%s", path, file_error_text(r),
				   r == -EACCES || r == -EPERM ? " (run as root)" : "");
	return r;
}

/* Whole file plus a NUL. A missing file (or missing parent) is -ENOENT without a message;
 * every other failure sets *error. */
static int read_path(const char *root, const char *rel, char **out, size_t *out_len, char **error)
{
	char *path = root_join(root, rel);
	uint8_t *data;
	size_t len;
	int r;

	if (!path)
		return -ENOMEM;
	r = file_read_bounded(AT_FDCWD, path, SOURCE_READ_MAX, &data, &len);
	if (r == -ENOENT || r == -ENOTDIR)
		r = -ENOENT;
	else if (r < 0)
		read_error(error, path, r);
	free(path);
	if (r < 0)
		return r;
	*out = (char *) data;
	if (out_len)
		*out_len = len;
	return 0;
}

static bool path_exists(const char *root, const char *rel)
{
	char *p = root_join(root, rel);
	struct stat st;
	bool e = p && stat(p, &st) == 0;

	free(p);
	return e;
}

/* "libsystemd-shared-252.so", "libsystemd-shared-257.13-1.so" -> 252, 257; 0 for other
 * names. The number must be followed by '.' or '-'. */
static unsigned version_from_name(const char *s)
{
	char digits[6];
	size_t n;
	unsigned v;

	if (strncmp(s, "libsystemd-shared-", 18) != 0)
		return 0;
	s += 18;
	n = strspn(s, "0123456789");
	if (n == 0 || n >= sizeof(digits) || (s[n] != '.' && s[n] != '-'))
		return 0;
	memcpy(digits, s, n);
	digits[n] = 0;
	return parse_uint(digits, 1, 9999, &v) == 0 ? v : 0;
}

static unsigned version_from_dir(const char *dir)
{
	unsigned best = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		unsigned v = version_from_name(de->d_name);
		if (v > best)
			best = v;
	}
	closedir(d);
	return best;
}

static unsigned version_from_systemctl(void)
{
	FILE *f = popen("systemctl --version 2>/dev/null", "r");
	unsigned v = 0;

	if (!f)
		return 0;
	if (fscanf(f, "systemd %u", &v) != 1)
		v = 0;
	pclose(f);
	return v;
}

int systemd_version_detect(const char *root, unsigned *out)
{
	static const char *const dirs[] = {
		"/usr/lib/x86_64-linux-gnu/systemd", "/usr/lib/aarch64-linux-gnu/systemd",
		"/lib/systemd", "/usr/lib/systemd", "/usr/lib64/systemd",
	};

	*out = 0;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && !*out; i++) {
		char *p = root_join(root, dirs[i]);
		if (!p)
			return -ENOMEM;
		*out = version_from_dir(p);
		free(p);
	}
	if (!*out && strcmp(root, "/") == 0)
		*out = version_from_systemctl();
	return *out ? 0 : -ENOENT;
}

/* PID 1's initial environment (NUL-separated): container= (into CONTAINER, "" when set and
 * empty), $CREDENTIALS_DIRECTORY. */
static void scan_pid1_environ(const char *buf, size_t len, struct import_env *env, char *container, size_t csz,
			      bool *container_set)
{
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
		const char *e = buf + i;

		if (strncmp(e, "container=", 10) == 0) {
			snprintf(container, csz, "%s", e + 10);
			*container_set = true;
		} else if (strncmp(e, "CREDENTIALS_DIRECTORY=", 22) == 0 ||
			 strncmp(e, "ENCRYPTED_CREDENTIALS_DIRECTORY=", 32) == 0)
			env->credentials_dir_preset = true;
		if (strncmp(e, "CREDENTIALS_DIRECTORY=", 22) == 0) {
			const char *v = e + 22;
			size_t n = strlen(v);
			while (n > 1 && v[n - 1] == '/')
				n--;
			env->credentials_dir_is_system = n == 24 && strncmp(v, "/run/credentials/@system", 24) == 0;
		}
	}
}

/* What detect_container() consults, read below ROOT as it is now (systemd/virt.h says what
 * that can and cannot tell about PID 1's moment). */
struct container_facts {
	struct container_view view;
	char container[64], osrelease[256], tracer[64], manager[64], run_container[64];
};

/* First line of ROOT/REL into BUF; false when absent, empty or unreadable. */
static bool first_line(const char *root, const char *rel, char *buf, size_t sz)
{
	char *p = root_join(root, rel);
	uint8_t *data = NULL;
	size_t len = 0;
	bool ok = p && file_read_bounded(AT_FDCWD, p, 64 * 1024, &data, &len) == 0;

	free(p);
	if (ok) {
		size_t n = strcspn((char *) data, "\n");
		snprintf(buf, sz, "%.*s", (int) n, (char *) data);
		ok = buf[0] != 0;
	}
	free(data);
	return ok;
}

/* comm of PID 1's tracer (TracerPid in /proc/1/status), into BUF; false when untraced. */
static bool pid1_tracer_comm(const char *root, char *buf, size_t sz)
{
	char *p = root_join(root, "/proc/1/status"), *t, rel[64];
	uint8_t *data = NULL;
	unsigned long pid = 0;
	size_t len;

	if (p && file_read_bounded(AT_FDCWD, p, 64 * 1024, &data, &len) == 0 &&
	    (t = strstr((char *) data, "\nTracerPid:")))
		pid = strtoul(t + 11, NULL, 10);
	free(p);
	free(data);
	if (!pid)
		return false;
	snprintf(rel, sizeof rel, "/proc/%lu/comm", pid);
	return first_line(root, rel, buf, sz);
}

/* 1 when PID 1 is in the initial PID namespace (inode 0xEFFFFFFC since Linux 3.8), 0 when not,
 * -1 when unknown. */
static int pid1_pidns_init(const char *root)
{
	char *p = root_join(root, "/proc/1/ns/pid"), link[64];
	ssize_t n = p ? readlink(p, link, sizeof link - 1) : -1;

	free(p);
	if (n <= 0)
		return -1;
	link[n] = 0;
	return strcmp(link, "pid:[4026531836]") == 0;
}

/* A /proc/1 file that may be out of reach (sandboxes restrict /proc even for root): 1 with
 * *DATA (malloc'd) and *LEN, 0 when it is missing or unreadable (EACCES, EPERM), or -errno
 * with *error set for any other failure. */
static int read_pid1_file(const char *root, const char *rel, uint8_t **data, size_t *len, char **error)
{
	char *path = root_join(root, rel);
	int r;

	if (!path)
		return -ENOMEM;
	r = file_read_bounded(AT_FDCWD, path, SOURCE_READ_MAX, data, len);
	if (r == -ENOENT || r == -ENOTDIR || r == -EACCES || r == -EPERM)
		r = 0;
	else if (r < 0)
		read_error(error, path, r);
	else
		r = 1;
	free(path);
	return r;
}

static int load_pid1_environ(const char *root, struct import_env *env, struct container_facts *cf, char **error)
{
	bool set = false;
	uint8_t *data;
	size_t len;
	int r = read_pid1_file(root, "/proc/1/environ", &data, &len, error);

	/* Unreadable: the rest of the picture is still worth having; container detection says
	 * $container is unknown (virt.h), nothing is guessed. */
	cf->view.pid1_environ_readable = r == 1;
	if (r <= 0)
		return r;
	scan_pid1_environ((const char *) data, len, env, cf->container, sizeof cf->container, &set);
	cf->view.pid1_container = set ? cf->container : NULL;
	free(data);
	return 0;
}

/* --switched-root in PID 1's argv: the initrd's systemd re-executes itself with it at
 * switch-root, with its own environment (src/core/main.c do_reexecute() :1827,1847@252.39,
 * :1920,1939@254.26, :2052,2071@257.13), and that PID 1 runs import_credentials() again
 * (early_skip_setup_check() :2674@252.39, :2834@254.26, :3013@257.13). */
static int load_pid1_argv(const char *root, struct import_env *env, char **error)
{
	uint8_t *data;
	size_t len;
	int r = read_pid1_file(root, "/proc/1/cmdline", &data, &len, error);

	if (r <= 0)
		return r;   /* unknown (0): no initrd import is assumed */
	for (size_t i = 0; i < len; i += strnlen((const char *) data + i, len - i) + 1)
		if (len - i >= 16 && memcmp(data + i, "--switched-root", 16) == 0)
			env->pid1_switched_root = true;
	free(data);
	return 0;
}

/* detect_container() as PID 1 runs it (systemd/virt.h), over the facts as they are now. */
static int load_container(const char *root, struct import_env *env, char **error)
{
	struct container_facts cf = { 0 };
	struct container_result res;
	struct container_view *v = &cf.view;
	int r = load_pid1_environ(root, env, &cf, error);

	if (r == 0)
		r = load_pid1_argv(root, env, error);

	if (r < 0)
		return r;
	v->proc_vz = path_exists(root, "/proc/vz");
	v->proc_bc = path_exists(root, "/proc/bc");
	v->osrelease = first_line(root, "/proc/sys/kernel/osrelease", cf.osrelease, sizeof cf.osrelease)
		       ? cf.osrelease : NULL;
	v->tracer_comm = pid1_tracer_comm(root, cf.tracer, sizeof cf.tracer) ? cf.tracer : NULL;
	v->host_container_manager = first_line(root, "/run/host/container-manager", cf.manager, sizeof cf.manager)
				    ? cf.manager : NULL;
	v->run_systemd_container = first_line(root, "/run/systemd/container", cf.run_container,
					      sizeof cf.run_container) ? cf.run_container : NULL;
	v->containerenv = path_exists(root, "/run/.containerenv");
	v->dockerenv = path_exists(root, "/.dockerenv");
	v->pidns_init = pid1_pidns_init(root);
	container_decide(v, systemd_release(env->systemd_version), &res);
	env->in_container = res.kind[0] != 0;
	snprintf(env->container_kind, sizeof env->container_kind, "%s", res.kind);
	snprintf(env->container_evidence, sizeof env->container_evidence, "%s", res.evidence);
	snprintf(env->container_note, sizeof env->container_note, "%s", res.note);
	return 0;
}

/* detect_confidential_virtualization() from CPUID and the SEV MSR (systemd/confidential_virt.h):
 * only the running system's CPU can answer, so under --root it is unknown and said so. */
static int load_cvm(const char *root, struct import_env *env, char **error)
{
	struct cpuid_view v = { 0 };
	struct cvm_result res;

	(void) error;
	if (strcmp(root, "/") == 0)
		cpu_probe(&v);
	cvm_decide(&v, systemd_release(env->systemd_version), &res);
	env->confidential_vm = strcmp(res.kind, "none") != 0;
	env->cvm_tdx = strcmp(res.kind, "tdx") == 0;
	snprintf(env->cvm_kind, sizeof env->cvm_kind, "%s", res.kind);
	snprintf(env->cvm_note, sizeof env->cvm_note, "%s", res.note);
	env->cvm_uncertain = res.uncertain;
	return 0;
}

/* A UTF-16LE code unit sequence to UTF-8; unpaired surrogates become U+FFFD. */
static size_t utf8_put(char *o, unsigned long c)
{
	if (c < 0x80) { o[0] = (char) c; return 1; }
	if (c < 0x800) { o[0] = (char) (0xc0 | c >> 6); o[1] = (char) (0x80 | (c & 0x3f)); return 2; }
	if (c < 0x10000) {
		o[0] = (char) (0xe0 | c >> 12); o[1] = (char) (0x80 | ((c >> 6) & 0x3f));
		o[2] = (char) (0x80 | (c & 0x3f)); return 3;
	}
	o[0] = (char) (0xf0 | c >> 18); o[1] = (char) (0x80 | ((c >> 12) & 0x3f));
	o[2] = (char) (0x80 | ((c >> 6) & 0x3f)); o[3] = (char) (0x80 | (c & 0x3f)); return 4;
}

static char *utf16le_to_utf8(const uint8_t *p, size_t units)
{
	char *out = malloc(units * 3 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < units; i++) {
		unsigned long c = p[2 * i] | (unsigned long) p[2 * i + 1] << 8;
		if (c == 0)
			break;   /* efi_get_variable_string(): the string ends at a NUL char16 */
		if (c >= 0xd800 && c < 0xdc00 && i + 1 < units) {
			unsigned long d = p[2 * i + 2] | (unsigned long) p[2 * i + 3] << 8;
			if (d >= 0xdc00 && d < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
				i++;
			}
		}
		if (c >= 0xd800 && c < 0xe000)
			c = 0xfffd;
		o += utf8_put(o, c);
	}
	*o = 0;
	return out;
}

/* efivarfs: 4 attribute bytes, then the data. */
static int load_efi(const char *root, struct import_env *env, struct import_sources *s, char **error)
{
	char *buf;
	size_t len;
	int r = read_path(root, EFI_SECUREBOOT, &buf, &len, error);

	if (r < 0 && r != -ENOENT)
		return r;
	if (r == 0) {
		env->efi_secure_boot = len >= 5 && buf[4] != 0;
		free(buf);
	}
	r = read_path(root, EFI_OPTIONS, &buf, &len, error);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	s->efi_options = len >= 4 ? utf16le_to_utf8((const uint8_t *) buf + 4, (len - 4) / 2) : strdup("");
	secret_free(buf, len);
	return s->efi_options ? 0 : -ENOMEM;
}

/* proc_cmdline(): /proc/cmdline, or PID 1's argv joined by spaces in a container. */
static int load_cmdline(const char *root, const struct import_env *env, struct import_sources *s, char **error)
{
	size_t len;
	int r = read_path(root, env->in_container ? "/proc/1/cmdline" : "/proc/cmdline", &s->cmdline, &len, error);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (env->in_container)
		for (size_t i = 0; i + 1 < len; i++)
			if (s->cmdline[i] == 0)
				s->cmdline[i] = ' ';
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* readdir_all(RECURSE_DIR_SORT|RECURSE_DIR_IGNORE_DOT): names sorted with strcmp. */
static int list_dir(const char *path, char ***out, size_t *n_out)
{
	char **v = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d = opendir(path);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char **nv;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;   /* dot files are kept: predict_import() explains that systemd skips them */
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv || !(nv[n] = strdup(de->d_name))) {
			v = nv ? nv : v;
			while (n > 0)
				free(v[--n]);
			free(v);
			closedir(d);
			return -ENOMEM;
		}
		v = nv;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_names);
	*out = v;
	*n_out = n;
	return 0;
}

/* import_credentials_qemu() opens FW_CFG_CREDS/NAME as a directory and reads its `size`
 * file; when either fails it logs a warning and goes on to the next entry
 * (src/core/import-creds.c:412-422@257.13, :457-469@262). The kernel makes such an entry for
 * a fw_cfg name with a further '/' (opt/io.systemd.credentials/sub/X: `sub` is a directory
 * holding X, with neither size nor raw). Returns systemd's warning, or NULL when the entry
 * is usable (a fixture may hold raw without size: raw is then the value). */
static char *fw_cfg_entry_unusable(const char *dir, const char *name)
{
	char *path = strprintf("%s/%s", dir, name), *size = strprintf("%s/%s/size", dir, name),
	     *raw = strprintf("%s/%s/raw", dir, name), *why = NULL;
	struct stat st;
	int e = 0;

	if (path && stat(path, &st) < 0)
		e = errno;
	else if (path && !S_ISDIR(st.st_mode))
		e = ENOTDIR;
	if (!path || !size || !raw)
		why = NULL;
	else if (e)
		why = strprintf("Failed to open '" FW_CFG_CREDS "'/%s/, ignoring: %s", name, strerror(e));
	else if (access(size, F_OK) < 0 && access(raw, F_OK) < 0)
		why = strprintf("Failed to read '" FW_CFG_CREDS "'/%s/size, ignoring: %s", name, strerror(ENOENT));
	free(path);
	free(size);
	free(raw);
	return why;
}

/* DIR/NAME + SUFFIX into the next blob of V. With no suffix (@initrd) what is not a regular
 * file is skipped, as systemd skips it: returns 0 and adds nothing. A fw_cfg entry systemd
 * skips is added without data, with systemd's warning in `unusable`. */
static int load_one_blob(const char *dir, char **name, const char *suffix, struct raw_blob *v, size_t *n,
			 char **error)
{
	struct stat st;
	char *path = strprintf("%s/%s%s", dir, *name, suffix);
	int r;

	if (!path)
		return -ENOMEM;
	if (!*suffix && (stat(path, &st) < 0 || !S_ISREG(st.st_mode))) {
		free(path);
		return 0;
	}
	if (*suffix) {
		char *why = fw_cfg_entry_unusable(dir, *name);
		if (why) {
			v[*n].unusable = why;
			v[*n].data = calloc(1, 1);
			v[(*n)++].name = *name;
			*name = NULL;
			free(path);
			return v[*n - 1].data ? 0 : -ENOMEM;
		}
	}
	r = file_read_bounded(AT_FDCWD, path, SOURCE_READ_MAX, &v[*n].data, &v[*n].len);
	if (r < 0)
		read_error(error, path, r);
	else {
		v[(*n)++].name = *name;
		*name = NULL;
	}
	free(path);
	return r;
}

/* One blob per directory entry: DIR/NAME/raw (fw_cfg) or DIR/NAME (@initrd). */
static int load_dir_blobs(const char *root, const char *rel, const char *suffix, struct raw_blob **out,
			  size_t *n_out, char **error)
{
	char *dir = root_join(root, rel), **names = NULL;
	size_t n = 0;
	int r;

	if (!dir)
		return -ENOMEM;
	r = list_dir(dir, &names, &n);
	if (r == -ENOENT || r == -ENOTDIR) {
		free(dir);
		return 0;
	}
	if (r < 0) {
		read_error(error, dir, r);
		free(dir);
		return r;
	}
	*out = calloc(n ? n : 1, sizeof(**out));
	r = *out ? 0 : -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (r >= 0)
			r = load_one_blob(dir, &names[i], suffix, *out, n_out, error);
		free(names[i]);
	}
	free(names);
	free(dir);
	return r;
}

static int load_version(const char *root, unsigned override, struct import_env *env, char **error)
{
	int r;

	env->systemd_version = override;
	if (override)
		return 0;
	r = systemd_version_detect(root, &env->systemd_version);
	if (r == -ENOENT && error)
		*error = strprintf("cannot tell the systemd version of %s (no libsystemd-shared-NNN.so under "
				   "usr/lib/x86_64-linux-gnu/systemd, lib/systemd or usr/lib/systemd): "
				   "pass --systemd-version N", root);
	if (r < 0)
		return r;
	env->version_detected = true;
	return 0;
}

static int load_all(const char *root, struct import_env *env, struct import_sources *s, char **error)
{
	int r = load_container(root, env, error);

	if (r >= 0)
		r = load_cvm(root, env, error);
	if (r >= 0)
		r = smbios_read_entries(root, &s->smbios, &s->n_smbios, &env->dmi_sysfs_present, error);
	if (r >= 0)
		r = load_dir_blobs(root, FW_CFG_CREDS, "/raw", &s->fw_cfg, &s->n_fw_cfg, error);
	if (r >= 0 && !env->in_container)
		r = load_efi(root, env, s, error);
	if (r >= 0)
		r = load_cmdline(root, env, s, error);
	if (r >= 0)
		r = load_dir_blobs(root, INITRD_CREDS, "", &s->initrd, &s->n_initrd, error);
	return r;
}

static void clear_string(char *p);

int sources_load(const char *root, unsigned systemd_version_override, struct import_env *env,
		 struct import_sources *s, char **error)
{
	const struct systemd_release *rel;
	char *cmdline;
	long ps;
	int r;

	*env = (struct import_env) {};
	*s = (struct import_sources) {};
	if (error)
		*error = NULL;
	r = load_version(root, systemd_version_override, env, error);
	if (r < 0)
		return r;
	ps = strcmp(root, "/") == 0 ? sysconf(_SC_PAGESIZE) : 4096;
	env->page_size = ps > 0 ? (size_t) ps : 4096;
	env->fw_cfg_present = path_exists(root, "/sys/firmware/qemu_fw_cfg");
	r = load_all(root, env, s, error);
	if (r < 0) {
		sources_free(s);
		return r;
	}
	rel = systemd_release(env->systemd_version);
	cmdline = s->cmdline && rel->cmdline_first_line_only ? strndup(s->cmdline, proc_cmdline_line_len(s->cmdline))
							      : s->cmdline;
	if (s->cmdline && !cmdline) {
		sources_free(s);
		return -ENOMEM;
	}
	env->import_disabled = cmdline_import_credentials_disabled(cmdline, env->efi_secure_boot ||
								   !rel->efi_systemd_options ? NULL : s->efi_options);
	if (cmdline != s->cmdline)
		clear_string(cmdline);
	return 0;
}

static void clear_string(char *p)
{
	if (p)
		secret_clear(p, strlen(p));
	free(p);
}

void sources_free(struct import_sources *s)
{
	if (!s)
		return;
	raw_blobs_free(s->smbios, s->n_smbios);
	raw_blobs_free(s->fw_cfg, s->n_fw_cfg);
	raw_blobs_free(s->initrd, s->n_initrd);
	clear_string(s->efi_options);
	clear_string(s->cmdline);
	*s = (struct import_sources) {};
}
