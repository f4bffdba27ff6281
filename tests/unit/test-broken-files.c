/* gst-hart — every file of the broken-checkpoint corpus is refused cleanly
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * tests/fixtures/broken/ is written by tests/reference/make_broken.py: one
 * damaged or hostile weights file per failure mode (a folder holds a
 * sharded index and its shards).  Each must be refused by
 * hart_checkpoint_open with the expected HART_ERROR code and a message that
 * names the file and says what was wrong.  A corpus file without an entry
 * in the table below, or an entry without a file, fails the test, so the
 * two cannot drift apart.  Run under valgrind, this also shows that no
 * refusal path leaks.
 */
#include "hart/checkpoint.h"
#include "hart/error.h"

#include <string.h>

typedef struct
{
  const char *file;             /* name in broken/ (a folder: its index) */
  HartError code;
  const char *expected[3];      /* substrings of the message */
} BrokenCase;

static const BrokenCase cases[] = {
  /* ---- safetensors ---- */
  {"st-empty.safetensors", HART_ERROR_FORMAT, {"is 0 bytes", "too short"}},
  {"st-short.safetensors", HART_ERROR_FORMAT, {"is 3 bytes", "too short"}},
  {"st-header-cut.safetensors", HART_ERROR_IO, {"truncated",
          "header length is"}},
  {"st-data-cut.safetensors", HART_ERROR_FORMAT, {"tensor \"bf16\"",
          "[60, 68] end beyond the 62 bytes of data"}},
  {"st-header-len-too-big.safetensors", HART_ERROR_IO,
      {"header length is 4096 bytes", "only 9 bytes follow"}},
  {"st-header-len-absurd.safetensors", HART_ERROR_LIMIT,
      {"header length 9223372036854775808 exceeds the limit"}},
  {"st-bad-json.safetensors", HART_ERROR_FORMAT, {"header is not valid JSON"}},
  {"st-json-array.safetensors", HART_ERROR_FORMAT, {"header is a JSON array",
          "expected an object"}},
  {"st-entry-not-object.safetensors", HART_ERROR_FORMAT, {"tensor \"w\"",
          "expected an object"}},
  {"st-unknown-dtype.safetensors", HART_ERROR_UNSUPPORTED,
      {"dtype \"F8_E4M3\" is not supported"}},
  {"st-missing-dtype.safetensors", HART_ERROR_FORMAT,
      {"\"dtype\" is missing"}},
  {"st-shape-not-array.safetensors", HART_ERROR_FORMAT,
      {"\"shape\" is missing or not an array"}},
  {"st-shape-float.safetensors", HART_ERROR_FORMAT,
      {"shape[0] is not an integer"}},
  {"st-size-mismatch.safetensors", HART_ERROR_FORMAT,
      {"tensor \"head.weight\": data_offsets [0, 100] hold 100 bytes but "
              "shape [4096, 32] of F32 needs 524288"}},
  {"st-offsets-out-of-range.safetensors", HART_ERROR_FORMAT,
      {"data_offsets [0, 128] end beyond the 64 bytes of data"}},
  {"st-offsets-reversed.safetensors", HART_ERROR_FORMAT,
      {"data_offsets [32, 16] are reversed"}},
  {"st-offsets-negative.safetensors", HART_ERROR_FORMAT,
      {"data_offsets[0] is not a non-negative integer"}},
  {"st-offsets-short.safetensors", HART_ERROR_FORMAT,
      {"\"data_offsets\" is missing or not an array"}},
  {"st-overlap.safetensors", HART_ERROR_FORMAT,
      {"\"a\" [0, 16] and \"b\" [8, 24] overlap"}},
  {"st-shape-overflow.safetensors", HART_ERROR_LIMIT,
      {"shape [1099511627776, 1099511627776] of F32 overflows"}},
  {"st-negative-dim.safetensors", HART_ERROR_FORMAT,
      {"shape[0] = -1 is negative"}},
  {"st-too-many-dims.safetensors", HART_ERROR_LIMIT,
      {"shape has 9 dims, at most 8"}},
  {"st-duplicate-key.safetensors", HART_ERROR_FORMAT,
      {"names \"w\" twice"}},
  {"st-metadata-not-object.safetensors", HART_ERROR_FORMAT,
      {"\"__metadata__\" is a JSON array"}},

  /* ---- sharded safetensors ---- */
  {"index-bad-json.safetensors.index.json", HART_ERROR_FORMAT,
      {"index is not valid JSON"}},
  {"index-not-string.safetensors.index.json", HART_ERROR_FORMAT,
      {"weight_map entry \"a\" is not a file name"}},
  {"sharded-missing-shard", HART_ERROR_NOT_FOUND,
      {"shard \"s2.safetensors\"", "does not exist"}},
  {"sharded-dotdot", HART_ERROR_FORMAT, {"\"../s1.safetensors\"",
          "not a plain file name"}},
  {"sharded-subfolder", HART_ERROR_FORMAT, {"\"sub/s1.safetensors\"",
          "not a plain file name"}},
  {"sharded-absent-tensor", HART_ERROR_FORMAT,
      {"tensor \"ghost\" in shard \"s1.safetensors\"", "does not hold it"}},
  {"sharded-wrong-shard", HART_ERROR_FORMAT,
      {"tensor \"b\" in shard \"s1.safetensors\", but it is stored in "
              "shard \"s2.safetensors\""}},
  {"sharded-duplicate", HART_ERROR_FORMAT,
      {"tensor \"a\" is stored in two shards"}},
  /* the shard's header is "oops": refused by the strict-JSON pre-scan */
  {"sharded-bad-shard", HART_ERROR_FORMAT, {"s1.safetensors",
          "header, line 1: \"oops\" is not JSON"}},
  {"sharded-no-weight-map", HART_ERROR_FORMAT,
      {"\"weight_map\" is missing"}},

  /* ---- PyTorch zip ---- */
  {"bin-os-system.bin", HART_ERROR_FORBIDDEN,
      {"archive/data.pkl: pickle global \"os.system\" is not allowed "
              "(only tensor state-dict globals are accepted)"}},
  {"bin-eval-stack-global.bin", HART_ERROR_FORBIDDEN,
      {"pickle global \"builtins.eval\" is not allowed"}},
  {"bin-popen-in-dict.bin", HART_ERROR_FORBIDDEN,
      {"pickle global \"subprocess.Popen\" is not allowed"}},
  {"bin-posix-system.bin", HART_ERROR_FORBIDDEN,
      {"pickle global \"posix.system\" is not allowed"}},
  {"bin-inst-opcode.bin", HART_ERROR_FORBIDDEN,
      {"pickle opcode INST (0x69)", "not supported"}},
  {"bin-unknown-opcode.bin", HART_ERROR_FORMAT,
      {"unknown pickle opcode 0xff"}},
  {"bin-truncated-pickle.bin", HART_ERROR_FORMAT, {"archive/data.pkl",
          "truncated"}},
  {"bin-no-stop.bin", HART_ERROR_FORMAT, {"end without STOP"}},
  {"bin-bad-memo.bin", HART_ERROR_FORMAT, {"memo entry 5",
          "never stored"}},
  {"bin-top-is-list.bin", HART_ERROR_FORMAT, {"pickle holds a list",
          "expected a state dict"}},
  {"bin-non-tensor-value.bin", HART_ERROR_UNSUPPORTED,
      {"entry \"epoch\" holds a value of type int, not a tensor"}},
  {"bin-storage-too-small.bin", HART_ERROR_FORMAT, {"tensor \"row\"",
          "needs 32 bytes of storage", "archive/data/2 holds only 24 bytes"}},
  /* absurd claimed sizes: refused from the header, nothing allocated */
  {"bin-shape-absurd.bin", HART_ERROR_FORMAT, {"tensor \"huge\"",
          "needs 4398046511104 bytes of storage", "holds only 48 bytes"}},
  {"bin-shape-overflow.bin", HART_ERROR_LIMIT,
      {"shape [1099511627776, 1099511627776] of F32 overflows"}},
  {"bin-missing-storage.bin", HART_ERROR_FORMAT, {"tensor \"ghost\"",
          "storage \"7\" is missing"}},
  {"bin-noncontiguous.bin", HART_ERROR_UNSUPPORTED,
        {"tensor \"t\": strides (1, 3) of shape [3, 2] are not contiguous",
          "(2, 1)"}},
  {"bin-bad-storage-key.bin", HART_ERROR_FORMAT,
      {"storage key \"../0\"", "not a plain name"}},
  {"bin-big-endian.bin", HART_ERROR_UNSUPPORTED, {"archive/byteorder",
          "\"big\"", "little-endian"}},
  {"bin-no-data-pkl.bin", HART_ERROR_FORMAT,
      {"without <folder>/data.pkl"}},
  {"bin-legacy-format.bin", HART_ERROR_UNSUPPORTED,
      {"legacy torch.save format"}},
  {"bin-truncated-zip.bin", HART_ERROR_FORMAT,
      {"cannot read the zip archive"}},
};

