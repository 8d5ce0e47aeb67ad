/* Unit tests for the cloud-hypervisor path: the exact vm.create JSON, version parsing,
 * and a whole launch against build/bin/fake-ch-api (a recorded fake API server): the
 * request order, and no secret on the spawned process's argv or environment. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "runner/case.h"
#include "hypervisor/cloud_hypervisor.h"
#include "output/result.h"
#include "runner/runner.h"

#define CANARY "canary-7f3e9a1c-secret"
#define CANARY_B64 "Y2FuYXJ5LTdmM2U5YTFjLXNlY3JldA==" /* base64 of CANARY */

static const uint8_t bin_value[] = { 0x00, 0xff, 0x0a };
static const struct ch_credential creds[] = {
	{ "FOO", (const uint8_t *)"bar", 3 },
	{ "BIN", bin_value, sizeof bin_value },
};
static const struct ch_disk disks[] = {
	{ "/img/root.ext4", false },
	{ "/img/manifest.img", true },
};
static const char *const raw_oem[] = { "vendor string" };

static struct ch_vm_config full_config(void)
{
	return (struct ch_vm_config){
		.kernel = "/img/vmlinux", .initramfs = "/img/initrd",
		.cmdline = "console=ttyS0 credscope.report=vsock:2:5123",
		.disks = disks, .n_disks = 2, .cpus = 2, .memory_mib = 256,
		.serial_log = "/run/x/serial.log",
		.credentials = creds, .n_credentials = 2,
		.oem_strings = raw_oem, .n_oem_strings = 1,
		.vsock_cid = 3, .vsock_socket = "/run/x/vsock.sock",
	};
}

static const char full_json[] =
	"{\"console\":{\"mode\":\"Off\"},\"cpus\":{\"boot_vcpus\":2,\"max_vcpus\":2},"
	"\"disks\":[{\"path\":\"/img/root.ext4\",\"readonly\":false},{\"path\":\"/img/manifest.img\",\"readonly\":true}],"
	"\"memory\":{\"size\":268435456},"
	"\"payload\":{\"cmdline\":\"console=ttyS0 credscope.report=vsock:2:5123\",\"initramfs\":\"/img/initrd\",\"kernel\":\"/img/vmlinux\"},"
	"\"platform\":{\"oem_strings\":[\"io.systemd.credential.binary:FOO=YmFy\",\"io.systemd.credential.binary:BIN=AP8K\",\"vendor string\"]},"
	"\"serial\":{\"file\":\"/run/x/serial.log\",\"mode\":\"File\"},"
	"\"vsock\":{\"cid\":3,\"socket\":\"/run/x/vsock.sock\"}}";

static void test_vm_create_body_carries_every_credential_as_binary_base64(void **state)
{
	struct ch_vm_config cfg = full_config();
	char *json = NULL, *error = NULL;

	assert_int_equal(ch_config_to_json(&cfg, &json, &error), 0);
	assert_null(error);
	assert_string_equal(json, full_json);
	ch_config_json_free(json);
}

static void test_minimal_config_defaults_to_one_cpu_512_mib_serial_off_and_no_platform(void **state)
{
	struct ch_vm_config cfg = { .kernel = "/k" };
	char *json = NULL;

	assert_int_equal(ch_config_to_json(&cfg, &json, NULL), 0);
	assert_string_equal(json, "{\"console\":{\"mode\":\"Off\"},\"cpus\":{\"boot_vcpus\":1,\"max_vcpus\":1},"
				  "\"disks\":[],\"memory\":{\"size\":536870912},\"payload\":{\"kernel\":\"/k\"},"
				  "\"serial\":{\"mode\":\"Off\"}}");
	ch_config_json_free(json);
}

static void test_config_without_kernel_is_rejected_naming_the_field(void **state)
{
	struct ch_vm_config cfg = full_config();
	char *json = NULL, *error = NULL;

	cfg.kernel = NULL;
	assert_int_equal(ch_config_to_json(&cfg, &json, &error), -EINVAL);
	assert_null(json);
	assert_non_null(strstr(error, "kernel:"));
	free(error);
}

static void test_vsock_cid_below_three_is_rejected(void **state)
{
	struct ch_vm_config cfg = full_config();
	char *json = NULL, *error = NULL;

	cfg.vsock_cid = 2;
	assert_int_equal(ch_config_to_json(&cfg, &json, &error), -EINVAL);
	assert_non_null(strstr(error, "vsock.cid"));
	free(error);
}

