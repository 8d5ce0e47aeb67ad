# Sourced by tests/integration/harness-*.test: common setup for tests that boot VMs.
# Sets H (harness), L (launcher), IMGDIR, FLAVORS, images_csv, pair_csv, WORK (a private directory removed at
# exit). Exits 77 when QEMU or the images are missing, with the reason as the last line;
# it never builds images itself (make check does that as its own step: images-for-check).
set -u
cd "$(dirname "$0")/../.." || exit 2
H=$PWD/build/bin/credscope-harness
L=$PWD/build/bin/credscope-launch
IMGDIR=${CREDSCOPE_IMAGE_DIR:-$PWD/vm-images/out}
FLAVORS=${CREDSCOPE_FLAVORS:-bookworm bookworm-backports trixie forky}
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 not installed"; exit 77; }
missing=""
for f in $FLAVORS; do [ -e "$IMGDIR/$f/image.json" ] || [ -e "$IMGDIR/$f/vmlinuz" ] || missing="$missing $f"; done
[ -z "$missing" ] || { echo "images not built:$missing (run make images)"; exit 77; }
WORK=$(mktemp -d /tmp/credscope-test-XXXXXX)
chmod 0700 "$WORK"
trap 'rm -rf "$WORK"' EXIT
images_csv=$(echo $FLAVORS | tr ' ' ,)
# the default suite (harness-suite.test) runs every case on every flavor; the tests of one
# harness behaviour each (failures, serial transport, signals) need only the oldest and
# the newest kernel of the two original flavors, where present
pair_csv=$(for f in $FLAVORS; do case $f in bookworm|trixie) printf '%s,' "$f" ;; esac; done | sed 's/,$//')
[ -n "$pair_csv" ] || pair_csv=$images_csv
