/* gst-hart — libFuzzer target: token frames (video/x-hart-tokens buffers)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"
#include "hart/tokens.h"

#include <stdlib.h>
#include <string.h>

/* The input is a serialised token frame, parsed from memory as hartrefine
 * parses a buffer.  What parses must serialise back to the same bytes,
 * apart from the fingerprint field after its first NUL and the reserved
 * word. */
int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static gboolean ready;
  GError *error = NULL;
  HartTokens *tokens;
  guint8 *again;
  gsize n;

  if (!ready) {
    hart_fuzz_init ();
    ready = TRUE;
  }
  tokens = hart_tokens_parse (data, size, &error);
  if (tokens == NULL) {
    g_clear_error (&error);
    return 0;
  }
  n = hart_tokens_serialized_size (tokens);
  if (n != size)
    abort ();
  again = g_malloc (n);
  hart_tokens_serialize (tokens, again);
  /* header bytes 0-15 and 80-123 and the payload round-trip exactly
   * (124-127 are reserved: written as zero, not read) */
  if (memcmp (again, data, 16) != 0
      || memcmp (again + 80, data + 80, 124 - 80) != 0
      || memcmp (again + 128, data + 128, n - 128) != 0)
    abort ();
  g_free (again);
  hart_tokens_free (tokens);
  return 0;
}
