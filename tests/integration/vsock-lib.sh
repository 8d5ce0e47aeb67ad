# vsock-lib.sh: sourced by tests/integration/vsock-*.test and bench/vsock-throughput.
# Boots a guest image's kernel (vm-images/out/FLAVOR) with a tiny initramfs whose /init is
# the static test program tests/helpers/vsock_guest.c, behind our vhost-user-vsock backend
# (credscope-harness vsock-backend), and drives it with build/bin/vsock_host.
# Caller sets: repo. Provides: vsock_require FLAVOR, vsock_run TIMEOUT STEP...,
# vsock_start_backend, vsock_cleanup. Processes we start are killed by PID on exit.

work=$(mktemp -d /tmp/credscope-vsock.XXXXXX)
pids=''
vsock_cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	pids=''
}
trap 'vsock_cleanup; rm -rf "$work"' EXIT

skip() { echo "$*"; exit 77; }

# vsock_require_tools: skips (77) unless QEMU, debugfs and our binaries are there.
vsock_require_tools() {
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
	command -v debugfs >/dev/null || skip "debugfs (e2fsprogs) not installed"
	[ -x "$repo/build/bin/vsock_host" ] && [ -x "$repo/build/bin/credscope-harness" ] || skip "run make all first"
}

# vsock_prepare FLAVOR: builds the static guest program and the initramfs for the
# image's kernel (cached in build/vsock-test/); sets kernel and initrd.
vsock_prepare() {
	flavor=$1
	img=$repo/vm-images/out/$flavor
	cache=$repo/build/vsock-test
	mkdir -p "$cache"
	guest_bin=$cache/vsock_guest-static
	if [ ! -x "$guest_bin" ] || [ "$repo/tests/helpers/vsock_guest.c" -nt "$guest_bin" ] ||
	   [ "$repo/tests/helpers/vsock_test_pattern.h" -nt "$guest_bin" ] ||
	   [ "$repo/tests/helpers/vsock_test_io.h" -nt "$guest_bin" ]; then
		cc -std=gnu11 -D_GNU_SOURCE -O2 -static -pthread -o "$guest_bin.tmp" \
			"$repo/tests/helpers/vsock_guest.c" -lcrypto 2>"$work/cc.log" && mv "$guest_bin.tmp" "$guest_bin" ||
			{ cat "$work/cc.log"; echo "cannot build the static guest program"; exit 1; }
	fi
	initrd=$cache/initrd-$flavor.gz
	if [ ! -s "$initrd" ] || [ "$guest_bin" -nt "$initrd" ] || [ "$img/rootfs.img" -nt "$initrd" ]; then
		"$repo/tests/integration/vsock-initramfs" "$initrd.tmp" "$guest_bin" "$img/rootfs.img" &&
			mv "$initrd.tmp" "$initrd" || { echo "cannot build the test initramfs"; exit 1; }
	fi
	kernel=$img/vmlinuz
}

# vsock_require FLAVOR: both of the above, skipping when the image is missing.
vsock_require() {
	vsock_require_tools
	[ -f "$repo/vm-images/out/$1/vmlinuz" ] && [ -f "$repo/vm-images/out/$1/rootfs.img" ] ||
		skip "no $1 image in vm-images/out (run make images)"
	vsock_prepare "$1"
}

vsock_start_backend() {
	"$repo/build/bin/credscope-harness" vsock-backend --socket "$work/vhost.sock" \
		--uds-path "$work/vsock" --guest-cid "${GUEST_CID:-3}" ${BACKEND_ARGS:-} 2>"$work/backend.log" &
	backend_pid=$!
	pids="$pids $backend_pid"
	for _ in 1 2 3 4 5 6 7 8 9 10; do [ -S "$work/vhost.sock" ] && return 0; sleep 0.2; done
	echo "backend did not create $work/vhost.sock"; cat "$work/backend.log"; exit 1
}

# vsock_start_qemu [EXTRA QEMU ARGS...]: the test initramfs, 256 MiB shared memfd RAM,
# the vhost-user-vsock device and a virtio-serial port (bench) on $work/serial.sock.
vsock_start_qemu() {
	qemu-system-x86_64 -machine q35,accel=tcg,memory-backend=mem -m 256M -smp 1 \
		-object memory-backend-memfd,id=mem,size=256M,share=on \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 quiet panic=-1 vsockguest.port=7000" \
		-chardev socket,id=vs0,path="$work/vhost.sock" -device vhost-user-vsock-pci,chardev=vs0 \
		-device virtio-serial-pci \
		-chardev socket,id=ser0,path="$work/serial.sock",server=on,wait=off \
		-device virtserialport,chardev=ser0,name=org.credscope.bench \
		-serial file:"$work/console.log" -display none -monitor none -nodefaults -no-user-config \
		"$@" >"$work/qemu.log" 2>&1 &
	qemu_pid=$!
	pids="$pids $qemu_pid"
}

# vsock_run TIMEOUT STEP...: boots and runs the vsock_host steps; prints their output
# (throughput steps include the CPU time of QEMU and the backend together). Optional:
# VSOCK_QEMU_ARGS (extra QEMU words), VSOCK_AFTER_START (a command run once QEMU and the
# backend are started), VSOCK_HOST_WRAP (a prefix for vsock_host, e.g. taskset -c 1).
vsock_run() {
	t=$1; shift
	vsock_start_backend
	vsock_start_qemu ${VSOCK_QEMU_ARGS:-}
	[ -z "${VSOCK_AFTER_START:-}" ] || $VSOCK_AFTER_START || return 1
	${VSOCK_HOST_WRAP:-} timeout "$t" "$repo/build/bin/vsock_host" --uds "$work/vsock" --serial "$work/serial.sock" \
		--timeout 120 --cpu-pid "$qemu_pid" --cpu-pid "$backend_pid" "$@"
	rc=$?
	vsock_cleanup
	if [ $rc -ne 0 ]; then
		echo "--- backend log"; tail -20 "$work/backend.log"
		echo "--- console"; tail -20 "$work/console.log"
		echo "--- qemu"; tail -5 "$work/qemu.log"
	fi
	return $rc
}