static char *broken_dir;

static const char *
error_code_name (int code)
{
  static const char *names[] = { "NOT_FOUND", "IO", "FORMAT", "UNSUPPORTED",
    "SHAPE", "FORBIDDEN", "LIMIT", "INVALID_ARGUMENT", "CANCELLED", "NUMERIC"
  };

  return code >= 0 && code < (int) G_N_ELEMENTS (names) ? names[code] : "?";
}

static void
test_broken_file (gconstpointer data)
{
  const BrokenCase *c = data;
  char *path = g_build_filename (broken_dir, c->file, NULL);
  GError *error = NULL;
  HartCheckpoint *ckpt;

  /* A folder holds a sharded checkpoint: open its index. */
  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    char *index = g_build_filename (path, "model.safetensors.index.json",
        NULL);

    g_free (path);
    path = index;
  }
  ckpt = hart_checkpoint_open (path, &error);
  if (ckpt != NULL) {
    hart_checkpoint_free (ckpt);
    g_test_fail_printf ("%s was accepted", c->file);
    g_free (path);
    return;
  }
  g_assert_nonnull (error);
  g_test_message ("%s -> [%s] %s", c->file, error_code_name (error->code),
      error->message);
  g_assert_true (error->domain == HART_ERROR);
  if (error->code != (int) c->code)
    g_test_fail_printf ("%s: code %s, expected %s (%s)", c->file,
        error_code_name (error->code), error_code_name (c->code),
        error->message);
  g_assert_cmpuint (strlen (error->message), >, 0);
  /* The message names the file (for a folder, the index or shard path
   * inside it). */
  g_assert_nonnull (strstr (error->message, c->file));
  for (guint i = 0; i < G_N_ELEMENTS (c->expected) && c->expected[i]; i++) {
    if (strstr (error->message, c->expected[i]) == NULL)
      g_test_fail_printf ("%s: message \"%s\" lacks \"%s\"", c->file,
          error->message, c->expected[i]);
  }
  g_error_free (error);
  g_free (path);
}

