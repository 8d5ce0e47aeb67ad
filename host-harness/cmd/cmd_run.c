/* cmd_run: `credscope-harness run [OPTIONS] CASE...`: loads every case, keeps this
 * --shard's, runs each on each image flavor with -j workers (runner/runner.h), and writes
 * the live progress, TAP, the summary table and JUnit (output/). The main thread owns the
 * signals: SIGINT, SIGTERM or SIGHUP stop every VM and the exit status is 2. */
#include "cmd/cmd_run.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "hypervisor/accel.h"
#include "output/html.h"
#include "output/junit.h"
#include "output/outfile.h"
#include "output/progress.h"
#include "output/result.h"
#include "output/tap.h"
#include "parse.h"
#include "runner/case.h"
#include "runner/case_limits.h"
#include "runner/image.h"
#include "runner/rundir.h"
#include "runner/runner.h"
#include "runner/shard.h"

#define MAX_JOBS 64u

struct job {
	const struct test_case *tc;
	const char *image;
	bool started, done;
};

struct harness {
	struct run_opts o;
	unsigned jobs_parallel;
	bool tap;
	const char *junit;
	const char *html;     /* --html FILE, or NULL */
	const char *shard;    /* --shard "I/N", or NULL: every case */
	struct case_guest cli_guest;   /* --guest-*: every case boots this guest instead of flavors */
	bool have_cli_guest;
	enum case_firmware cli_firmware;   /* --firmware, for cases that name none */
	bool have_cli_firmware;
	bool zero_install;                 /* --zero-install: every case */
	char *images[16];
	size_t n_images;
	struct test_case *cases;
	size_t n_cases;
	struct job *jobs;
	struct case_result *results;
	size_t n_jobs;
	struct run_live *slots;
	pthread_mutex_t mu;
	size_t next, *done_order, n_done;
	atomic_int stop, workers_alive;
};

struct worker_arg {
	struct harness *h;
	size_t slot;
};

void cmd_run_help(FILE *f)
{
	fputs("Boots one QEMU VM per case and image flavor, passes the case's credentials (SMBIOS type 11,\n"
	      "fw_cfg, kernel command line), receives the guest agent's report and judges delivery itself.\n\n"
	      "  -j, --jobs N          run N VMs at once (default 1)\n"
	      "      --tap             TAP version 13 on stdout\n"
	      "      --junit FILE      JUnit XML report\n"
	      "      --html FILE       one self-contained HTML page: verdicts, credentials, boot timelines\n"
	      "      --keep            keep each run's private directory (printed)\n"
	      "      --image-dir DIR   built images (default vm-images/out)\n"
	      "      --images A,B      flavors to run cases on (default bookworm,trixie)\n"
	      "      --transport T     report transport: serial, vsock or auto (default auto)\n"
	      "      --accel A         auto (probe KVM, default), kvm or tcg\n"
	      "      --qemu PATH       QEMU binary (default qemu-system-x86_64)\n"
	      "      --log-dir DIR     where failing runs' console logs go (default credscope-logs)\n"
	      "      --memory MB       guest memory (default 512)\n"
	      "      --shard I/N       only shard I of N (cases split by sorted name); --junit F writes\n"
	      "                        F.shard-I-of-N.xml\n"
	      "      --guest-kernel PATH   boot every case on this kernel instead of the flavors\n"
	      "      --guest-initrd PATH   ... with this initrd\n"
	      "      --guest-append TEXT   ... and this kernel command line (default console=ttyS0)\n"
	      "      --guest-disk PATH     root disk (with --guest-kernel) or a bootable disk (without);\n"
	      "                            never written: the run boots a throw-away overlay\n"
	      "      --guest-format F      the disk's format: raw (default) or qcow2\n"
	      "      --firmware FW         bios (SeaBIOS, default) or uefi (OVMF) for cases that name none\n"
	      "      --zero-install        every case as \"zero_install\": true: the agent's unit by credential\n"
	      "                            (systemd 256+), the static agent on the disk; nothing installed\n\n"
	      "Exit status: 0 every case got its expected verdict, 1 some did not, 2 usage or\n"
	      "environment error (or interrupted), 77 every case was skipped (QEMU or image missing).\n", f);
}

