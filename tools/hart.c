/* gst-hart — the `hart` command-line tool
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `hart COMMAND [ARGS…]`: one subcommand per file (hart-inspect.c, …).
 */
#include "config.h"
#include "hart-cli.h"

#include <glib.h>
#include <locale.h>
#include <string.h>

static const HartCliCommand commands[] = {
  {"inspect", "Print the configuration and tensor table of a checkpoint",
      hart_cli_inspect},
  {"generate", "Generate an image (PNG) from a text context",
      hart_cli_generate},
  {"tokenize", "Encode text with the prompt tokenizer, or decode ids",
      hart_cli_tokenize},
  {"bench", "Time a generation per stage, precision against precision",
      hart_cli_bench},
  {"fidelity", "Compare a precision with the fp32 reference, scale by scale",
      hart_cli_fidelity},
};

static void
print_usage (FILE * out)
{
  fprintf (out, "Usage: hart COMMAND [OPTION…]\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun `hart COMMAND --help` for the options of a command.\n"
      "gst-hart %s\n", VERSION);
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");

  if (argc < 2) {
    print_usage (stderr);
    return 2;
  }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
      || strcmp (argv[1], "help") == 0) {
    print_usage (stdout);
    return 0;
  }
  if (strcmp (argv[1], "--version") == 0) {
    printf ("hart (gst-hart) %s\n", VERSION);
    return 0;
  }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++) {
    if (strcmp (argv[1], commands[i].name) == 0)
      return commands[i].run (argc - 1, argv + 1);
  }
  fprintf (stderr, "hart: unknown command \"%s\"\n\n", argv[1]);
  print_usage (stderr);
  return 2;
}
