/* gst-hart — process-wide cache of engines, models and text encoders
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two elements of one process that name the same device, or the same model
 * folder on the same device, share one loaded copy (docs/elements.md, "Models and files").  Every
 * acquire is matched by one gst_hart_cache_release (); the last release
 * frees the object.  All functions are thread-safe.  A load runs outside
 * the cache's lock: a second element asking for the same object waits for
 * the first load instead of starting its own, and one asking for anything
 * else is not held up by it.
 */
#ifndef GST_HART_CACHE_H
#define GST_HART_CACHE_H

#include <glib.h>
#include "hart/hart.h"
#include "hart/text-encoder.h"

G_BEGIN_DECLS

/* DEVICE: "auto", "cpu" or "cuda"; N_THREADS: the engine's CPU threads (0:
 * every core); PRECISION as asked for (AUTO included).  Keyed by all
 * four. */
HartEngine *gst_hart_cache_acquire_engine (const gchar * device,
    gint device_id, gint n_threads, HartPrecision precision, GError ** error);

/* Keyed by (engine's device, threads and precision, canonical MODEL_DIR). */
HartModel *gst_hart_cache_acquire_model (HartEngine * engine,
    const gchar * model_dir, GError ** error);

/* Keyed by (engine's device, threads and precision, canonical QWEN_DIR,
 * canonical tokenizer folder: TOKENIZER_DIR, or for NULL the one
 * hart_text_encoder_tokenizer_dir finds). */
HartTextEncoder *gst_hart_cache_acquire_text_encoder (HartEngine * engine,
    const gchar * qwen_dir, const gchar * tokenizer_dir, GError ** error);

/* Releases one use of an object returned by an acquire function (NULL is
 * ignored). */
void gst_hart_cache_release (gpointer object);

/* For tests and debugging: how many distinct objects of KIND ("engine",
 * "model", "text-encoder") are loaded now, and how many uses they have in
 * all (N_USERS may be NULL). */
guint gst_hart_cache_count (const gchar * kind, guint * n_users);

/* The functions above, for the element tests, which must reach the very
 * cache the loaded plugin uses: the plugin exports no symbol but
 * GStreamer's entry point (docs/architecture.md, "Layers"), so plugin_init
 * attaches this table to the GstPlugin object as
 * GST_HART_CACHE_HOOKS_KEY, where g_object_get_data finds it. */
#define GST_HART_CACHE_HOOKS_KEY "gst-hart-cache-hooks"

typedef struct
{
  HartEngine *(*acquire_engine) (const gchar * device, gint device_id,
      gint n_threads, HartPrecision precision, GError ** error);
  HartModel *(*acquire_model) (HartEngine * engine, const gchar * model_dir,
      GError ** error);
  HartTextEncoder *(*acquire_text_encoder) (HartEngine * engine,
      const gchar * qwen_dir, const gchar * tokenizer_dir, GError ** error);
  void (*release) (gpointer object);
  guint (*count) (const gchar * kind, guint * n_users);
} GstHartCacheHooks;

extern const GstHartCacheHooks gst_hart_cache_hooks;

G_END_DECLS
#endif /* GST_HART_CACHE_H */