static void usage(FILE *f)
{
	fputs("Usage: credscope-harness run [OPTIONS] CASE.json...\n\n", f);
	cmd_run_help(f);
}

static int parse_images(struct harness *h, char *list)
{
	h->n_images = 0;
	for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (h->n_images == sizeof h->images / sizeof *h->images)
			return -E2BIG;
		if (!image_flavor_name_ok(t))   /* it names a directory under --image-dir */
			return -EINVAL;
		h->images[h->n_images++] = t;
	}
	return h->n_images ? 0 : -EINVAL;
}

enum { O_TAP = 256, O_JUNIT, O_KEEP, O_IMAGE_DIR, O_IMAGES, O_TRANSPORT, O_ACCEL, O_QEMU, O_LOG_DIR, O_MEMORY, O_SHARD, O_HTML,
       O_GUEST_KERNEL, O_GUEST_INITRD, O_GUEST_APPEND, O_GUEST_DISK, O_GUEST_FORMAT, O_FIRMWARE, O_ZERO_INSTALL };

/* --guest-*: paths as given (relative to the working directory), text copied; checked
 * together once every option is read (check_cli_guest()). */
static int set_guest_option(struct harness *h, int opt, const char *arg)
{
	/* in the order of O_GUEST_KERNEL .. O_GUEST_FORMAT */
	char **field[] = { &h->cli_guest.kernel, &h->cli_guest.initrd, &h->cli_guest.append, &h->cli_guest.disk,
			   &h->cli_guest.format };
	int i = opt - O_GUEST_KERNEL;

	if (i < 0 || i > O_GUEST_FORMAT - O_GUEST_KERNEL)
		return -EINVAL;
	free(*field[i]);
	if (!(*field[i] = strdup(arg)))
		return -ENOMEM;
	h->have_cli_guest = true;
	return 0;
}

static int check_cli_guest(const struct harness *h)
{
	char *msg = NULL;
	int r;

	if (!h->have_cli_guest)
		return 0;
	if ((r = case_guest_check(&h->cli_guest, "--guest-", &msg)) < 0)
		fprintf(stderr, "credscope-harness: %s\n", msg ? msg : "out of memory");
	free(msg);
	return r;
}

