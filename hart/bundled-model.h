/* gst-hart — where the bundled "shapes-64px" model is
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef HART_BUNDLED_MODEL_H
#define HART_BUNDLED_MODEL_H

#include <glib.h>

G_BEGIN_DECLS

/* Name of the model trained by the project (docs/bundled-model.md). */
#define HART_BUNDLED_MODEL_NAME "shapes-64px"

/* Environment variable that overrides where the bundled model is looked up:
 * the folder holding hart/ and Qwen2-VL-1.5B-Instruct/. */
#define HART_BUNDLED_MODEL_ENV "HART_BUNDLED_MODEL_DIR"

/* The release folder (holding llm/ and tokenizer/) of the bundled model, used
 * when no model path is given: $HART_BUNDLED_MODEL_DIR/hart when that variable
 * is set, else the installed copy (DATADIR/gst-hart/models/shapes-64px/hart),
 * else the copy in the source tree the program was built from (uninstalled
 * builds).  The text encoder is the Qwen2-VL-1.5B-Instruct folder beside it,
 * as in the release layout.  NULL (and ERROR set) when none of them has an
 * llm/config.json.  Free with g_free(). */
gchar *hart_bundled_model_path (GError ** error);

G_END_DECLS

#endif /* HART_BUNDLED_MODEL_H */
