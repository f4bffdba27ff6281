/* gst-hart — `hart` subcommands
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef HART_CLI_H
#define HART_CLI_H

#include <stdio.h>

typedef struct
{
  const char *name;
  const char *summary;
  /* argv[0] is the command name; returns the process exit status */
  int (*run) (int argc, char **argv);
} HartCliCommand;

int hart_cli_inspect (int argc, char **argv);
int hart_cli_tokenize (int argc, char **argv);
int hart_cli_generate (int argc, char **argv);
int hart_cli_bench (int argc, char **argv);
int hart_cli_fidelity (int argc, char **argv);

#endif /* HART_CLI_H */