/* The table and the folder list the same files. */
static void
test_corpus_covered (void)
{
  GError *error = NULL;
  GDir *dir = g_dir_open (broken_dir, 0, &error);
  GHashTable *on_disk = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
  const char *name;

  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_hash_table_add (on_disk, g_strdup (name));
  g_dir_close (dir);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    if (!g_hash_table_remove (on_disk, cases[i].file))
      g_test_fail_printf ("table entry %s has no file in %s", cases[i].file,
          broken_dir);
  }
  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, on_disk);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_test_fail_printf ("%s/%s has no expected error in the table",
          broken_dir, (const char *) key);
  }
  g_hash_table_unref (on_disk);
}

int
main (int argc, char **argv)
{
  const char *fixtures;
  int result;

  g_test_init (&argc, &argv, NULL);

  fixtures = g_getenv ("HART_FIXTURES");
  if (fixtures == NULL) {
    g_printerr ("HART_FIXTURES is not set\n");
    return 77;
  }
  broken_dir = g_build_filename (fixtures, "broken", NULL);

  g_test_add_func ("/broken-files/corpus-covered", test_corpus_covered);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    char *test_path = g_strdup_printf ("/broken-files/%s", cases[i].file);

    g_test_add_data_func (test_path, &cases[i], test_broken_file);
    g_free (test_path);
  }
  result = g_test_run ();
  g_free (broken_dir);
  return result;
}