static int parse_args(struct harness *h, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "jobs", required_argument, NULL, 'j' },      { "tap", no_argument, NULL, O_TAP },
		{ "junit", required_argument, NULL, O_JUNIT }, { "keep", no_argument, NULL, O_KEEP },
		{ "image-dir", required_argument, NULL, O_IMAGE_DIR }, { "images", required_argument, NULL, O_IMAGES },
		{ "transport", required_argument, NULL, O_TRANSPORT }, { "accel", required_argument, NULL, O_ACCEL },
		{ "qemu", required_argument, NULL, O_QEMU },   { "log-dir", required_argument, NULL, O_LOG_DIR },
		{ "memory", required_argument, NULL, O_MEMORY }, { "shard", required_argument, NULL, O_SHARD }, { "html", required_argument, NULL, O_HTML },
		{ "guest-kernel", required_argument, NULL, O_GUEST_KERNEL }, { "guest-initrd", required_argument, NULL, O_GUEST_INITRD },
		{ "guest-append", required_argument, NULL, O_GUEST_APPEND }, { "guest-disk", required_argument, NULL, O_GUEST_DISK },
		{ "guest-format", required_argument, NULL, O_GUEST_FORMAT }, { "firmware", required_argument, NULL, O_FIRMWARE },
		{ "zero-install", no_argument, NULL, O_ZERO_INSTALL },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	int c;
	while ((c = getopt_long(argc, argv, "j:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (parse_uint(optarg, 1, MAX_JOBS, &h->jobs_parallel) < 0)
				return fprintf(stderr, "credscope-harness: -j %s: expected 1 to 64\n", optarg), -EINVAL;
			break;
		case O_TAP: h->tap = true; break;
		case O_JUNIT: h->junit = optarg; break;
		case O_HTML: h->html = optarg; break;
		case O_KEEP: h->o.keep = true; break;
		case O_IMAGE_DIR: h->o.image_dir = optarg; break;
		case O_IMAGES:
			if (parse_images(h, optarg) < 0)
				return fprintf(stderr, "credscope-harness: --images %s: expected a comma-separated list of flavor "
					       "names (at most 16, no '/' or '..')\n", optarg), -EINVAL;
			break;
		case O_TRANSPORT: h->o.transport = optarg; break;
		case O_ACCEL: h->o.accel = optarg; break;
		case O_QEMU: h->o.qemu_binary = optarg; break;
		case O_LOG_DIR: h->o.log_dir = optarg; break;
		case O_SHARD: h->shard = optarg; break;
		case O_MEMORY:
			if (parse_uint(optarg, 128, UINT_MAX, &h->o.memory_mb) < 0)
				return fprintf(stderr, "credscope-harness: --memory %s: expected at least 128 (MiB)\n", optarg), -EINVAL;
			break;
		case O_GUEST_KERNEL: case O_GUEST_INITRD: case O_GUEST_APPEND: case O_GUEST_DISK: case O_GUEST_FORMAT:
			if (set_guest_option(h, c, optarg) < 0)
				return -EINVAL;
			break;
		case O_FIRMWARE:
			if (strcmp(optarg, "bios") && strcmp(optarg, "uefi"))
				return fprintf(stderr, "credscope-harness: --firmware %s: expected bios or uefi\n", optarg), -EINVAL;
			h->cli_firmware = strcmp(optarg, "uefi") == 0 ? FIRMWARE_UEFI : FIRMWARE_BIOS;
			h->have_cli_firmware = true;
			break;
		case O_ZERO_INSTALL: h->zero_install = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind >= argc)
		return fprintf(stderr, "credscope-harness run: no CASE given (try tests/integration/cases/*.json)\n"), -EINVAL;
	if (strcmp(h->o.transport, "serial") && strcmp(h->o.transport, "vsock") && strcmp(h->o.transport, "auto"))
		return fprintf(stderr, "credscope-harness: --transport %s: expected serial, vsock or auto\n", h->o.transport), -EINVAL;
	if (strcmp(h->o.accel, "auto") && strcmp(h->o.accel, "kvm") && strcmp(h->o.accel, "tcg"))
		return fprintf(stderr, "credscope-harness: --accel %s: expected auto, kvm or tcg\n", h->o.accel), -EINVAL;
	if (check_cli_guest(h) < 0)
		return -EINVAL;
	return optind;
}

/* keep[i] says whether case i belongs to this --shard (shard.h: by sorted name); NULL
 * without --shard. */
static int select_shard(const struct harness *h, bool **keep)
{
	unsigned index, count;
	char *err = NULL;
	const char **names;
	int r;

	*keep = NULL;
	if (!h->shard)
		return 0;
	if (shard_parse(h->shard, &index, &count, &err) < 0) {
		fprintf(stderr, "credscope-harness: %s\n", err ? err : h->shard);
		free(err);
		return -EINVAL;
	}
	names = calloc(h->n_cases + 1, sizeof *names);
	*keep = calloc(h->n_cases + 1, sizeof **keep);
	if (!names || !*keep) {
		free(names);
		return -ENOMEM;
	}
	for (size_t i = 0; i < h->n_cases; i++)
		names[i] = h->cases[i].name;
	r = shard_select(h->n_cases, names, index, count, *keep);
	free(names);
	if (r >= 0)
		fprintf(stderr, "credscope-harness: shard %u/%u: %d of %zu cases\n", index, count, r, h->n_cases);
	return r < 0 ? r : 0;
}

/* A flavor a case names that is neither in --images nor built in --image-dir is a typo:
 * it would run nowhere and the suite would pass (1..0). */
static int check_flavors(const struct harness *h)
{
	char **built, *err = NULL;
	int n = image_list_flavors(h->o.image_dir, &built), r = 0;
	if (n < 0)
		return fprintf(stderr, "credscope-harness: --image-dir %s: %s\n", h->o.image_dir, strerror(-n)), n;
	for (size_t i = 0; i < h->n_cases && r == 0; i++)
		r = case_check_flavors(&h->cases[i], (const char *const *)h->images, h->n_images, h->o.image_dir,
				       (const char *const *)built, (size_t)n, &err);
	if (r < 0)
		fprintf(stderr, "credscope-harness: %s\n", err ? err : "out of memory");
	free(err);
	image_flavors_free(built);
	return r;
}

/* --guest-* and --firmware apply to every case that does not name its own; --zero-install to every case. */
static int use_cli_guest(struct harness *h)
{
	char *err = NULL;
	int r = 0;

	for (size_t i = 0; i < h->n_cases && r == 0 && (h->have_cli_guest || h->have_cli_firmware); i++)
		r = case_use_guest(&h->cases[i], h->have_cli_guest ? &h->cli_guest : NULL,
				   h->have_cli_firmware ? &h->cli_firmware : NULL, &err);
	for (size_t i = 0; i < h->n_cases && r == 0 && h->zero_install; i++)
		r = case_use_zero_install(&h->cases[i], &err);
	if (r < 0)
		fprintf(stderr, "credscope-harness: %s\n", err ? err : "out of memory");
	free(err);
	return r;
}

static int load_cases(struct harness *h, int argc, char **argv, int first)
{
	char *err = NULL;
	if (case_load_all((const char *const *)argv + first, (size_t)(argc - first), &h->cases, &err) < 0) {
		fprintf(stderr, "credscope-harness: %s\n", err ? err : "out of memory");
		free(err);
		return -EINVAL;
	}
	h->n_cases = (size_t)(argc - first);
	if (check_flavors(h) < 0 || use_cli_guest(h) < 0)
		return -EINVAL;
	for (size_t i = 0; i < h->n_cases; i++)   /* what cannot be sent is exit 2, before any boot */
		if (case_check_limits(&h->cases[i], &err) < 0) {
			fprintf(stderr, "credscope-harness: %s\n", err ? err : "out of memory");
			free(err);
			return -EINVAL;
		}
	bool *keep;
	if (select_shard(h, &keep) < 0)
		return -EINVAL;
	h->jobs = calloc(h->n_cases * (h->n_images + 1) + 1, sizeof *h->jobs);
	if (!h->jobs)
		return free(keep), -ENOMEM;
	for (size_t i = 0; i < h->n_cases; i++) {
		if (h->cases[i].guest && (!keep || keep[i]))   /* its own guest: one run */
			h->jobs[h->n_jobs++] = (struct job){ .tc = &h->cases[i], .image = CASE_GUEST_LABEL };
		for (size_t k = 0; k < h->n_images; k++)
			if (case_runs_on(&h->cases[i], h->images[k]) && (!keep || keep[i]))
				h->jobs[h->n_jobs++] = (struct job){ .tc = &h->cases[i], .image = h->images[k] };
	}
	free(keep);
	h->results = calloc(h->n_jobs + 1, sizeof *h->results);
	h->done_order = calloc(h->n_jobs + 1, sizeof *h->done_order);
	h->slots = calloc(h->jobs_parallel, sizeof *h->slots);
	return h->results && h->done_order && h->slots ? 0 : -ENOMEM;
}

static void *worker(void *p)
{
	struct worker_arg *a = p;
	struct harness *h = a->h;
	for (;;) {
		pthread_mutex_lock(&h->mu);
		size_t i = h->next;
		bool go = i < h->n_jobs && !atomic_load(&h->stop);
		if (go)
			h->jobs[h->next++].started = true;
		pthread_mutex_unlock(&h->mu);
		if (!go)
			break;
		run_case(&h->o, h->jobs[i].tc, h->jobs[i].image, &h->slots[a->slot], &h->results[i]);
		pthread_mutex_lock(&h->mu);
		h->jobs[i].done = true;
		h->done_order[h->n_done++] = i;
		pthread_mutex_unlock(&h->mu);
	}
	atomic_fetch_sub(&h->workers_alive, 1);
	return NULL;
}

static void mark_not_run(struct harness *h, size_t i)
{
	struct case_result *r = &h->results[i];
	r->case_name = strdup(h->jobs[i].tc->name);
	r->image = strdup(h->jobs[i].image);
	run_timeline_init(&r->timeline);
	r->expected = h->jobs[i].tc->outcome;
	r->got = OUTCOME_ERROR;
	r->diagnosis = strdup("not run: the harness was interrupted");
	r->accel = h->o.accel;
	r->transport = h->o.transport;
}

/* Main thread: signals, live lines, TAP lines in completion order. */
static void supervise(struct harness *h, sigset_t *sigs, size_t *tap_no, struct progress *pg)
{
	size_t shown = 0;
	struct timespec tick = { 0, 250 * 1000 * 1000 };
	for (;;) {
		int sig = sigtimedwait(sigs, NULL, &tick);
		if (sig > 0 && !atomic_exchange(&h->stop, 1)) {
			progress_clear(pg);
			fprintf(stderr, "credscope-harness: %s: stopping every VM and cleaning up\n", strsignal(sig));
		}
		pthread_mutex_lock(&h->mu);
		size_t done = h->n_done;
		pthread_mutex_unlock(&h->mu);
		for (; shown < done; shown++) {
			const struct case_result *r = &h->results[h->done_order[shown]];
			progress_finished(pg, r);
			if (h->tap)
				tap_result(stdout, ++*tap_no, r);
		}
		if (atomic_load(&h->workers_alive) == 0) {
			pthread_mutex_lock(&h->mu);
			bool all_shown = shown == h->n_done;
			pthread_mutex_unlock(&h->mu);
			if (all_shown)
				break;
			continue;
		}
		progress_draw(pg, h->slots, h->jobs_parallel);
	}
	progress_clear(pg);
}

static void print_table(const struct harness *h, FILE *f)
{
	fprintf(f, "\n%-30s %-9s %-9s %-9s %-6s %7s\n", "case", "image", "expected", "got", "result", "seconds");
	for (size_t i = 0; i < h->n_jobs; i++) {
		const struct case_result *r = &h->results[i];
		fprintf(f, "%-30s %-9s %-9s %-9s %-6s %7.1f\n", r->case_name, r->image, case_outcome_name(r->expected),
			r->skipped ? "-" : case_outcome_name(r->got), r->skipped ? "SKIP" : r->ok ? "PASS" : "FAIL", r->seconds);
	}
}

static bool have_program(const char *prog)
{
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	char *path = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin"), *save = NULL;
	bool found = false;
	for (char *d = strtok_r(path, ":", &save); path && d && !found; d = strtok_r(NULL, ":", &save)) {
		char full[4096];
		snprintf(full, sizeof full, "%s/%s", d, prog);
		found = access(full, X_OK) == 0;
	}
	free(path);
	return found;
}

static void report_cpu(const struct harness *h, size_t runs, double wall)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);   /* this process and its threads; QEMU and mkfs are children */
	double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
		     ru.ru_stime.tv_usec / 1e6;
	fprintf(stderr, "suite wall time: %.1f s for %zu runs (-j %u, %s); harness CPU without QEMU: %.3f s, %.1f ms per run\n",
		wall, runs, h->jobs_parallel, h->o.accel, cpu, runs ? cpu * 1000.0 / (double)runs : 0.0);
}