static void test_version_lines_of_several_releases_parse(void **state)
{
	unsigned major = 0, minor = 0;

	assert_int_equal(ch_parse_version("cloud-hypervisor v40.0.0\n", &major, &minor), 0);
	assert_int_equal(major, 40);
	assert_int_equal(minor, 0);
	assert_int_equal(ch_parse_version("cloud-hypervisor v26.1-dirty", &major, &minor), 0);
	assert_int_equal(major, 26);
	assert_int_equal(minor, 1);
	assert_int_equal(ch_parse_version("cloud-hypervisor 53.0", &major, &minor), 0);
	assert_int_equal(major, 53);
	assert_int_equal(ch_parse_version("cloud-hypervisor vX\n", &major, &minor), -EINVAL);
	assert_int_equal(ch_parse_version("", &major, &minor), -EINVAL);
}

/* ---- against the fake API server ------------------------------------------------ */

struct fake_dir {
	char dir[64], binary[128], record[128], run[128];
};

static void fake_setup(struct fake_dir *fd, const char *version, const char *fail)
{
	char fake[4096], conf[160];
	FILE *f;

	strcpy(fd->dir, "/tmp/credscope-ch-test-XXXXXX");
	assert_non_null(mkdtemp(fd->dir));
	assert_non_null(realpath("build/bin/fake-ch-api", fake));
	snprintf(fd->binary, sizeof fd->binary, "%s/cloud-hypervisor", fd->dir);
	snprintf(fd->record, sizeof fd->record, "%s/requests", fd->dir);
	snprintf(fd->run, sizeof fd->run, "%s/run", fd->dir);
	snprintf(conf, sizeof conf, "%s/fake-ch.conf", fd->dir);
	assert_int_equal(symlink(fake, fd->binary), 0);
	assert_int_equal(mkdir(fd->run, 0700), 0);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "record %s\nversion %s\n", fd->record, version);
	if (fail)
		fprintf(f, "fail %s\n", fail);
	fclose(f);
}

static void fake_teardown(struct fake_dir *fd)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fd->dir);
	assert_int_equal(system(cmd), 0);
}

/* Reads a whole file (NULs kept) into a static buffer; returns its length. */
static size_t slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t used = 0;
	ssize_t n;

	assert_true(fd >= 0);
	while (used < size - 1 && (n = read(fd, buf + used, size - 1 - used)) > 0)
		used += (size_t)n;
	close(fd);
	buf[used] = '\0';
	return used;
}

static bool contains(const char *buf, size_t len, const char *needle)
{
	return memmem(buf, len, needle, strlen(needle)) != NULL;
}

