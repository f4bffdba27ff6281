/* gst-hart — tests: on which machines the bf16 mode must run, and how
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bf16 runs wherever the build has oneDNN (docs/precision.md, "Where bf16
 * runs"): on the CPU's bf16 units where oneDNN has kernels for them, else
 * with its products widened to fp32 on OpenBLAS.  Without oneDNN the
 * engine refuses the mode, and the tests check that refusal instead of
 * skipping.  Whether the bf16 units run it ("native", and what "auto"
 * picks) comes from the CPU's own flags, never from the engine's probe, so
 * a probe that wrongly finds no bf16 unit fails the tests:
 * - native: bf16 instructions (avx512_bf16) or matrix units (amx_bf16);
 * - widened: every other CPU (AVX2 only; AVX-512 without bf16, where
 *   oneDNN 2.6 emulates bf16 in its own kernels, counts as not native).
 */
#ifndef HART_TEST_BF16_H
#define HART_TEST_BF16_H

#include <glib.h>
#include <string.h>

typedef enum
{
  HART_TEST_BF16_NO,            /* refused: a build without oneDNN */
  HART_TEST_BF16_YES,           /* runs: natively or widened */
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
#ifdef HART_HAVE_ONEDNN
  return HART_TEST_BF16_YES;
#else
  return HART_TEST_BF16_NO;
#endif
}

/* TRUE where the CPU's flags tell how oneDNN 2.6 runs bf16: an x86-64
 * Linux machine with a oneDNN build.  Elsewhere (aarch64, where oneDNN may
 * have bf16 kernels that /proc/cpuinfo's "flags" line does not announce)
 * the tests check that bf16 runs, not how. */
static inline gboolean
hart_test_bf16_flags_known (void)
{
#if defined (__x86_64__) && defined (HART_HAVE_ONEDNN)
  return g_file_test ("/proc/cpuinfo", G_FILE_TEST_EXISTS);
#else
  return FALSE;
#endif
}

/* TRUE when this CPU has bf16 instructions or matrix units: bf16 must then
 * run on them (the engine's precision implementation does not say
 * "widened") and "auto" must pick it.  FALSE without oneDNN, or where
 * /proc/cpuinfo cannot be read (not Linux: nothing to go by). */
static inline gboolean
hart_test_bf16_native (void)
{
  gboolean native = FALSE;
#ifdef HART_HAVE_ONEDNN
  char *cpuinfo = NULL;

  if (!g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL))
    return FALSE;
  native = hart_test_cpu_flag (cpuinfo, "avx512_bf16")
      || hart_test_cpu_flag (cpuinfo, "amx_bf16");
  g_free (cpuinfo);
#endif
  return native;
}

/* For a GLib test that asked for bf16 and was REFUSED or not (MESSAGE: the
 * refusal's): TRUE when it goes on in bf16.  Aborts when this build must
 * have bf16 and it was refused, or must not and it was given, or the
 * refusal does not say which precision and device; skips the test
 * (g_test_skip) when the refusal is what this build expects. */
static inline gboolean
hart_test_bf16_go_on (gboolean refused, const char *message)
{
  const HartTestBf16 expect = hart_test_bf16 ();

  if (!refused) {
    if (expect == HART_TEST_BF16_NO)
      g_error ("bf16 was given by a build without oneDNN: which kernel "
          "runs it?");
    return TRUE;
  }
  if (expect == HART_TEST_BF16_YES)
    g_error ("this build has oneDNN, which runs bf16 on every CPU (widened "
        "where it has no bf16 kernel), but bf16 was refused: %s",
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
