/* ch_config: the pure half of the cloud-hypervisor path: the vm.create JSON body and the
 * parsing of `cloud-hypervisor --version`. No I/O here; unit-tested byte for byte. */
#include "hypervisor/cloud_hypervisor.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

#define CH_CRED_PREFIX "io.systemd.credential.binary:"

/* "io.systemd.credential.binary:NAME=<base64>", malloc'd; the caller clears it. */
static char *credential_oem_string(const struct ch_credential *c)
{
	size_t name_len = strlen(c->name);
	size_t b64_len = 4 * ((c->len + 2) / 3);
	size_t prefix_len = strlen(CH_CRED_PREFIX) + name_len + 1;
	char *s;

	if (c->len > (1u << 24))
		return NULL;
	s = malloc(prefix_len + b64_len + 1);
	if (!s)
		return NULL;
	memcpy(s, CH_CRED_PREFIX, strlen(CH_CRED_PREFIX));
	memcpy(s + strlen(CH_CRED_PREFIX), c->name, name_len);
	s[prefix_len - 1] = '=';
	EVP_EncodeBlock((unsigned char *)s + prefix_len, c->value, (int)c->len);
	s[prefix_len + b64_len] = '\0';
	return s;
}

/* Appends one secret string; the temporary copy is cleared whatever happens. */
static int append_credential(json_t *list, const struct ch_credential *c)
{
	char *s = credential_oem_string(c);
	int r;

	if (!s)
		return -ENOMEM;
	r = json_array_append_new(list, json_string(s)) == 0 ? 0 : -ENOMEM;
	secret_clear(s, strlen(s));
	free(s);
	return r;
}

static void clear_string_list(json_t *list)
{
	size_t i;
	json_t *s;

	json_array_foreach(list, i, s)
		secret_clear((char *)json_string_value(s), json_string_length(s));
}

static json_t *oem_strings_json(const struct ch_vm_config *cfg)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < cfg->n_credentials; i++)
		if (append_credential(list, &cfg->credentials[i]) < 0)
			goto fail;
	for (size_t i = 0; list && i < cfg->n_oem_strings; i++)
		if (json_array_append_new(list, json_string(cfg->oem_strings[i])) != 0)
			goto fail;
	return list;
fail:
	clear_string_list(list);
	json_decref(list);
	return NULL;
}

/* jansson keeps its own copies of strings: clear those holding credentials before
 * the tree is freed. */
static void clear_oem_strings(json_t *root)
{
	clear_string_list(json_object_get(json_object_get(root, "platform"), "oem_strings"));
}

static int check_config(const struct ch_vm_config *cfg, char **error)
{
	const char *what = NULL;

	if (!cfg->kernel || !*cfg->kernel)
		what = "kernel: a kernel image is required (cloud-hypervisor boots it directly)";
	else if (cfg->vsock_cid != 0 && (cfg->vsock_cid < 3 || cfg->vsock_cid == UINT32_MAX))
		what = "vsock.cid: must be at least 3 and not 4294967295 (0-2 are reserved)";
	else if (cfg->vsock_cid != 0 && (!cfg->vsock_socket || !*cfg->vsock_socket))
		what = "vsock.socket: a hybrid vsock needs a Unix socket path";
	for (size_t i = 0; !what && i < cfg->n_credentials; i++)
		if (!cfg->credentials[i].name || !*cfg->credentials[i].name)
			what = "platform.oem_strings: a credential has an empty name";
	for (size_t i = 0; !what && i < cfg->n_disks; i++)
		if (!cfg->disks[i].path || !*cfg->disks[i].path)
			what = "disks: a disk has no path";
	if (!what)
		return 0;
	if (error)
		*error = strdup(what);
	return -EINVAL;
}

static json_t *disks_json(const struct ch_vm_config *cfg)
{
	json_t *disks = json_array();

	for (size_t i = 0; disks && i < cfg->n_disks; i++)
		if (json_array_append_new(disks, json_pack("{s:s, s:b}", "path", cfg->disks[i].path,
							   "readonly", cfg->disks[i].readonly)) != 0) {
			json_decref(disks);
			return NULL;
		}
	return disks;
}

