/* cmd_vsock_backend: `credscope-harness vsock-backend`, the backend as a standalone
 * process. Exit 0 after SIGINT/SIGTERM, 2 on a usage or environment error. */
#pragma once

int cmd_vsock_backend(int argc, char **argv);
