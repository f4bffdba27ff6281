/* gst-hart — hostile model folders and context files (issue #14)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each case is a folder or file built from the tiny fixture model that
 * loaded, crashed or ran without end before the checks of hart/model.c and
 * hart/config.c: a context header claiming 64 GiB, scale lists the two
 * configs disagree on, blocks beyond "depth", a vae_path leaving the
 * folder, weights larger than the machine, JSON nested 100,000 deep.
 * docs/robustness.md lists them in its threat-model table.
 */
#include "hart/hart.h"
#include "hart/memory.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static char *
fixture_model (void)
{
  const char *fixtures = g_getenv ("HART_FIXTURES");

  return g_build_filename (fixtures, "tiny", "hart-0.7b-1024px", NULL);
}

/* A writable copy of the tiny model. */
static char *
copy_tiny (void)
{
  char *src = fixture_model ();
  char *dir = g_dir_make_tmp ("hart-hostile-XXXXXX", NULL);
  char *cmd = g_strdup_printf ("cp -r '%s/llm' '%s/tokenizer' '%s'", src,
      src, dir);

  g_assert_cmpint (system (cmd), ==, 0);
  g_free (cmd);
  g_free (src);
  return dir;
}

static void
remove_tree (const char *dir)
{
  char *cmd = g_strdup_printf ("rm -rf '%s'", dir);

  g_assert_cmpint (system (cmd), ==, 0);
  g_free (cmd);
}

/* Replaces the first FROM in DIR/FILE by TO. */
static void
patch_file (const char *dir, const char *file, const char *from, const char *to)
{
  char *path = g_build_filename (dir, file, NULL);
  char *text = NULL, *at, *patched;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  at = strstr (text, from);
  g_assert_nonnull (at);
  patched = g_strdup_printf ("%.*s%s%s", (int) (at - text), text, to,
      at + strlen (from));
  g_assert_true (g_file_set_contents (path, patched, -1, NULL));
  g_free (patched);
  g_free (text);
  g_free (path);
}

/* Loads DIR and expects an error of CODE whose message holds PART. */
static void
expect_load_error (const char *dir, int code, const char *part)
{
  GError *error = NULL;
  HartEngine *engine = hart_engine_new ("cpu", 0, &error);
  HartModel *model;

  g_assert_no_error (error);
  model = hart_model_load (engine, dir, TRUE, &error);
  g_assert_null (model);
  g_assert_error (error, HART_ERROR, code);
  if (strstr (error->message, part) == NULL)
    g_error ("\"%s\" lacks \"%s\"", error->message, part);
  g_error_free (error);
  hart_engine_unref (engine);
}

/* A safetensors file whose header claims one F32 tensor NAME of N values
 * and whose data is a hole: the file's size matches, nothing is on disk. */
static void
write_sparse_safetensors (const char *path, const char *name,
    const char *shape, guint64 n_values)
{
  char *header = g_strdup_printf ("{\"%s\": {\"dtype\": \"F32\", \"shape\": "
      "%s, \"data_offsets\": [0, %" G_GUINT64_FORMAT "]}}", name, shape,
      n_values * 4);
  guint64 length = GUINT64_TO_LE (strlen (header));
  FILE *f = fopen (path, "wb");

  g_assert_nonnull (f);
  g_assert_cmpuint (fwrite (&length, 8, 1, f), ==, 1);
  g_assert_cmpuint (fwrite (header, strlen (header), 1, f), ==, 1);
  g_assert_cmpint (fflush (f), ==, 0);
  g_assert_cmpint (ftruncate (fileno (f), (off_t) (8 + strlen (header)
              + n_values * 4)), ==, 0);
  fclose (f);
  g_free (header);
}

/* A context file claiming [64, 4096, 65536] f32 (64 GiB): refused from the
 * header, before g_new0 of that size (which aborted the process). */
