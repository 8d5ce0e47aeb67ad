# NixOS module for a guest: credscope's boot-time health check of the systemd credentials
# the hypervisor passed (guest-agent/units/credscope-verify.service, and optionally
# credscope-report.service, written as NixOS units). tests/integration/nixos-expressions.test
# evaluates this file with a stub lib and compares the units with guest-agent/units/.
#
#   imports = [ ./examples/nixos/module.nix ];
#   services.credscope.enable = true;
{ config, lib, pkgs, ... }:

let
  cfg = config.services.credscope;
  inherit (lib) mkOption mkEnableOption mkIf types optionalString;

  # where the expectations (manifest.json, digests only) come from
  manifestArgs =
    if cfg.manifestFile != null then " --manifest ${cfg.manifestFile}"
    else if cfg.manifestLabel != "credscope" then " --manifest-label ${cfg.manifestLabel}"
    else ""; # the agent's default: credscope.manifest-label= on the kernel command line, or "credscope"

  # NixOS has no libsystemd-shared-NNN.so under /lib/systemd or /usr/lib/systemd, where the
  # agent detects the version, so it is told.
  credscope = "${cfg.package}/bin/credscope --systemd-version ${toString cfg.systemdVersion}";

  # the same lines as the [Unit] and [Service] sections of guest-agent/units/*.service
  commonUnit = {
    DefaultDependencies = "no";
    Conflicts = "shutdown.target";
    Before = "shutdown.target";
    After = "systemd-journald.socket";
  };
  commonService = {
    Type = "oneshot";
    RemainAfterExit = "yes";
    Nice = "-10"; # on a one-vCPU guest the verdict should not wait behind udev's coldplug
    StandardOutput = "journal+console";
    StandardError = "journal+console";
    SyslogIdentifier = "credscope";
  };

  # What a failed check (exit 1, or 2: no expectations found) does to the boot.
  blocks = cfg.onFailure != "continue";
  failureUnit =
    if cfg.onFailure == "emergency" then {
      Before = "shutdown.target sysinit.target";
      OnFailure = "emergency.target";
      OnFailureJobMode = "replace-irreversibly";
    } else if cfg.onFailure == "poweroff" then {
      Before = "shutdown.target sysinit.target";
      FailureAction = "poweroff";
    } else { };
in
{
  options.services.credscope = {
    enable = mkEnableOption "credscope's boot-time check of imported systemd credentials";

    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./package.nix { };
      description = "The credscope package (examples/nixos/package.nix).";
    };

    manifestLabel = mkOption {
      type = types.strMatching "[A-Za-z0-9._-]{1,16}";
      default = "credscope";
      description = ''
        Filesystem label of the expectations disk (it holds manifest.json). Another label is
        passed as --manifest-label; "credscope" leaves the choice to the agent, which also
        honours credscope.manifest-label= on the kernel command line.
      '';
    };

    manifestFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      description = ''
        A manifest in the guest's closure instead of a labelled disk. It is world-readable
        in the Nix store: only for sha256 digests of high-entropy secrets, never for values.
      '';
    };

    waitLabel = mkOption {
      type = types.ints.unsigned;
      default = 20;
      description = "Seconds the agent polls libblkid for the expectations disk (--wait-label).";
    };

    systemdVersion = mkOption {
      type = types.ints.positive;
      default = lib.toInt (lib.versions.major config.systemd.package.version);
      description = "The guest's systemd version, whose import rules the agent applies.";
    };

    onFailure = mkOption {
      type = types.enum [ "continue" "emergency" "poweroff" ];
      default = "continue";
      description = ''
        continue: the unit fails and the boot goes on (as guest-agent/units: WantedBy=sysinit.target).
        emergency: sysinit.target requires the check; a failure isolates emergency.target.
        poweroff: a failure powers the guest off (microvm@.service restarts it: Restart=always).
      '';
    };

    report.enable = mkEnableOption ''
      credscope-report.service: send the report to the host named by credscope.report= on the
      kernel command line (vsock or virtio-serial; docs/report.md)'';
  };

  config = mkIf cfg.enable {
    environment.systemPackages = [ cfg.package ];

    # PID 1 loads dmi-sysfs itself before importing; a systemd initrd must contain it, or the
    # initrd imports no SMBIOS credentials (and, if it imported others, stage 2 does not retry).
    boot.initrd.availableKernelModules = [ "dmi_sysfs" ];

    # The agent as a systemd generator (credscope(1) GENERATOR): with the manifest in the QEMU
    # fw_cfg entry opt/io.credscope/manifest it reaches the verdict right after PID 1's import,
    # before any unit, and the units below print or send that verdict (--generator-verdict).
    # A script, because PID 1 passes a generator only its three directories and the agent
    # needs --systemd-version here.
    systemd.generators.credscope-generator = "${pkgs.writeShellScript "credscope-generator" ''
      exec ${credscope} generator "$@"
    ''}";

    systemd.services.credscope-verify = {
      description = "credscope: verify imported systemd credentials";
      documentation = [ "man:credscope(1)" ];
      wantedBy = if blocks then [ ] else [ "sysinit.target" ];
      requiredBy = if blocks then [ "sysinit.target" ] else [ ];
      restartIfChanged = false; # one check per boot, not per nixos-rebuild switch
      # with credscope.report= the report unit gives (and sends) the verdict
      unitConfig = commonUnit // failureUnit // { ConditionKernelCommandLine = "!credscope.report"; };
      serviceConfig = commonService // {
        ExecStart = "${credscope} verify --generator-verdict${manifestArgs} --wait-label ${toString cfg.waitLabel}";
      };
    };

    systemd.services.credscope-report = mkIf cfg.report.enable {
      description = "credscope: report imported systemd credentials to the host";
      documentation = [ "man:credscope(1)" ];
      wantedBy = [ "sysinit.target" ];
      restartIfChanged = false;
      path = [ pkgs.kmod ]; # the agent runs modprobe for a missing vsock/virtio-serial driver
      unitConfig = commonUnit // {
        ConditionKernelCommandLine = "credscope.report";
      };
      serviceConfig = commonService // {
        ExecStart = "${credscope} report --generator-verdict${manifestArgs} --wait-label ${toString cfg.waitLabel}";
      };
    };
  };
}
