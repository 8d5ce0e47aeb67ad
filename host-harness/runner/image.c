/* image: locating a built guest image. */
#include "runner/image.h"

#include <errno.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_CMDLINE "root=/dev/vda rw console=ttyS0"

static char *first_existing(const char *dir, const char *const *names)
{
	for (; *names; names++) {
		char *p;
		if (asprintf(&p, "%s/%s", dir, *names) < 0)
			return NULL;
		if (access(p, R_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

static char *json_path(json_t *root, const char *dir, const char *const *keys)
{
	for (; *keys; keys++) {
		json_t *v = json_object_get(root, *keys);
		char *p;
		if (!json_is_string(v))
			continue;
		const char *s = json_string_value(v);
		if (asprintf(&p, s[0] == '/' ? "%.0s%s" : "%s/%s", dir, s) < 0)
			return NULL;
		return p;
	}
	return NULL;
}

static char *json_str(json_t *root, const char *const *keys)
{
	for (; *keys; keys++) {
		json_t *v = json_object_get(root, *keys);
		if (json_is_string(v))
			return strdup(json_string_value(v));
	}
	return NULL;
}

/* Removes every whole-word occurrence of word from the space-separated list s. */
static void drop_word(char *s, const char *word)
{
	size_t wl = strlen(word);
	char *p = s;
	while (p && (p = strstr(p, word))) {
		bool start = p == s || p[-1] == ' ', end = p[wl] == ' ' || p[wl] == 0;
		if (!start || !end) {
			p += wl;
			continue;
		}
		memmove(p, p + wl + (p[wl] == ' '), strlen(p + wl + (p[wl] == ' ')) + 1);
	}
	size_t n = s ? strlen(s) : 0;
	while (n && s[n - 1] == ' ')
		s[--n] = 0;
}

static void from_json(const char *dir, struct guest_image *img)
{
	static const char *const kkeys[] = { "kernel", "vmlinuz", NULL }, *const ikeys[] = { "initrd", NULL },
				  *const rkeys[] = { "rootfs", "root", "root_image", "disk", NULL },
				  *const ckeys[] = { "cmdline", "kernel_cmdline", "append", NULL },
				  *const fkeys[] = { "rootfs_format", "format", NULL };
	char *path;
	if (asprintf(&path, "%s/image.json", dir) < 0)
		return;
	json_t *root = json_load_file(path, 0, NULL);
	free(path);
	if (!json_is_object(root)) {
		json_decref(root);
		return;
	}
	/* vm-images/README.md: "files": {kernel, initrd, rootfs}, "boot": {"initrd": {"cmdline"}} */
	json_t *files = json_object_get(root, "files"), *boot = json_object_get(json_object_get(root, "boot"), "initrd");
	json_t *where = json_is_object(files) ? files : root;
	img->kernel = json_path(where, dir, kkeys);
	static const char *const vkeys[] = { "vmlinux", NULL };
	img->vmlinux = json_is_object(files) ? json_path(files, dir, vkeys) : NULL;
	if (img->vmlinux && access(img->vmlinux, R_OK) != 0) {   /* named but gone: the bzImage boots */
		free(img->vmlinux);
		img->vmlinux = NULL;
	}
	img->initrd = json_path(where, dir, ikeys);
	img->rootfs = json_path(where, dir, rkeys);
	img->cmdline = json_str(json_is_object(boot) ? boot : root, ckeys);
	img->rootfs_format = json_str(root, fkeys);
	json_t *sv = json_object_get(json_object_get(root, "systemd"), "version");
	if (json_is_integer(sv) && json_integer_value(sv) > 0 && json_integer_value(sv) < 100000)
		img->systemd_version = (unsigned)json_integer_value(sv);
	json_t *cv = json_object_get(root, "cases_as");
	if (json_is_string(cv) && image_flavor_name_ok(json_string_value(cv)))
		img->cases_as = strdup(json_string_value(cv));
	json_t *av = json_object_get(root, "arch");
	if (json_is_string(av)) {
		img->arch_name = strdup(json_string_value(av));
		img->arch = strcmp(json_string_value(av), "x86_64") == 0	 ? GUEST_ARCH_X86_64
			    : strcmp(json_string_value(av), "aarch64") == 0 ? GUEST_ARCH_AARCH64
									     : GUEST_ARCH_OTHER;
	} else if (av) {
		img->arch = GUEST_ARCH_OTHER;
	}
	drop_word(img->cmdline, "quiet");   /* the harness reads the boot phases from kernel messages */
	json_decref(root);
}

int image_load(const char *image_dir, const char *flavor, struct guest_image *out, char **why)
{
	static const char *const kernels[] = { "vmlinuz", "kernel", NULL }, *const initrds[] = { "initrd.img", "initrd", NULL },
				  *const roots[] = { "rootfs.img", "rootfs.ext4", "root.img", "rootfs.raw", "disk.img", NULL };
	char *dir;
	memset(out, 0, sizeof *out);
	*why = NULL;
	if (asprintf(&dir, "%s/%s", image_dir, flavor) < 0)
		return -ENOMEM;
	from_json(dir, out);
	if (!out->kernel)
		out->kernel = first_existing(dir, kernels);
	if (!out->initrd)
		out->initrd = first_existing(dir, initrds);
	if (!out->rootfs)
		out->rootfs = first_existing(dir, roots);
	if (!out->cmdline)
		out->cmdline = strdup(DEFAULT_CMDLINE);
	out->flavor = strdup(flavor);
	int r = 0;
	if (!out->kernel || !out->rootfs || access(out->kernel, R_OK) || access(out->rootfs, R_OK)) {
		if (asprintf(why, "image %s is not built: no kernel and root image in %s (run `make images`)", flavor, dir) < 0)
			*why = NULL;
		r = -ENOENT;
		image_free(out);
	}
	free(dir);
	return r;
}

void image_free(struct guest_image *img)
{
	free(img->flavor), free(img->kernel), free(img->vmlinux), free(img->initrd), free(img->rootfs), free(img->rootfs_format);
	free(img->cmdline), free(img->arch_name), free(img->cases_as);
	memset(img, 0, sizeof *img);
}

const char *guest_arch_name(enum guest_arch a)
{
	return a == GUEST_ARCH_X86_64 ? "x86_64" : a == GUEST_ARCH_AARCH64 ? "aarch64" : NULL;
}

bool image_flavor_name_ok(const char *flavor)
{
	if (!flavor[0] || flavor[0] == '.' || flavor[0] == '-' || strlen(flavor) > 64)
		return false;
	for (const char *c = flavor; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
		      *c == '_' || *c == '-'))
			return false;
	return strstr(flavor, "..") == NULL;
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int image_list_flavors(const char *image_dir, char ***out)
{
	DIR *d = opendir(image_dir);
	struct dirent *e;
	size_t n = 0;
	char **v = calloc(1, sizeof *v);

	*out = NULL;
	if (!v)
		return (d ? closedir(d) : 0), -ENOMEM;
	if (!d) {
		if (errno != ENOENT && errno != ENOTDIR)
			return free(v), -errno;
		*out = v;
		return 0;
	}
	while ((e = readdir(d))) {
		struct stat st;
		if (!image_flavor_name_ok(e->d_name) || fstatat(dirfd(d), e->d_name, &st, 0) < 0 || !S_ISDIR(st.st_mode))
			continue;
		char **nv = realloc(v, (n + 2) * sizeof *v);
		if (!nv || !(nv[n] = strdup(e->d_name))) {
			v = nv ? nv : v;
			v[n] = NULL;
			closedir(d);
			image_flavors_free(v);
			return -ENOMEM;
		}
		v = nv;
		v[++n] = NULL;
	}
	closedir(d);
	qsort(v, n, sizeof *v, by_string);
	*out = v;
	return (int)n;
}

void image_flavors_free(char **flavors)
{
	for (char **f = flavors; f && *f; f++)
		free(*f);
	free(flavors);
}
