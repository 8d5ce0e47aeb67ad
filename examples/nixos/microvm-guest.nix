# Example guest: a microvm.nix MicroVM on cloud-hypervisor, started by credscope-launch
# (host-runner.nix) and checked at boot by credscope (module.nix). Import it next to
# microvm.nix's guest module, e.g. on the host:
#
#   microvm.vms.credscope-demo.config = {
#     imports = [ ./examples/nixos/microvm-guest.nix ];
#   };
#   # the secret reaches the runner through systemd, root-only file to a private ramfs:
#   systemd.services."microvm@credscope-demo".serviceConfig.LoadCredential =
#     [ "TOKEN:/run/secrets/credscope-demo-token" ];
{ config, pkgs, ... }:

{
  imports = [ ./module.nix ];

  networking.hostName = "credscope-demo";
  system.stateVersion = "25.05";

  microvm = {
    hypervisor = "cloud-hypervisor"; # nixos-modules/microvm/options.nix
    vcpu = 1; # options.nix
    mem = 512; # options.nix (MiB)
    # No shares: storeOnDisk (options.nix) stays true and the erofs store disk
    # (config.microvm.storeDisk, store-disk.nix) is the VM's only disk.
    shares = [ ];
    volumes = [ ];
    interfaces = [ ];
    # microvm.nix's own ways, not used here (both in options.nix):
    #   credentialFiles: QEMU only (-fw_cfg name=opt/io.systemd.credentials/NAME,file=PATH);
    #     the cloud-hypervisor runner throws "cloud-hypervisor does not support credentialFiles"
    #   cloud-hypervisor.platformOEMStrings: the values on cloud-hypervisor's argv
    declaredRunner = pkgs.callPackage ./host-runner.nix {
      inherit (config) microvm;
      inherit (config.networking) hostName;
      serviceCredentials = [ "TOKEN" ];
      setCredentials = { GREETING = "hello"; };
    };
  };

  services.credscope = {
    enable = true;
    # credscope-launch attaches one disk (the store disk), so the expectations come with the
    # closure: digests only, world-readable in the store. TOKEN must be a high-entropy
    # secret; its digest is `sha256sum /run/secrets/credscope-demo-token` on the host.
    manifestFile = pkgs.writeText "credscope-manifest.json" (builtins.toJSON {
      credscope = 1;
      strict = false;
      credentials = {
        GREETING.sha256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"; # "hello"
        TOKEN.sha256 = "0000000000000000000000000000000000000000000000000000000000000000"; # replace: the secret's sha256, hex
      };
    });
    onFailure = "continue"; # the unit fails, the boot goes on; see module.nix
  };
}
