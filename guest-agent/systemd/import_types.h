/* import_types: the data of the import model (sources as raw bytes, the facts that gate
 * the import, candidates and their fates, the prediction), apart from the functions that
 * compute it (import_creds.h), so that the rules' modules (gates, versions, the predictor)
 * can name the data without depending on the import, which depends on them.
 *
 * Secret handling: values live only in cred_candidate.value / .imported (which may be one
 * buffer); they are cleared, once, by prediction_free(). `detail` strings never contain
 * value bytes.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "systemd/creds_name.h"

#define CRED_SIZE_MAX       (1024u * 1024u)   /* CREDENTIAL_SIZE_MAX */
#define CRED_TOTAL_SIZE_MAX (1024u * 1024u)   /* CREDENTIALS_TOTAL_SIZE_MAX, shared by all sources */

enum cred_source {
	CRED_SOURCE_FW_CFG,
	CRED_SOURCE_SMBIOS,
	CRED_SOURCE_CMDLINE,
	CRED_SOURCE_INITRD,
	_CRED_SOURCE_MAX,
};

enum cred_fate {
	FATE_IMPORTED,               /* written byte-exact into @system */
	FATE_IMPORTED_TRUNCATED,     /* written, but cut at the page boundary (systemd < 257) */
	FATE_NOT_A_CREDENTIAL,       /* OEM string without an io.systemd.credential prefix */
	FATE_DROPPED_NO_SEPARATOR,   /* SMBIOS: no '='; cmdline: no ':' */
	FATE_DROPPED_INVALID_NAME,   /* credential_name_valid() is false */
	FATE_DROPPED_BAD_BASE64,     /* unbase64mem() failed (incl. a cut at the page boundary) */
	FATE_DROPPED_TOO_LARGE,      /* decoded size > 1 MiB */
	FATE_DROPPED_BUDGET,         /* the shared 1 MiB total would be exceeded */
	FATE_DROPPED_DUPLICATE,      /* an earlier source or string already created the name */
	FATE_DROPPED_PAST_PAGE,      /* lies wholly past the first page of 11-N/raw (< 257) */
	FATE_DROPPED_UNSUPPORTED,    /* syntax this systemd version does not know */
	FATE_DROPPED_SOURCE_ERROR,   /* the source was aborted (bad DMI header, read error) */
	FATE_SOURCE_SKIPPED,         /* the whole import or source was skipped (see env) */
	FATE_DROPPED_ENTRY_SKIPPED,  /* systemd could not use this one entry (fw_cfg: no size file, not a
	                                directory) and skipped it with a warning; detail = that warning */
	FATE_DROPPED_STORE_FULL,     /* the store's file system had no page or inode left (ENOSPC): the file
	                                was unlinked and the rest of its source not processed */
};

/* What the file system of /run/credentials/@system can hold, as observed in mountinfo (254+
 * mount a tmpfs nr_inodes=1024,size=1048576[,noswap] there: src/shared/mount-util.c
 * :1478-1530@v254, :1664-1716@257.13, :1985-2041@262). tmpfs charges every page a file
 * touches (a non-empty file takes at least one) and one inode per file, the root directory
 * included; ramfs and an unobserved store have no limit but the 1 MiB budget. */
struct store_limits {
	bool observed;                /* the store is a mount point found in mountinfo */
	char fs[16];                  /* "tmpfs", "ramfs", ... */
	uint64_t size_bytes;          /* tmpfs size=; 0 = no limit */
	uint64_t inodes;              /* tmpfs nr_inodes=; 0 = no limit */
};

/* Where a FATE_DROPPED_STORE_FULL candidate met ENOSPC itself (the others of its source were
 * never seen): at the O_EXCL create (no inode left: "Failed to create %s/%s: %m") or at the
 * write or copy of its bytes (no page left: "Failed to write credential: %m" for SMBIOS and the
 * command line, "Failed to create credential '%s': %m" for fw_cfg and @initrd). */
enum cred_store_failure {
	STORE_FAILURE_NONE,
	STORE_FAILURE_CREATE,
	STORE_FAILURE_WRITE,
};