static int exit_code(const struct harness *h)
{
	size_t skipped = 0, bad = 0;
	for (size_t i = 0; i < h->n_jobs; i++) {
		skipped += h->results[i].skipped;
		bad += !h->results[i].skipped && !h->results[i].ok;
	}
	if (atomic_load(&h->stop))
		return 2;
	if (h->n_jobs && skipped == h->n_jobs)
		return 77;
	return bad ? 1 : 0;
}

static void run_all(struct harness *h, sigset_t *sigs)
{
	pthread_t th[MAX_JOBS];
	struct worker_arg args[MAX_JOBS];
	struct progress pg;
	size_t tap_no = 0, n_threads = 0;
	progress_init(&pg, stderr);
	if (h->tap)
		tap_plan(stdout, h->n_jobs);
	atomic_store(&h->workers_alive, (int)h->jobs_parallel);
	for (size_t i = 0; i < h->jobs_parallel; i++) {
		args[i] = (struct worker_arg){ .h = h, .slot = i };
		if (pthread_create(&th[i], NULL, worker, &args[i]) != 0) {
			atomic_fetch_sub(&h->workers_alive, 1);
			continue;
		}
		n_threads = i + 1;
	}
	supervise(h, sigs, &tap_no, &pg);
	for (size_t i = 0; i < n_threads; i++)
		pthread_join(th[i], NULL);
	for (size_t i = 0; i < h->n_jobs; i++)
		if (!h->jobs[i].started) {
			mark_not_run(h, i);
			progress_finished(&pg, &h->results[i]);
			if (h->tap)
				tap_result(stdout, ++tap_no, &h->results[i]);
		}
}

