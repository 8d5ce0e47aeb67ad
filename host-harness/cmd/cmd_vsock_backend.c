/* cmd_vsock_backend: see cmd_vsock_backend.h. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd_vsock_backend.h"
#include "parse.h"
#include "vsock/vsock_backend.h"
#include "vsock/vsock_log.h"

static struct vsock_backend *running;   /* for the signal handler only */

static void on_signal(int sig)
{
	(void) sig;
	if (running)
		vsock_backend_request_stop(running);
}

static void usage(FILE *f)
{
	fputs("Usage: credscope-harness vsock-backend --socket PATH --uds-path PATH --guest-cid N [--no-tx-poll] [--verbose]\n"
	      "\n"
	      "Serve a vhost-user-vsock device for one QEMU VM and expose its vsock as hybrid vsock\n"
	      "(Firecracker/cloud-hypervisor conventions):\n"
	      "  --socket PATH     vhost-user socket to listen on; start QEMU with\n"
	      "                    -chardev socket,id=vs,path=PATH -device vhost-user-vsock-pci,chardev=vs\n"
	      "                    -object memory-backend-memfd,id=mem,size=SIZE,share=on\n"
	      "                    -machine q35,memory-backend=mem\n"
	      "  --uds-path PATH   host side: connect to PATH and send \"CONNECT <port>\\n\" to reach a guest\n"
	      "                    listener (answer \"OK <port>\\n\"); guest connections to CID 2 port P go\n"
	      "                    to a listener on PATH_P\n"
	      "  --guest-cid N     the guest's CID, 3..4294967294\n"
	      "  --no-tx-poll      take the guest's kick for every packet it sends; by default, while\n"
	      "                    a connection with a 1 MiB window streams, the backend turns kicks\n"
	      "                    off and looks at the ring every 80 us (less guest CPU per byte,\n"
	      "                    up to 80 us more latency)\n"
	      "  --verbose         log connections (twice: every vhost-user message); the exit line\n"
	      "                    counts packets, kicks and interrupts\n"
	      "Runs until SIGINT or SIGTERM.\n", f);
}

int cmd_vsock_backend(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' }, { "uds-path", required_argument, NULL, 'u' },
		{ "guest-cid", required_argument, NULL, 'c' }, { "verbose", no_argument, NULL, 'v' },
		{ "no-tx-poll", no_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	struct vsock_backend_config cfg = { 0 };
	struct vsock_backend *b;
	unsigned long long cid;
	int c, verbose = 0, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': cfg.socket_path = optarg; break;
		case 'u': cfg.uds_path = optarg; break;
		case 'v': verbose++; break;
		case 'n': cfg.no_tx_poll = true; break;
		case 'h': usage(stdout); return 0;
		case 'c':
			if (parse_unsigned(optarg, 3, 0xfffffffeull, &cid) == 0) {
				cfg.guest_cid = cid;
				break;
			}
			fprintf(stderr, "vsock-backend: --guest-cid '%s' is not a number in 3..4294967294\n", optarg);
			return 2;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || !cfg.socket_path || !cfg.uds_path || !cfg.guest_cid) {
		fputs("vsock-backend: --socket, --uds-path and --guest-cid are required (see --help)\n", stderr);
		return 2;
	}
	if (verbose)
		vsock_log_set_level(verbose > 1 ? VSOCK_LOG_DEBUG : VSOCK_LOG_INFO);
	r = vsock_backend_new(&cfg, &b);
	if (r < 0)
		return 2;
	running = b;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "vsock-backend: serving guest CID %llu on %s, hybrid vsock on %s\n",
		(unsigned long long) cfg.guest_cid, cfg.socket_path, cfg.uds_path);
	r = vsock_backend_run(b);
	running = NULL;
	vsock_backend_free(b);
	return r < 0 ? 2 : 0;
}