struct cred_candidate {
	enum cred_source source;
	char *origin;              /* "SMBIOS 11-0 string 3 at byte 17", "fw_cfg opt/io.systemd.credentials/FOO",
	                              "kernel command line word 4": never value bytes */
	size_t offset;             /* byte offset of the string in its 11-N/raw entry (SMBIOS only) */
	size_t raw_len;            /* length of the whole source string/item as the host sent it */
	bool binary;               /* io.systemd.credential.binary: / systemd.set_credential_binary= */
	char *name;                /* NULL when it could not be determined; may be an invalid name */
	uint8_t *value;            /* decoded value as the host sent it, a NUL after it; NULL if undecodable */
	size_t value_len;
	uint8_t *imported;         /* the exact bytes systemd writes, a NUL after them; NULL unless
	                              FATE_IMPORTED*; the value's own buffer when the bytes are equal */
	size_t imported_len;
	enum cred_fate fate;
	enum cred_store_failure store_failure; /* FATE_DROPPED_STORE_FULL only */
	char *detail;              /* one clause with the numbers behind the fate, e.g.
	                              "the entry is 5123 bytes and systemd 252 reads only the first 4096" */
};

struct import_env {
	unsigned systemd_version;     /* 252, 254, 257 ... ; 0 = unknown */
	bool version_detected;        /* false when overridden or guessed */
	size_t page_size;             /* PAGE_SIZE of the guest, 4096 on x86-64 */
	bool in_container;
	bool confidential_vm;
	bool cvm_tdx;                 /* the confidential VM is Intel TDX (262 still trusts SMBIOS there) */
	char cvm_kind[16];            /* "none", "sev", "sev-es", "sev-snp", "tdx" */
	char cvm_note[240];           /* what PID 1 saw that cannot be seen now, or "" */
	bool cvm_uncertain;           /* cvm_note concerns this CPU (SEV with the MSR unknown at boot) */
	char container_kind[40];      /* "" none, else "docker", "wsl", ... (systemd/virt.h) */
	char container_evidence[160]; /* what decided it */
	char container_note[200];     /* what PID 1 saw that cannot be seen now, or "" */
	bool credentials_dir_preset;  /* $CREDENTIALS_DIRECTORY set for PID 1 */
	bool import_disabled;         /* systemd.import_credentials=no on the command line */
	bool dmi_sysfs_present;       /* /sys/firmware/dmi/entries exists */
	bool fw_cfg_present;          /* /sys/firmware/qemu_fw_cfg exists */
	bool efi_secure_boot;         /* SecureBoot is on: systemd ignores the SystemdOptions EFI variable */
	bool credentials_dir_is_system; /* the preset $CREDENTIALS_DIRECTORY is /run/credentials/@system:
	                                 * v254+ still merges /run/credentials/@initrd into it */
	bool pid1_switched_root;      /* PID 1's argv has --switched-root: the initrd's systemd exec'd it at
	                                 switch-root (with a preset @system: that PID 1 did the import) */
	struct store_limits store;    /* capacity of the store's file system */
};

/* The import was done by the initrd's systemd, PID 1 before switch-root (the store and
 * $CREDENTIALS_DIRECTORY=/run/credentials/@system passed over the re-exec with
 * --switched-root); the host's PID 1 then only merged /run/credentials/@initrd (254+). */
static inline bool import_env_initrd_pid1(const struct import_env *env)
{
	return env->credentials_dir_preset && env->credentials_dir_is_system && env->pid1_switched_root;
}

struct raw_blob {
	char *name;                /* fw_cfg / initrd: the file name; SMBIOS: "11-N" */
	uint8_t *data;
	size_t len;
	char *unusable;            /* fw_cfg: the warning systemd logs when it skips the entry (e.g. a
	                              directory the kernel made for a name with a further '/'); NULL */
};

struct import_sources {
	struct raw_blob *smbios;   /* each /sys/firmware/dmi/entries/11-N/raw read to EOF, N = 0.. */
	size_t n_smbios;
	struct raw_blob *fw_cfg;   /* by_name/opt/io.systemd.credentials/NAME/raw, sorted by NAME */
	size_t n_fw_cfg;
	char *efi_options;         /* SystemdOptions EFI variable (text), NULL if absent */
	char *cmdline;             /* /proc/cmdline, NULL if absent */
	struct raw_blob *initrd;   /* /run/credentials/@initrd/NAME (v254+) */
	size_t n_initrd;
};

struct prediction {
	struct import_env env;
	struct cred_candidate *cands;  /* in systemd's processing order */
	size_t n_cands;
	size_t budget_used;            /* bytes counted against CRED_TOTAL_SIZE_MAX */
	char *skip_reason;             /* non-NULL when the whole import is skipped */
	/* why a whole source contributed nothing, e.g. SMBIOS: "/sys/firmware/dmi/entries
	 * does not exist: the kernel lacks dmi-sysfs"; NULL when the source ran. */
	char *source_skip_reason[_CRED_SOURCE_MAX];
	/* when the store filled up: "the credential store, a 1 MiB tmpfs, was full after 256
	 * pages: C256 and the 43 after it were dropped"; NULL otherwise */
	char *store_full;
	size_t store_pages_used, store_files;   /* what the predicted files take */
};
