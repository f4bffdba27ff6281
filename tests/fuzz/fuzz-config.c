/* gst-hart — libFuzzer target: config.json
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"
#include "hart/config.h"

/* The input is a config.json, read as each of the three model kinds. */
int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static char *path;
  HartTransformerConfig transformer = { 0 };
  HartAutoencoderConfig autoencoder = { 0 };
  HartQwen2Config qwen2 = { 0 };
  GError *error = NULL;
  GString *dump = g_string_new (NULL);
  char *model_type;

  if (path == NULL) {
    hart_fuzz_init ();
    path = hart_fuzz_scratch_path ("config.json");
  }
  hart_fuzz_write_file (path, data, size);

  if (hart_transformer_config_load (path, &transformer, &error))
    hart_transformer_config_print (&transformer, dump);
  g_clear_error (&error);
  hart_transformer_config_clear (&transformer);

  if (hart_autoencoder_config_load (path, &autoencoder, &error))
    hart_autoencoder_config_print (&autoencoder, dump);
  g_clear_error (&error);

  if (hart_qwen2_config_load (path, &qwen2, &error))
    hart_qwen2_config_print (&qwen2, dump);
  g_clear_error (&error);

  model_type = hart_config_read_model_type (path, &error);
  g_clear_error (&error);
  g_free (model_type);
  g_string_free (dump, TRUE);
  return 0;
}