static json_t *payload_json(const struct ch_vm_config *cfg)
{
	json_t *p = json_pack("{s:s}", "kernel", cfg->kernel);

	if (p && cfg->initramfs && json_object_set_new(p, "initramfs", json_string(cfg->initramfs)) != 0)
		goto fail;
	if (p && cfg->cmdline && json_object_set_new(p, "cmdline", json_string(cfg->cmdline)) != 0)
		goto fail;
	return p;
fail:
	json_decref(p);
	return NULL;
}

static int add_optional_parts(json_t *root, const struct ch_vm_config *cfg)
{
	json_t *serial = cfg->serial_log ? json_pack("{s:s, s:s}", "mode", "File", "file", cfg->serial_log)
					 : json_pack("{s:s}", "mode", cfg->serial_tty ? "Tty" : "Off");

	if (json_object_set_new(root, "serial", serial) != 0 || !serial)
		return -ENOMEM;
	if (cfg->n_credentials || cfg->n_oem_strings) {
		json_t *list = oem_strings_json(cfg);
		if (!list || json_object_set_new(root, "platform", json_pack("{s:o}", "oem_strings", list)) != 0)
			return -ENOMEM;
	}
	if (cfg->vsock_cid &&
	    json_object_set_new(root, "vsock", json_pack("{s:I, s:s}", "cid", (json_int_t)cfg->vsock_cid,
							 "socket", cfg->vsock_socket)) != 0)
		return -ENOMEM;
	return 0;
}

static json_t *build_tree(const struct ch_vm_config *cfg)
{
	unsigned cpus = cfg->cpus ? cfg->cpus : 1;
	uint64_t mib = cfg->memory_mib ? cfg->memory_mib : 512;
	json_t *payload = payload_json(cfg), *disks = disks_json(cfg), *root;

	if (!payload || !disks) {
		json_decref(payload);
		json_decref(disks);
		return NULL;
	}
	root = json_pack("{s:o, s:{s:i, s:i}, s:{s:I}, s:o, s:{s:s}}",
			 "payload", payload,
			 "cpus", "boot_vcpus", (json_int_t)cpus, "max_vcpus", (json_int_t)cpus,
			 "memory", "size", (json_int_t)(mib * 1024 * 1024),
			 "disks", disks,
			 "console", "mode", "Off");
	if (root && add_optional_parts(root, cfg) < 0) {
		clear_oem_strings(root);
		json_decref(root);
		root = NULL;
	}
	return root;
}

int ch_config_to_json(const struct ch_vm_config *cfg, char **json, char **error)
{
	const size_t flags = JSON_COMPACT | JSON_SORT_KEYS;
	json_t *root;
	size_t need;
	int r;

	*json = NULL;
	if (error)
		*error = NULL;
	r = check_config(cfg, error);
	if (r < 0)
		return r;
	root = build_tree(cfg);
	if (!root)
		return -ENOMEM;
	/* sized dump straight into our buffer: no intermediate realloc'd copies of secrets */
	need = json_dumpb(root, NULL, 0, flags);
	*json = need ? malloc(need + 1) : NULL;
	if (*json && json_dumpb(root, *json, need, flags) == need)
		(*json)[need] = '\0';
	else {
		free(*json);
		*json = NULL;
	}
	clear_oem_strings(root);
	json_decref(root);
	return *json ? 0 : -ENOMEM;
}

void ch_config_json_free(char *json)
{
	if (!json)
		return;
	secret_clear(json, strlen(json));
	free(json);
}

static int parse_uint(const char **p, unsigned *out)
{
	unsigned long v = 0;
	const char *s = *p;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 100000)
			return -EINVAL;
	}
	*out = (unsigned)v;
	*p = s;
	return 0;
}

int ch_parse_version(const char *text, unsigned *major, unsigned *minor)
{
	const char *p = text;

	/* the version is the first word that starts with "v<digit>" or a digit */
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n')
			return -EINVAL;
		if (p[0] == 'v' && isdigit((unsigned char)p[1])) {
			p++;
			break;
		}
		if (isdigit((unsigned char)*p))
			break;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
	}
	if (parse_uint(&p, major) < 0)
		return -EINVAL;
	*minor = 0;
	if (*p == '.') {
		p++;
		if (parse_uint(&p, minor) < 0)
			return -EINVAL;
	}
	return 0;
}