static void skip_all(struct harness *h, const char *why)
{
	for (size_t i = 0; i < h->n_jobs; i++) {
		mark_not_run(h, i);
		free(h->results[i].diagnosis);
		h->results[i].diagnosis = NULL;
		h->results[i].skipped = true;
		h->results[i].skip_reason = strdup(why);
		h->jobs[i].started = h->jobs[i].done = true;
	}
}

/* Runs every job, or skips them all when there is no QEMU to run them with. */
static void run_or_skip(struct harness *h, sigset_t *sigs)
{
	const char *qemu = h->o.qemu_binary ? h->o.qemu_binary : "qemu-system-x86_64";
	if (!have_program(qemu)) {
		char why[300];
		snprintf(why, sizeof why, "%s not found (install qemu-system-x86)", qemu);
		skip_all(h, why);
		if (h->tap)
			tap_plan(stdout, h->n_jobs);
		for (size_t i = 0; h->tap && i < h->n_jobs; i++)
			tap_result(stdout, i + 1, &h->results[i]);
		return;
	}
	char *why = NULL;
	h->o.accel = accel_probe(qemu, h->o.accel, 3000, &why);
	fprintf(stderr, "credscope-harness: acceleration %s%s%s%s, transport %s, %zu runs, -j %u\n", h->o.accel,
		why ? " (" : "", why ? why : "", why ? ")" : "", h->o.transport, h->n_jobs, h->jobs_parallel);
	free(why);
	run_all(h, sigs);
}