static void assert_process_holds_no_secret(pid_t pid, const char *binary)
{
	char path[64], buf[8192], expect_argv[256];
	size_t len, expect_len;

	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	len = slurp(path, buf, sizeof buf);
	expect_len = (size_t)snprintf(expect_argv, sizeof expect_argv, "%s%c--api-socket%cfd=3%c", binary, 0, 0, 0);
	assert_int_equal(len, expect_len);
	assert_memory_equal(buf, expect_argv, len);
	snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
	len = slurp(path, buf, sizeof buf);
	assert_string_equal(buf, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	assert_int_equal(len, strlen(buf) + 1);
	assert_false(contains(buf, len, CANARY));
	assert_false(contains(buf, len, CANARY_B64));
}

/* A ping that timed out under load is retried; the server may then see it twice. */
static void collapse_repeated_pings(char *record)
{
	static const char twice[] = "GET /api/v1/vmm.ping -\nGET /api/v1/vmm.ping -\n";
	char *p;

	while ((p = strstr(record, twice)))
		memmove(p, p + strlen(twice) / 2, strlen(p + strlen(twice) / 2) + 1);
}

static void test_launch_sends_ping_create_boot_then_shutdowns_in_order_with_no_secret_on_argv_or_env(void **state)
{
	const struct ch_credential canary[] = { { "TOKEN", (const uint8_t *)CANARY, strlen(CANARY) } };
	struct ch_vm_config cfg = { .kernel = "/img/vmlinux", .credentials = canary, .n_credentials = 1,
				    .vsock_cid = 3, .vsock_socket = "/run/x/v.sock" };
	struct fake_dir fd;
	struct ch_vm vm;
	char *error = NULL, record[8192], expect[4096];

	fake_setup(&fd, "cloud-hypervisor v40.0.0", NULL);
	cfg.binary = fd.binary;
	cfg.runtime_dir = fd.run;
	assert_int_equal(ch_launch(&cfg, &vm, &error), 0);
	assert_null(error);
	assert_int_equal(vm.version_major, 40);
	assert_true(vm.pid > 0);
	assert_process_holds_no_secret(vm.pid, fd.binary);
	assert_int_equal(ch_stop(&vm, 3000), 0);  /* the fake exits 0 after vmm.shutdown */
	assert_int_equal(vm.pid, 0);

	slurp(fd.record, record, sizeof record);
	collapse_repeated_pings(record);
	snprintf(expect, sizeof expect,
		 "ARGV --version\n"
		 "ARGV --api-socket fd=3\n"
		 "GET /api/v1/vmm.ping -\n"
		 "PUT /api/v1/vm.create {\"console\":{\"mode\":\"Off\"},\"cpus\":{\"boot_vcpus\":1,\"max_vcpus\":1},"
		 "\"disks\":[],\"memory\":{\"size\":536870912},\"payload\":{\"kernel\":\"/img/vmlinux\"},"
		 "\"platform\":{\"oem_strings\":[\"io.systemd.credential.binary:TOKEN=" CANARY_B64 "\"]},"
		 "\"serial\":{\"mode\":\"Off\"},\"vsock\":{\"cid\":3,\"socket\":\"/run/x/v.sock\"}}\n"
		 "PUT /api/v1/vm.boot -\n"
		 "PUT /api/v1/vm.shutdown -\n"
		 "PUT /api/v1/vmm.shutdown -\n");
	assert_string_equal(record, expect);
	fake_teardown(&fd);
}

static void test_refused_create_names_endpoint_and_status_and_stops_the_vmm(void **state)
{
	const struct ch_credential canary[] = { { "TOKEN", (const uint8_t *)CANARY, strlen(CANARY) } };
	struct ch_vm_config cfg = { .kernel = "/img/vmlinux", .credentials = canary, .n_credentials = 1 };
	struct fake_dir fd;
	struct ch_vm vm;
	char *error = NULL;

	fake_setup(&fd, "cloud-hypervisor v40.0.0", "vm.create");
	cfg.binary = fd.binary;
	cfg.runtime_dir = fd.run;
	assert_int_equal(ch_launch(&cfg, &vm, &error), -EPROTO);
	assert_non_null(error);
	assert_non_null(strstr(error, "refused PUT vm.create with HTTP 400"));
	assert_null(strstr(error, CANARY_B64));
	assert_int_equal(vm.pid, 0);
	assert_null(vm.api_socket);
	free(error);
	fake_teardown(&fd);
}

static void test_version_before_26_is_refused_with_a_message_naming_oem_strings(void **state)
{
	struct ch_vm_config cfg = { .kernel = "/img/vmlinux" };
	struct fake_dir fd;
	struct ch_vm vm;
	char *error = NULL, record[1024];

	fake_setup(&fd, "cloud-hypervisor v25.0", NULL);
	cfg.binary = fd.binary;
	cfg.runtime_dir = fd.run;
	assert_int_equal(ch_launch(&cfg, &vm, &error), -EPROTONOSUPPORT);
	assert_non_null(strstr(error, "is v25, too old: credentials need platform.oem_strings, available since cloud-hypervisor v26"));
	slurp(fd.record, record, sizeof record);
	assert_string_equal(record, "ARGV --version\n");  /* never started as a VMM */
	free(error);
	fake_teardown(&fd);
}

static long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_missing_binary_is_unavailable_with_reason_in_well_under_five_seconds(void **state)
{
	char *reason = NULL;
	long start = ms_now();
	int r = ch_available("/nonexistent/cloud-hypervisor", &reason);

	assert_int_equal(r, -ENOENT);
	assert_true(ms_now() - start < 5000);
	assert_non_null(strstr(reason, "cannot start /nonexistent/cloud-hypervisor: No such file or directory"));
	free(reason);
}

static void test_kvm_probe_answers_within_its_deadline(void **state)
{
	char *reason = NULL;
	long start = ms_now();
	int r = ch_kvm_probe(&reason);

	assert_true(ms_now() - start < CH_KVM_PROBE_TIMEOUT_MS + 1000);
	if (r == 0)
		assert_null(reason);
	else {
		assert_int_equal(r, -ENODEV);
		assert_non_null(strstr(reason, "KVM is not usable: "));
	}
	free(reason);
}

static void test_report_listener_accepts_on_socket_name_with_port_suffix(void **state)
{
	char dir[] = "/tmp/credscope-ch-listen-XXXXXX", base[96];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd, cfd;

	assert_non_null(mkdtemp(dir));
	snprintf(base, sizeof base, "%s/vsock.sock", dir);
	lfd = ch_report_listen(base, CH_DEFAULT_REPORT_PORT);
	assert_true(lfd >= 0);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s_5123", base);
	cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sa, sizeof sa), 0);
	close(cfd);
	close(lfd);
	assert_int_equal(unlink(sa.sun_path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* ---- whole cases through run_case() ------------------------------------------- */

static void parse_case(const char *json, struct test_case *tc)
{
	char *error = NULL;

	assert_int_equal(case_parse(json, strlen(json), "/tmp/ch-case.json", tc, &error), 0);
	assert_null(error);
}

static void test_case_hypervisor_field_selects_cloud_hypervisor_and_rejects_others(void **state)
{
	const char *bad = "{\"name\":\"x\",\"hypervisor\":\"xen\"}";
	struct test_case tc;
	char *error = NULL;

	parse_case("{\"name\":\"x\",\"hypervisor\":\"cloud-hypervisor\"}", &tc);
	assert_int_equal(tc.hypervisor, HV_CLOUD_HYPERVISOR);
	case_free(&tc);
	parse_case("{\"name\":\"x\"}", &tc);
	assert_int_equal(tc.hypervisor, HV_QEMU);
	case_free(&tc);
	assert_int_equal(case_parse(bad, strlen(bad), "/tmp/x.json", &tc, &error), -EINVAL);
	assert_non_null(strstr(error, "hypervisor: expected \"qemu\" or \"cloud-hypervisor\""));
	free(error);
}

static void run_one(const char *json, const char *image_dir, struct case_result *res)
{
	atomic_int stop = 0;
	struct run_opts o = { .image_dir = image_dir, .memory_mb = 256, .stop = &stop };
	struct run_live live = { 0 };
	struct test_case tc;

	parse_case(json, &tc);
	tc.hypervisor = HV_CLOUD_HYPERVISOR;   /* as "hypervisor": "cloud-hypervisor" selects */
	run_case(&o, &tc, "bookworm", &live, res);
	case_free(&tc);
}

static void test_ch_case_without_cloud_hypervisor_is_skipped_with_its_reason_in_under_five_seconds(void **state)
{
	struct case_result res;
	long start = ms_now();

	setenv("CREDSCOPE_CLOUD_HYPERVISOR", "/nonexistent/cloud-hypervisor", 1);
	unsetenv("CREDSCOPE_CH_ASSUME_KVM");
	run_one("{\"name\":\"ch-text\",\"credentials\":[{\"name\":\"FOO\",\"value\":\"bar\"}]}", "/nonexistent", &res);
	assert_true(ms_now() - start < 5000);
	assert_true(res.skipped);
	assert_non_null(strstr(res.skip_reason, "cannot start /nonexistent/cloud-hypervisor: No such file or directory"));
	assert_string_equal(res.case_name, "ch-text");
	case_result_free(&res);
	unsetenv("CREDSCOPE_CLOUD_HYPERVISOR");
}

static void make_fake_image(const struct fake_dir *fd, char *image_dir, size_t size)
{
	static const char *const files[] = { "vmlinuz", "initrd.img", "rootfs.img" };
	char path[256];

	snprintf(image_dir, size, "%s/images", fd->dir);
	snprintf(path, sizeof path, "%s/bookworm", image_dir);
	assert_int_equal(mkdir(image_dir, 0700), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/bookworm/%s", image_dir, files[i]);
		close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	}
}

static void test_ch_case_speaks_the_api_and_says_no_report_arrived_through_hybrid_vsock(void **state)
{
	struct fake_dir fd;
	struct case_result res;
	char image_dir[160], record[16384], tmp[160];

	fake_setup(&fd, "cloud-hypervisor v40.0.0", NULL);
	make_fake_image(&fd, image_dir, sizeof image_dir);
	snprintf(tmp, sizeof tmp, "%s/tmp", fd.dir);
	assert_int_equal(mkdir(tmp, 0700), 0);
	setenv("TMPDIR", tmp, 1);
	setenv("CREDSCOPE_CLOUD_HYPERVISOR", fd.binary, 1);
	setenv("CREDSCOPE_CH_ASSUME_KVM", "1", 1);
	run_one("{\"name\":\"ch-fake\",\"timeouts\":{\"verdict\":1},\"credentials\":["
		"{\"name\":\"FOO\",\"value\":\"bar\"},{\"name\":\"CMD\",\"value\":\"uff\",\"via\":\"cmdline\"}]}",
		image_dir, &res);
	assert_false(res.skipped);
	assert_false(res.ok);
	assert_int_equal(res.got, OUTCOME_ERROR);
	assert_non_null(strstr(res.diagnosis, "no report through cloud-hypervisor's hybrid vsock within 1 s"));
	slurp(fd.record, record, sizeof record);
	assert_non_null(strstr(record, "\"oem_strings\":[\"io.systemd.credential.binary:FOO=YmFy\"]"));
	assert_non_null(strstr(record, "console=ttyS0 credscope.report=vsock:2:5123 printk.devkmsg=on panic=-1 "
					 "systemd.set_credential=CMD:uff\""));
	assert_non_null(strstr(record, "/expect.img\",\"readonly\":true}"));
	assert_non_null(strstr(record, "PUT /api/v1/vm.boot -\nPUT /api/v1/vm.shutdown -\nPUT /api/v1/vmm.shutdown -\n"));
	assert_int_equal(rmdir(tmp), 0);  /* the run directory is gone */
	case_result_free(&res);
	unsetenv("CREDSCOPE_CLOUD_HYPERVISOR");
	unsetenv("CREDSCOPE_CH_ASSUME_KVM");
	unsetenv("TMPDIR");
	fake_teardown(&fd);
}

static void test_ch_case_with_fw_cfg_fails_unbooted_naming_the_reason(void **state)
{
	struct fake_dir fd;
	struct case_result res;
	char image_dir[160], record[1024];

	fake_setup(&fd, "cloud-hypervisor v40.0.0", NULL);
	make_fake_image(&fd, image_dir, sizeof image_dir);
	setenv("CREDSCOPE_CLOUD_HYPERVISOR", fd.binary, 1);
	setenv("CREDSCOPE_CH_ASSUME_KVM", "1", 1);
	run_one("{\"name\":\"ch-fw\",\"credentials\":[{\"name\":\"FW\",\"value\":\"x\",\"via\":\"fw_cfg\"}]}",
		image_dir, &res);
	assert_int_equal(res.got, OUTCOME_FAIL);
	assert_non_null(strstr(res.diagnosis, "FW: cannot be sent by fw_cfg to cloud-hypervisor"));
	slurp(fd.record, record, sizeof record);
	assert_string_equal(record, "ARGV --version\n");  /* never started as a VMM */
	case_result_free(&res);
	unsetenv("CREDSCOPE_CLOUD_HYPERVISOR");
	unsetenv("CREDSCOPE_CH_ASSUME_KVM");
	fake_teardown(&fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vm_create_body_carries_every_credential_as_binary_base64),
		cmocka_unit_test(test_minimal_config_defaults_to_one_cpu_512_mib_serial_off_and_no_platform),
		cmocka_unit_test(test_config_without_kernel_is_rejected_naming_the_field),
		cmocka_unit_test(test_vsock_cid_below_three_is_rejected),
		cmocka_unit_test(test_version_lines_of_several_releases_parse),
		cmocka_unit_test(test_launch_sends_ping_create_boot_then_shutdowns_in_order_with_no_secret_on_argv_or_env),
		cmocka_unit_test(test_refused_create_names_endpoint_and_status_and_stops_the_vmm),
		cmocka_unit_test(test_version_before_26_is_refused_with_a_message_naming_oem_strings),
		cmocka_unit_test(test_missing_binary_is_unavailable_with_reason_in_well_under_five_seconds),
		cmocka_unit_test(test_kvm_probe_answers_within_its_deadline),
		cmocka_unit_test(test_report_listener_accepts_on_socket_name_with_port_suffix),
		cmocka_unit_test(test_case_hypervisor_field_selects_cloud_hypervisor_and_rejects_others),
		cmocka_unit_test(test_ch_case_without_cloud_hypervisor_is_skipped_with_its_reason_in_under_five_seconds),
		cmocka_unit_test(test_ch_case_speaks_the_api_and_says_no_report_arrived_through_hybrid_vsock),
		cmocka_unit_test(test_ch_case_with_fw_cfg_fails_unbooted_naming_the_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