static void
test_context_claims (void)
{
  char *dir = copy_tiny ();
  char *path = g_build_filename (dir, "context.safetensors", NULL);
  GError *error = NULL;
  HartEngine *engine;
  HartModel *model;

  write_sparse_safetensors (path, "context_tensor", "[64, 4096, 65536]",
      G_GUINT64_CONSTANT (64) * 4096 * 65536);
  g_assert_null (hart_context_load (path, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_LIMIT);
  g_assert_nonnull (strstr (error->message, "context [64, 4096, 65536] "
          "holds more than 67108864 values"));
  g_clear_error (&error);

  engine = hart_engine_new ("cpu", 0, &error);
  g_assert_no_error (error);
  model = hart_model_load (engine, dir, TRUE, &error);
  g_assert_no_error (error);
  g_assert_null (hart_model_load_context (model, path, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "context is [64, 4096, 65536] "
          "but the model expects [B, 12, 16]"));
  g_clear_error (&error);
  hart_model_unref (model);
  hart_engine_unref (engine);
  remove_tree (dir);
  g_free (path);
  g_free (dir);
}

static void
test_scales_disagree (void)
{
  char *dir = copy_tiny ();

  patch_file (dir, "tokenizer/config.json", "10,\n    12,", "10,\n    13,");
  expect_load_error (dir, HART_ERROR_SHAPE, "\"patch_nums\" [1, 2, 3, 4, 5, "
      "6, 7, 8, 10, 12, 16] differ from \"v_patch_nums\" [1, 2, 3, 4, 5, 6, "
      "7, 8, 10, 13, 16]");
  remove_tree (dir);
  g_free (dir);
}

/* depth 1 over weights of 2 blocks: block 1 was silently ignored. */
static void
test_extra_blocks (void)
{
  char *dir = copy_tiny ();

  patch_file (dir, "llm/config.json", "\"depth\": 2,", "\"depth\": 1,");
  expect_load_error (dir, HART_ERROR_SHAPE, "but config \"depth\" is 1 "
      "(blocks 0 to 0)");
  remove_tree (dir);
  g_free (dir);

  dir = copy_tiny ();
  patch_file (dir, "llm/config.json", "\"diff_depth\": 2,",
      "\"diff_depth\": 1,");
  expect_load_error (dir, HART_ERROR_SHAPE, "\"diff_depth\" is 1");
  remove_tree (dir);
  g_free (dir);
}

static void
test_vae_path (void)
{
  static const char *const leaving[] = {
    "\"/etc\"", "\"../../tokenizer\"", "\"sub/../../../x\"", "\"~/t\"",
  };
  char *dir;
  GError *error = NULL;
  HartEngine *engine;
  HartModel *model;

  for (gsize i = 0; i < G_N_ELEMENTS (leaving); i++) {
    char *value = g_strdup_printf ("\"vae_path\": %s", leaving[i]);
    dir = copy_tiny ();
    patch_file (dir, "llm/config.json", "\"vae_path\": null", value);
    expect_load_error (dir, HART_ERROR_FORBIDDEN, "which leaves the model "
        "folder");
    remove_tree (dir);
    g_free (dir);
    g_free (value);
  }
  /* inside the folder: followed */
  dir = copy_tiny ();
  patch_file (dir, "llm/config.json", "\"vae_path\": null",
      "\"vae_path\": \"./../tokenizer\"");
  engine = hart_engine_new ("cpu", 0, &error);
  model = hart_model_load (engine, dir, TRUE, &error);
  g_assert_no_error (error);
  hart_model_unref (model);
  hart_engine_unref (engine);
  remove_tree (dir);
  g_free (dir);
}

/* Weights claiming 1 TiB (a sparse file): with no budget set, the machine's
 * memory is the budget and the load is refused with the estimate. */
static void
test_default_budget (void)
{
  char *dir = copy_tiny ();
  char *weights = g_build_filename (dir, "llm", "model.safetensors", NULL);
  char *ema = g_build_filename (dir, "llm", "ema_model.bin", NULL);
  char *budget = g_strdup (g_getenv (HART_MEMORY_BUDGET_ENV));

  g_assert_cmpuint (hart_memory_machine_bytes (), >, 0);
  g_remove (ema);
  write_sparse_safetensors (weights, "pos_1LC", "[274877906944]",
      G_GUINT64_CONSTANT (1) << 38);
  g_unsetenv (HART_MEMORY_BUDGET_ENV);
  expect_load_error (dir, HART_ERROR_LIMIT, "but the memory budget (the "
      "machine's memory; set HART_MEMORY_BUDGET to change it)");
  if (budget)
    g_setenv (HART_MEMORY_BUDGET_ENV, budget, TRUE);
  remove_tree (dir);
  g_free (budget);
  g_free (weights);
  g_free (ema);
  g_free (dir);
}

/* 100,000 nested arrays in each config.json: a SIGSEGV before. */
static void
test_deep_json (void)
{
  static const char *const configs[] = {
    "llm/config.json", "tokenizer/config.json"
  };

  for (gsize i = 0; i < G_N_ELEMENTS (configs); i++) {
    char *dir = copy_tiny ();
    char *path = g_build_filename (dir, configs[i], NULL);
    GString *deep = g_string_new ("{\"a\": ");

    for (int d = 0; d < 100000; d++)
      g_string_append_c (deep, '[');
    g_assert_true (g_file_set_contents (path, deep->str, -1, NULL));
    expect_load_error (dir, HART_ERROR_LIMIT, "config.json: nests arrays "
        "and objects deeper than 32 levels");
    g_string_free (deep, TRUE);
    remove_tree (dir);
    g_free (path);
    g_free (dir);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("HART_FIXTURES") == NULL) {
    g_test_skip ("HART_FIXTURES is not set");
    return g_test_run ();
  }
  g_test_add_func ("/hostile-model/context-claims", test_context_claims);
  g_test_add_func ("/hostile-model/scales-disagree", test_scales_disagree);
  g_test_add_func ("/hostile-model/extra-blocks", test_extra_blocks);
  g_test_add_func ("/hostile-model/vae-path", test_vae_path);
  g_test_add_func ("/hostile-model/default-budget", test_default_budget);
  g_test_add_func ("/hostile-model/deep-json", test_deep_json);
  return g_test_run ();
}