static void harness_free(struct harness *h)
{
	for (size_t i = 0; i < h->n_jobs; i++)
		case_result_free(&h->results[i]);
	for (size_t i = 0; i < h->n_cases; i++)
		case_free(&h->cases[i]);
	free(h->cases), free(h->jobs), free(h->results), free(h->done_order), free(h->slots);
	free(h->cli_guest.kernel), free(h->cli_guest.initrd), free(h->cli_guest.append), free(h->cli_guest.disk);
	free(h->cli_guest.format);
}

/* mkdir -p DIR; *made says whether the last component is new (removed again if empty). */
static int make_dirs(const char *dir, bool *made)
{
	char *d = strdup(dir);
	int r = 0;
	*made = false;
	if (!d)
		return -ENOMEM;
	for (char *p = d + 1; r == 0; p++) {
		bool last = *p == '\0';
		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(d, 0700) == 0)
			*made = last;
		else if (errno != EEXIST)
			r = -errno;
		if (last)
			break;
		*p = '/';
	}
	struct stat st;
	if (r == 0 && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)))
		r = -ENOTDIR;
	free(d);
	return r;
}

/* Every file and directory the run writes is checked before the first VM boots: a run
 * that cannot report must not start (exit 2 at once). */
static int prepare_outputs(const struct harness *h, bool *made_log_dir)
{
	int r;
	*made_log_dir = false;
	if (h->junit && (r = outfile_check_writable(h->junit)) < 0)
		return fprintf(stderr, "credscope-harness: --junit %s: cannot write it: %s\n", h->junit, strerror(-r)), r;
	if (h->html && (r = outfile_check_writable(h->html)) < 0)
		return fprintf(stderr, "credscope-harness: --html %s: cannot write it: %s\n", h->html, strerror(-r)), r;
	if ((r = make_dirs(h->o.log_dir, made_log_dir)) < 0)
		return fprintf(stderr, "credscope-harness: --log-dir %s: cannot create it: %s\n", h->o.log_dir, strerror(-r)), r;
	return 0;
}

