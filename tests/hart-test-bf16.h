/* gst-hart — tests: on which machines the bf16 mode must run
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bf16 runs where the build has oneDNN and oneDNN has a bf16 matrix product
 * for the CPU (docs/precision.md, "Where bf16 runs").  Elsewhere the engine
 * refuses the mode, and the tests check that refusal instead of skipping.
 * What a test expects comes from the CPU's own flags, never from the
 * engine's probe, so a probe that wrongly finds no bf16 fails the tests:
 * - YES: bf16 instructions (avx512_bf16) or matrix units (amx_bf16);
 * - NO: no AVX-512 at all (oneDNN 2.6 has only its reference loops, which
 *   the engine does not use);
 * - MAYBE: AVX-512 without bf16 instructions, where oneDNN may emulate bf16
 *   (the tests run bf16 if the engine takes it, and skip if it refuses).
 */
#ifndef HART_TEST_BF16_H
#define HART_TEST_BF16_H

#include <glib.h>
#include <string.h>

typedef enum
{
  HART_TEST_BF16_NO,
  HART_TEST_BF16_MAYBE,
  HART_TEST_BF16_YES,
} HartTestBf16;

/* TRUE when FLAG is a word of the first "flags" line of /proc/cpuinfo */
static inline gboolean
hart_test_cpu_flag (const char *cpuinfo, const char *flag)
{
  const char *line = cpuinfo ? strstr (cpuinfo, "\nflags") : NULL;
  const char *end;
  gsize n = strlen (flag);

  if (line == NULL)
    return FALSE;
  end = strchr (line + 1, '\n');
  for (const char *p = strstr (line, flag); p != NULL && (!end || p < end);
      p = strstr (p + 1, flag))
    if (p[-1] == ' ' && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
      return TRUE;
  return FALSE;
}

static inline HartTestBf16
hart_test_bf16 (void)
{
  HartTestBf16 expect = HART_TEST_BF16_NO;
#ifdef HART_HAVE_ONEDNN
  char *cpuinfo = NULL;

  if (!g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL))
    return HART_TEST_BF16_MAYBE;        /* not Linux: nothing to go by */
  if (hart_test_cpu_flag (cpuinfo, "avx512_bf16")
      || hart_test_cpu_flag (cpuinfo, "amx_bf16"))
    expect = HART_TEST_BF16_YES;
  else if (hart_test_cpu_flag (cpuinfo, "avx512f"))
    expect = HART_TEST_BF16_MAYBE;
  g_free (cpuinfo);
#endif
  return expect;
}

/* For a GLib test that asked for bf16 and was REFUSED or not (MESSAGE: the
 * refusal's): TRUE when it goes on in bf16.  Aborts when this machine must
 * have bf16 and it was refused, or must not and it was given, or the
 * refusal does not say which precision and device; skips the test
 * (g_test_skip) when the refusal is what this machine expects. */
static inline gboolean
hart_test_bf16_go_on (gboolean refused, const char *message)
{
  const HartTestBf16 expect = hart_test_bf16 ();

  if (!refused) {
    if (expect == HART_TEST_BF16_NO)
      g_error ("bf16 was given on a CPU without AVX-512 (or a build without "
          "oneDNN): which kernel runs it?");
    return TRUE;
  }
  if (expect == HART_TEST_BF16_YES)
    g_error ("this CPU has bf16 instructions, but bf16 was refused: %s",
        message ? message : "(no message)");
  if (message == NULL
      || strstr (message, "precision bf16 is not available on device cpu")
      == NULL)
    g_error ("the refusal does not name the precision and the device: %s",
        message ? message : "(no message)");
  g_test_skip (message);
  return FALSE;
}

#endif /* HART_TEST_BF16_H */
