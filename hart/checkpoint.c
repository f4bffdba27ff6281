/* gst-hart — opening a checkpoint: format dispatch and folder lookup
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Chooses the reader by content (docs/checkpoint-formats.md), lets it fill
 * the tensor table (checkpoint-table.c), and finds the weights file of a
 * folder.
 */
#include "hart/checkpoint-private.h"
#include "hart/file-read.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

HartCheckpoint *
hart_checkpoint_open (const char *path, GError ** error)
{
  static const guint8 zip_magic[4] = { 'P', 'K', 3, 4 };
  static const guint8 legacy_torch_magic[4] = { 0x80, 0x02, 0x8a, 0x0a };
  HartCheckpoint *ckpt;
  HartCheckpointFormat format;
  guint8 magic[4] = { 0 };
  gboolean ok;
  ssize_t got;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);

  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "%s: is a folder, not a weights file (see "
        "hart_checkpoint_find_in_dir)", path);
    return NULL;
  }
  /* through hart_file_open_regular: a FIFO or device named as weights must
   * neither block nor be read; the format readers open it the same way */
  fd = hart_file_open_regular (path, NULL, error);
  if (fd < 0)
    return NULL;
  do
    got = read (fd, magic, sizeof magic);
  while (got < 0 && errno == EINTR);
  close (fd);

  /* torch.save before 1.6 wrote a bare pickle starting with the protocol
   * and a LONG1 magic number; as a safetensors length these bytes would be
   * a 176 MB header, so nothing valid is lost by naming the format. */
  if (got == (ssize_t) sizeof magic
      && memcmp (magic, legacy_torch_magic, 4) == 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: legacy torch.save format (PyTorch < 1.6, not a zip archive) is "
        "not supported; re-save it with a newer PyTorch or convert it to "
        "safetensors", path);
    return NULL;
  }
  if (g_str_has_suffix (path, ".safetensors.index.json"))
    format = HART_CHECKPOINT_SAFETENSORS_SHARDED;
  else if (got == (ssize_t) sizeof magic && memcmp (magic, zip_magic, 4) == 0)
    format = HART_CHECKPOINT_TORCH_ZIP;
  else
    format = HART_CHECKPOINT_SAFETENSORS;

  ckpt = hart_checkpoint_new (path, format);
  switch (format) {
    case HART_CHECKPOINT_SAFETENSORS_SHARDED:
      ok = hart_safetensors_load_index (ckpt, path, error);
      break;
    case HART_CHECKPOINT_TORCH_ZIP:
      ok = hart_torchzip_load (ckpt, path, error);
      break;
    case HART_CHECKPOINT_SAFETENSORS:
    default:
      ok = hart_safetensors_load (ckpt, path, error);
      break;
  }
  if (ok)
    ok = hart_checkpoint_finish (ckpt, error);
  if (!ok) {
    hart_checkpoint_free (ckpt);
    return NULL;
  }
  return ckpt;
}

char *
hart_checkpoint_find_in_dir (const char *dir, GError ** error)
{
  static const char *const candidates[] = {
    "model.safetensors.index.json",
    "model.safetensors",
    "pytorch_model.bin.index.json",     /* refused: sharded .bin */
    "pytorch_model.bin",
  };
  GString *tried;

  g_return_val_if_fail (dir != NULL, NULL);

  if (!hart_dir_check_readable (dir, error))
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++) {
    char *path = g_build_filename (dir, candidates[i], NULL);

    /* any kind of file: opening it says what is wrong with a FIFO */
    if (g_file_test (path, G_FILE_TEST_EXISTS)) {
      if (g_str_has_prefix (candidates[i], "pytorch_model.bin.index")) {
        g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
            "%s: sharded PyTorch checkpoints are not supported; convert "
            "the folder to safetensors", path);
        g_free (path);
        return NULL;
      }
      return path;
    }
    g_free (path);
  }
  tried = g_string_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    g_string_append_printf (tried, i ? ", %s" : "%s", candidates[i]);
  g_set_error (error, HART_ERROR, HART_ERROR_NOT_FOUND,
      "%s: no weights file found (tried %s)", dir, tried->str);
  g_string_free (tried, TRUE);
  return NULL;
}
