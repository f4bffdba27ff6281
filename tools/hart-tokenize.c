/* gst-hart — `hart tokenize --tokenizer DIR TEXT…`
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Prints the token ids of TEXT, space-separated, as HART's text encoder
 * sees them (no BOS/EOS, no padding); with --prompt, the 300 padded ids of
 * HART's prompt encoding.  With --decode the arguments are ids and the
 * text is printed.  Several TEXT arguments are joined by one space.
 */
#include "hart-cli.h"
#include "hart/error.h"
#include "hart/tokenizer.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

static gboolean
parse_ids (char **args, GArray * ids, GError ** error)
{
  for (int i = 0; args != NULL && args[i] != NULL; i++) {
    char **words = g_strsplit_set (args[i], " ,\t\n", -1);

    for (int k = 0; words[k] != NULL; k++) {
      gint64 id;
      int32_t id32;

      if (words[k][0] == '\0')
        continue;
      if (!g_ascii_string_to_signed (words[k], 10, 0, G_MAXINT32, &id, NULL)) {
        g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
            "\"%s\" is not a token id", words[k]);
        g_strfreev (words);
        return FALSE;
      }
      id32 = (int32_t) id;
      g_array_append_val (ids, id32);
    }
    g_strfreev (words);
  }
  return TRUE;
}

int
hart_cli_tokenize (int argc, char **argv)
{
  char *tokenizer_dir = NULL;
  gboolean decode = FALSE, skip_special = FALSE, prompt = FALSE;
  char **rest = NULL;
  GOptionEntry entries[] = {
    {"tokenizer", 't', 0, G_OPTION_ARG_FILENAME, &tokenizer_dir,
          "Tokenizer folder (tokenizer.json, or vocab.json + merges.txt)",
        "DIR"},
    {"decode", 'd', 0, G_OPTION_ARG_NONE, &decode,
        "Arguments are token ids; print their text", NULL},
    {"skip-special", 0, 0, G_OPTION_ARG_NONE, &skip_special,
        "With --decode, leave out special tokens", NULL},
    {"prompt", 'p', 0, G_OPTION_ARG_NONE, &prompt,
          "Print HART's 300 padded prompt ids (and the real count on stderr)",
        NULL},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL,
        NULL},
    {NULL}
  };
  GOptionContext *context = g_option_context_new ("TEXT… | --decode ID…");
  GError *error = NULL;
  HartTokenizer *tok = NULL;
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (int32_t));
  int status = 1;

  g_option_context_set_summary (context,
      "Encode text with the Qwen2 tokenizer of HART's text encoder, or "
      "decode ids.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    fprintf (stderr, "hart tokenize: %s\n", error->message);
    status = 2;
    goto out;
  }
  if (tokenizer_dir == NULL || rest == NULL) {
    char *help = g_option_context_get_help (context, TRUE, NULL);
    fprintf (stderr, "hart tokenize: %s\n\n%s",
        tokenizer_dir == NULL ? "--tokenizer DIR is required" :
        "nothing to tokenize", help);
    g_free (help);
    status = 2;
    goto out;
  }
  tok = hart_tokenizer_load (tokenizer_dir, &error);
  if (tok == NULL)
    goto fail;

  if (decode) {
    char *text;

    if (!parse_ids (rest, ids, &error))
      goto fail;
    text = hart_tokenizer_decode (tok, (const int32_t *) ids->data, ids->len,
        skip_special, &error);
    if (text == NULL)
      goto fail;
    printf ("%s\n", text);
    g_free (text);
  } else {
    char *text = g_strjoinv (" ", rest);
    gboolean ok;

    if (prompt) {
      int n_real = 0;
      g_array_set_size (ids, HART_TOKENIZER_PROMPT_LENGTH);
      ok = hart_tokenizer_encode_prompt (tok, text,
          HART_TOKENIZER_PROMPT_LENGTH, (int32_t *) ids->data, NULL, NULL,
          &n_real, &error);
      if (ok)
        fprintf (stderr, "%d prompt tokens\n", n_real);
    } else
      ok = hart_tokenizer_encode (tok, text, -1, ids, &error);
    g_free (text);
    if (!ok)
      goto fail;
    for (guint i = 0; i < ids->len; i++)
      printf ("%s%d", i ? " " : "", g_array_index (ids, int32_t, i));
    printf ("\n");
  }
  status = 0;
  goto out;

fail:
  fprintf (stderr, "hart tokenize: %s\n", error->message);
  status = 1;
out:
  g_clear_error (&error);
  hart_tokenizer_free (tok);
  g_array_free (ids, TRUE);
  g_strfreev (rest);
  g_free (tokenizer_dir);
  g_option_context_free (context);
  return status;
}
