/* virt: upstream detect_container() over observed facts. See virt.h. */
#include "systemd/virt.h"

#include <stdio.h>
#include <string.h>

static void hit(struct container_result *out, const char *kind, const char *evidence)
{
	snprintf(out->kind, sizeof out->kind, "%s", kind);
	snprintf(out->evidence, sizeof out->evidence, "%s", evidence);
}

/* detect_container_files(): podman before docker (docker must be last). */
static bool container_files(const struct container_view *v, struct container_result *out)
{
	if (v->containerenv)
		hit(out, "podman", "/run/.containerenv exists");
	else if (v->dockerenv)
		hit(out, "docker", "/.dockerenv exists");
	else
		return false;
	return true;
}

/* translate_name: "oci" is no manager: the files decide, else container-other. */
static void named(const struct container_view *v, const char *name, const char *where, struct container_result *out)
{
	char ev[160];

	if (strcmp(name, "oci") == 0 && container_files(v, out))
		return;
	snprintf(ev, sizeof ev, "%s says \"%.60s\"", where, name);
	hit(out, strcmp(name, "oci") == 0 ? "container-other" : name, ev);
}

void container_decide(const struct container_view *v, const struct systemd_release *rel,
		      struct container_result *out)
{
	memset(out, 0, sizeof *out);
	if (v->proc_vz && !v->proc_bc)
		return hit(out, "openvz", "/proc/vz exists without /proc/bc");
	if (v->osrelease && (strstr(v->osrelease, "Microsoft") || strstr(v->osrelease, "WSL")))
		return hit(out, "wsl", "/proc/sys/kernel/osrelease names Microsoft/WSL");
	if (v->tracer_comm && strncmp(v->tracer_comm, "proot", 5) == 0)
		return hit(out, "proot", "PID 1 is traced by proot");
	if (v->host_container_manager)
		return named(v, v->host_container_manager, "/run/host/container-manager", out);
	if (v->pid1_environ_readable && v->pid1_container) {
		if (!v->pid1_container[0]) {
			snprintf(out->evidence, sizeof out->evidence, "PID 1's $container is set and empty");
			return;   /* authoritative: no container */
		}
		return named(v, v->pid1_container, "PID 1's $container", out);
	}
	if (!v->pid1_environ_readable)
		snprintf(out->note, sizeof out->note, "PID 1's environment cannot be read (run as root): its "
			 "$container is not known");
	if (container_files(v, out))
		return;
	if (rel->container_pidns_fallback && v->pidns_init == 0)
		return hit(out, "container-other", "PID 1 is not in the initial PID namespace");
	/* PID 1 writes this file only once it has decided "container" (src/core/main.c:1382@252.39,
	 * :1625@262): the trace of a decision made from facts gone since (a tracer, a namespace). */
	if (v->run_systemd_container)
		return named(v, v->run_systemd_container, "/run/systemd/container (written by PID 1)", out);
	if (!out->note[0])
		snprintf(out->note, sizeof out->note, "not seen from here: PID 1's tracer at boot%s",
			 rel->container_pidns_fallback ? "" : " and its cgroup namespace (the 252-257 heuristic)");
}
