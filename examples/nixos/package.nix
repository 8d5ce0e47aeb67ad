# credscope built from this repository with nixpkgs' stdenv: `make`, then
# `make install PREFIX=$out` (binaries, man pages, and the units with @BINDIR@ = $out/bin
# in $out/lib/systemd/system). Use: pkgs.callPackage ./examples/nixos/package.nix { }.
# Not built on NixOS yet: see docs/nixos.md, "What was not run".
{ lib
, stdenv
, pkg-config
, jansson
, openssl
, util-linux # libblkid (blkid.pc in its dev output): the agent finds the expectations disk
, curl # libcurl: credscope-launch and the harness talk to cloud-hypervisor's API socket
, src ? ../..
}:

stdenv.mkDerivation {
  pname = "credscope";
  version = "0.1.0"; # VERSION in the Makefile

  # The repository without .git, build outputs and built guest images.
  src = lib.cleanSourceWith {
    src = lib.cleanSource src;
    filter = path: _type:
      let rel = lib.removePrefix (toString src + "/") (toString path);
      in !(lib.elem rel [ "build" "vm-images/out" ]);
  };

  nativeBuildInputs = [ pkg-config ];
  buildInputs = [ jansson openssl util-linux curl ];

  enableParallelBuilding = true;
  # Used by the build (nothing else reads PREFIX) and by `make install`.
  makeFlags = [ "PREFIX=${placeholder "out"}" ];

  # `make check` starts with ci/ensure-deps (apt-get) and boots VMs: not in a Nix build.
  doCheck = false;

  meta = {
    description = "Checks that systemd credentials passed by a hypervisor arrived in the guest";
    mainProgram = "credscope";
    platforms = lib.platforms.linux;
  };
}
