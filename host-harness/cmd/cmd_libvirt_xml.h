/* cmd_libvirt_xml: `credscope-harness libvirt-xml [OPTIONS] CASE` prints a libvirt
 * domain (test only) for CASE and prepares its files. ARGV[0] is the subcommand's name.
 * Exit status 0, or 2 on a usage or environment error. */
#pragma once

int cmd_libvirt_xml(int argc, char **argv);