/* The summary table, the CPU line and the JUnit file, after every run ended. */
static void write_outputs(struct harness *h, double wall)
{
	tap_differential_summary(h->tap ? stdout : stderr, h->results, h->n_jobs);
	fflush(stdout);
	print_table(h, stderr);
	report_cpu(h, h->n_jobs, wall);
	int hr = h->html ? html_write_file(h->html, "credscope-harness", h->results, h->n_jobs, wall) : 0;
	if (hr < 0)
		fprintf(stderr, "credscope-harness: --html %s: cannot write: %s\n", h->html, strerror(-hr));
	if (!h->junit)
		return;
	int r = junit_write_file(h->junit, "credscope-harness", h->results, h->n_jobs, wall);
	if (r < 0)
		fprintf(stderr, "credscope-harness: --junit %s: cannot write: %s\n", h->junit, strerror(-r));
}

static void say_removed(const char *path, pid_t pid, void *ctx)
{
	fprintf(stderr, "credscope-harness: removed stale run directory %s (owner pid %d gone)\n", path, (int)pid);
}

int cmd_run(int argc, char **argv)
{
	static char default_images[] = "bookworm,trixie";
	struct harness h = { .jobs_parallel = 1, .mu = PTHREAD_MUTEX_INITIALIZER };
	h.o = (struct run_opts){ .image_dir = "vm-images/out", .transport = "auto", .accel = "auto",
				 .log_dir = "credscope-logs", .memory_mb = 512, .stop = &h.stop };
	parse_images(&h, default_images);
	int first = parse_args(&h, argc, argv);
	if (first < 0 || load_cases(&h, argc, argv, first) < 0)
		return harness_free(&h), 2;
	char *shard_junit = NULL;   /* each shard writes its own JUnit file, so CI can keep all */
	unsigned shard_i, shard_n;
	if (h.shard && h.junit && shard_parse(h.shard, &shard_i, &shard_n, NULL) == 0 &&
	    (shard_junit = shard_junit_path(h.junit, shard_i, shard_n)))
		h.junit = shard_junit;
	bool made_log_dir;
	if (prepare_outputs(&h, &made_log_dir) < 0) {
		harness_free(&h);
		free(shard_junit);
		return 2;
	}
	/* The vsock transport runs this same binary as `vsock-backend`, one per VM. */
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) {
		fprintf(stderr, "credscope-harness: cannot find my own binary (/proc/self/exe) for the vsock backend\n");
		return 2;
	}
	self[n] = 0;
	h.o.self_exe = self;
	/* auto: our own vhost-user-vsock backend (no /dev/vhost-vsock needed) */
	if (strcmp(h.o.transport, "auto") == 0)
		h.o.transport = "vsock";
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT), sigaddset(&sigs, SIGTERM), sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);   /* every thread; the main thread waits for them */
	signal(SIGPIPE, SIG_IGN);
	/* run directories a crashed (SIGKILLed) harness left in the same temp directory */
	(void)rundir_sweep(rundir_tmp(), say_removed, NULL);
	long long t0 = mono_ms();
	run_or_skip(&h, &sigs);
	write_outputs(&h, (double)(mono_ms() - t0) / 1000.0);
	int rc = exit_code(&h);
	harness_free(&h);
	free(shard_junit);
	if (made_log_dir)
		(void)rmdir(h.o.log_dir);   /* only if no run left a log in it */
	return rc;
}
