/* gst-hart — where the bundled "shapes-64px" model is
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/* HART_BUNDLED_MODEL_{INSTALLED,SOURCE}_DIR come from hart/meson.build */

#include "hart/bundled-model.h"
#include "hart/error.h"

static gboolean
has_release_layout (const gchar * release)
{
  gchar *config = g_build_filename (release, "llm", "config.json", NULL);
  gboolean ok = g_file_test (config, G_FILE_TEST_IS_REGULAR);

  g_free (config);
  return ok;
}

gchar *
hart_bundled_model_path (GError ** error)
{
  const gchar *env = g_getenv (HART_BUNDLED_MODEL_ENV);
  /* the installed copy first: an installed program must not depend on the
   * tree it was built in; the source copy serves uninstalled builds */
  const gchar *const places[] = { HART_BUNDLED_MODEL_INSTALLED_DIR,
    HART_BUNDLED_MODEL_SOURCE_DIR
  };
  gchar *release;

  if (env && env[0]) {
    release = g_build_filename (env, "hart", NULL);
    if (has_release_layout (release))
      return release;
    g_set_error (error, HART_ERROR, HART_ERROR_NOT_FOUND,
        "%s=%s: no bundled model there (expected %s/llm/config.json)",
        HART_BUNDLED_MODEL_ENV, env, release);
    g_free (release);
    return NULL;
  }
  for (guint i = 0; i < G_N_ELEMENTS (places); i++) {
    release = g_build_filename (places[i], "hart", NULL);
    if (has_release_layout (release))
      return release;
    g_free (release);
  }
  g_set_error (error, HART_ERROR, HART_ERROR_NOT_FOUND,
      "no model path given and the bundled model \"%s\" is not installed "
      "(looked in %s and %s)", HART_BUNDLED_MODEL_NAME,
      HART_BUNDLED_MODEL_INSTALLED_DIR, HART_BUNDLED_MODEL_SOURCE_DIR);
  return NULL;
}
