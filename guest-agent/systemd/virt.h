/* virt: detect_container() (src/basic/virt.c:704-862@257.13, :636-…@262) as PID 1 runs it, as
 * a pure function over what a later process can read of the same facts.
 *
 * Promise: container_decide() applies upstream's checks in upstream's order, first hit wins:
 * /proc/vz without /proc/bc (openvz); "Microsoft" or "WSL" in /proc/sys/kernel/osrelease
 * (wsl); a tracer of PID 1 whose comm starts with "proot" (proot); the first line of
 * /run/host/container-manager; PID 1's $container (unset: go on; empty: no container, stop;
 * "oci": the files below, else container-other; any other value: that name); /run/.containerenv
 * (podman), /.dockerenv (docker); from 257.13 a PID namespace that is not the initial one
 * (container-other). /run/systemd/container is what PID 1 wrote after deciding "container":
 * evidence of its own decision, used when $container cannot be read. The cgroup-namespace
 * heuristic of 252-257 is not modelled (said in `note` when it could matter). `evidence` names
 * what decided; `note` what could not be seen. Pure.
 */
#pragma once
#include <stdbool.h>

#include "systemd/versions.h"

struct container_view {
	bool proc_vz, proc_bc;
	const char *osrelease;            /* NULL when unreadable */
	const char *tracer_comm;          /* comm of PID 1's tracer (TracerPid != 0), NULL when none */
	const char *host_container_manager; /* first line, NULL when absent or empty */
	bool pid1_environ_readable;
	const char *pid1_container;       /* PID 1's $container: NULL unset, "" empty */
	const char *run_systemd_container; /* first line, NULL when absent or empty */
	bool containerenv, dockerenv;
	int pidns_init;                   /* 1 initial PID namespace, 0 another, -1 unknown */
};

struct container_result {
	char kind[40];                    /* "" = no container; else "docker", "wsl", ... */
	char evidence[160];               /* e.g. "/run/.containerenv exists" */
	char note[200];
};

void container_decide(const struct container_view *v, const struct systemd_release *rel,
		      struct container_result *out);
