# A microvm.nix runner whose bin/microvm-run is `credscope-launch --hypervisor
# cloud-hypervisor`, for `microvm.declaredRunner` (nixos-modules/microvm/options.nix in
# microvm.nix; the host's microvm@NAME.service runs /var/lib/microvms/NAME/current/bin/microvm-run,
# nixos-modules/host/default.nix). Secrets go with --load-credential: credscope-launch reads
# the file and hands the value to cloud-hypervisor in the vm.create API request, never on a
# command line (docs/hypervisors.md). microvm.nix's own cloud-hypervisor runner puts
# microvm.cloud-hypervisor.platformOEMStrings on cloud-hypervisor's argv instead.
#
#   microvm.declaredRunner = pkgs.callPackage ./host-runner.nix {
#     inherit (config) microvm;
#     inherit (config.networking) hostName;
#     serviceCredentials = [ "TOKEN" ];           # from LoadCredential= of microvm@NAME
#     setCredentials = { GREETING = "hello"; };   # not secret: in the store and on argv
#   };
{ lib
, runCommand
, writeShellScript
, credscope ? callPackage ./package.nix { }
, callPackage
, coreutils
, microvm # the guest's config.microvm
, hostName # the guest's config.networking.hostName
, loadCredentials ? { } # NAME = "/absolute/path" read by the runner's user (microvm)
, serviceCredentials ? [ ] # NAMEs in $CREDENTIALS_DIRECTORY (LoadCredential= on microvm@NAME)
, setCredentials ? { } # NAME = "value": not secret
, extraAppend ? [ ] # more kernel command line words
}:

let
  inherit (lib) escapeShellArg concatStringsSep mapAttrsToList;

  # What this runner cannot pass: credscope-launch has one disk (--image), no network,
  # no shares, no vsock. Fail at evaluation instead of booting a different VM.
  unsupported = lib.filter (x: x.bad) [
    { bad = microvm.hypervisor != "cloud-hypervisor"; what = "microvm.hypervisor must be \"cloud-hypervisor\""; }
    { bad = !microvm.storeOnDisk; what = "microvm.storeOnDisk must be true (no /nix/store share)"; }
    { bad = microvm.shares != [ ]; what = "microvm.shares (virtiofs) are not supported by credscope-launch"; }
    { bad = microvm.volumes != [ ]; what = "microvm.volumes: credscope-launch attaches one disk, the store disk"; }
    { bad = microvm.interfaces != [ ]; what = "microvm.interfaces: credscope-launch has no network options"; }
    { bad = microvm.devices != [ ]; what = "microvm.devices (PCI passthrough) are not supported"; }
    { bad = microvm.vsock.cid != null; what = "microvm.vsock.cid: credscope-launch has no vsock option"; }
    { bad = microvm.balloon || microvm.hotplugMem > 0; what = "balloon / hotplugMem are not supported"; }
    { bad = microvm.graphics.enable; what = "microvm.graphics is not supported"; }
    { bad = microvm.credentialFiles != { }; what = "microvm.credentialFiles: use loadCredentials or serviceCredentials here"; }
    { bad = microvm.cloud-hypervisor.platformOEMStrings != [ ]; what = "microvm.cloud-hypervisor.platformOEMStrings would be ignored (and are argv-visible)"; }
    { bad = microvm.cloud-hypervisor.extraArgs != [ ]; what = "microvm.cloud-hypervisor.extraArgs would be ignored"; }
  ];

  # A Nix path would be copied into the world-readable store: secrets are strings only.
  checkedPath = name: p:
    if builtins.isPath p then throw "loadCredentials.${name}: give the path as a string, a Nix path copies the secret into the store"
    else if !(lib.hasPrefix "/" p) then throw "loadCredentials.${name}: ${p} is not an absolute path"
    else p;

  credentialArgs =
    mapAttrsToList (n: v: escapeShellArg "--set-credential=${n}:${v}") setCredentials
    ++ mapAttrsToList (n: p: escapeShellArg "--load-credential=${n}:${checkedPath n p}") loadCredentials
    # expanded by the shell when microvm@NAME runs: a ramfs only that service can read
    ++ map (n: "--load-credential=${escapeShellArg n}:\"$CREDENTIALS_DIRECTORY\"/${escapeShellArg n}") serviceCredentials;

  # The ELF vmlinux (cloud-hypervisor boots no bzImage), as microvm.nix's runner takes it.
  kernel = "${microvm.kernel.dev}/vmlinux";
  append = concatStringsSep " " ([ "console=ttyS0" "reboot=t" "panic=-1" ]
    ++ map toString microvm.kernelParams ++ extraAppend);

  run = writeShellScript "microvm-${hostName}-microvm-run" ''
    set -eu
    ${microvm.preStart}
    ${lib.optionalString (serviceCredentials != [ ]) ''
      : "''${CREDENTIALS_DIRECTORY:?no credentials: set LoadCredential= on microvm@${hostName}.service}"
    ''}
    # credscope-launch opens its one disk read-write and the store disk lies in the read-only
    # /nix/store: keep a private copy, refreshed when the store disk changes.
    if [ "$(${coreutils}/bin/cat store-disk.src 2>/dev/null)" != ${escapeShellArg (toString microvm.storeDisk)} ]; then
      ${coreutils}/bin/cp --reflink=auto ${escapeShellArg (toString microvm.storeDisk)} store-disk.img.new
      ${coreutils}/bin/chmod 0600 store-disk.img.new
      ${coreutils}/bin/mv store-disk.img.new store-disk.img
      echo ${escapeShellArg (toString microvm.storeDisk)} > store-disk.src
    fi
    exec ${credscope}/bin/credscope-launch --hypervisor cloud-hypervisor \
      --cloud-hypervisor ${microvm.cloud-hypervisor.package}/bin/cloud-hypervisor \
      --kernel ${escapeShellArg kernel} --initrd ${escapeShellArg microvm.initrdPath} \
      --image "$PWD/store-disk.img" --append ${escapeShellArg append} \
      --memory ${toString microvm.mem} --cpus ${toString microvm.vcpu} \
      ${concatStringsSep " " credentialArgs}
  '';

  # ExecStop= of microvm@NAME: credscope-launch stops cloud-hypervisor through its API on SIGTERM.
  shutdown = writeShellScript "microvm-${hostName}-microvm-shutdown" ''
    kill -TERM "$MAINPID" 2>/dev/null || exit 0
    while kill -0 "$MAINPID" 2>/dev/null; do ${coreutils}/bin/sleep 0.2; done
  '';
in
if unsupported != [ ] then
  throw "credscope host-runner for ${hostName}: ${concatStringsSep "; " (map (x: x.what) unsupported)}"
else
  runCommand "microvm-cloud-hypervisor-${hostName}"
  {
    meta.mainProgram = "microvm-run";
    # what microvm.nix's host module and guest modules read from a runner
    passthru = {
      canShutdown = true;
      supportsNotifySocket = false; # no vsock, so no vmm.notify_socket: Type=simple
      tapMultiQueue = false;
      hypervisor = "cloud-hypervisor";
      registerWithMachined = false;
      inherit (microvm) machineId;
    };
  } ''
    mkdir -p $out/bin $out/share/microvm
    ln -s ${run} $out/bin/microvm-run
    ln -s ${shutdown} $out/bin/microvm-shutdown
    echo cloud-hypervisor > $out/share/microvm/hypervisor
    echo vnet_hdr > $out/share/microvm/tap-flags
  ''
