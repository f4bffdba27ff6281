/* gst-hart — process-wide cache of engines, models and text encoders
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthartcache.h"

#include <gst/gst.h>
#include <string.h>

GST_DEBUG_CATEGORY_EXTERN (gst_hart_debug);
#define GST_CAT_DEFAULT gst_hart_debug

typedef struct
{
  gchar *kind;                  /* "engine", "model", "text-encoder" */
  gchar *key;
  gpointer object;
  GDestroyNotify destroy;
  guint users;
} CacheEntry;

static GMutex cache_lock;
static GHashTable *entries_by_key;      /* key → CacheEntry (owned) */
static GHashTable *entries_by_object;   /* object → CacheEntry */

static void
cache_entry_free (CacheEntry * entry)
{
  entry->destroy (entry->object);
  g_free (entry->kind);
  g_free (entry->key);
  g_free (entry);
}

/* With the cache lock held: the entry of KEY with one more user, or NULL. */
static gpointer
cache_lookup_locked (const gchar * key)
{
  CacheEntry *entry;

  if (entries_by_key == NULL) {
    entries_by_key = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
        (GDestroyNotify) cache_entry_free);
    entries_by_object = g_hash_table_new (g_direct_hash, g_direct_equal);
  }
  entry = g_hash_table_lookup (entries_by_key, key);
  if (entry == NULL)
    return NULL;
  entry->users++;
  GST_DEBUG ("sharing %s %s (%u users)", entry->kind, key, entry->users);
  return entry->object;
}

static void
cache_insert_locked (const gchar * kind, const gchar * key, gpointer object,
    GDestroyNotify destroy)
{
  CacheEntry *entry = g_new0 (CacheEntry, 1);

  entry->kind = g_strdup (kind);
  entry->key = g_strdup (key);
  entry->object = object;
  entry->destroy = destroy;
  entry->users = 1;
  g_hash_table_insert (entries_by_key, entry->key, entry);
  g_hash_table_insert (entries_by_object, object, entry);
  GST_INFO ("loaded %s %s", kind, key);
}

HartEngine *
gst_hart_cache_acquire_engine (const gchar * device, gint device_id,
    GError ** error)
{
  gchar *key = g_strdup_printf ("engine|%s|%d", device, device_id);
  HartEngine *engine;

  g_mutex_lock (&cache_lock);
  engine = cache_lookup_locked (key);
  if (engine == NULL) {
    engine = hart_engine_new (device, device_id, error);
    if (engine != NULL)
      cache_insert_locked ("engine", key, engine,
          (GDestroyNotify) hart_engine_unref);
  }
  g_mutex_unlock (&cache_lock);
  g_free (key);
  return engine;
}

HartModel *
gst_hart_cache_acquire_model (HartEngine * engine, const gchar * model_dir,
    GError ** error)
{
  gchar *dir = g_canonicalize_filename (model_dir, NULL);
  gchar *key = g_strdup_printf ("model|%s|%s",
      hart_engine_get_device (engine), dir);
  HartModel *model;

  g_mutex_lock (&cache_lock);
  model = cache_lookup_locked (key);
  if (model == NULL) {
    model = hart_model_load (engine, dir, TRUE, error);
    if (model != NULL)
      cache_insert_locked ("model", key, model,
          (GDestroyNotify) hart_model_unref);
  }
  g_mutex_unlock (&cache_lock);
  g_free (key);
  g_free (dir);
  return model;
}

HartTextEncoder *
gst_hart_cache_acquire_text_encoder (HartEngine * engine,
    const gchar * qwen_dir, const gchar * tokenizer_dir, GError ** error)
{
  gchar *dir = g_canonicalize_filename (qwen_dir, NULL);
  gchar *tok = tokenizer_dir ? g_canonicalize_filename (tokenizer_dir,
      NULL) : NULL;
  gchar *key = g_strdup_printf ("text-encoder|%s|%s|%s",
      hart_engine_get_device (engine), dir, tok ? tok : "");
  HartTextEncoder *encoder;

  g_mutex_lock (&cache_lock);
  encoder = cache_lookup_locked (key);
  if (encoder == NULL) {
    encoder = hart_text_encoder_load (engine, dir, tok, error);
    if (encoder != NULL)
      cache_insert_locked ("text-encoder", key, encoder,
          (GDestroyNotify) hart_text_encoder_free);
  }
  g_mutex_unlock (&cache_lock);
  g_free (key);
  g_free (tok);
  g_free (dir);
  return encoder;
}

void
gst_hart_cache_release (gpointer object)
{
  CacheEntry *entry;

  if (object == NULL)
    return;
  g_mutex_lock (&cache_lock);
  entry = entries_by_object ? g_hash_table_lookup (entries_by_object,
      object) : NULL;
  if (entry == NULL) {
    g_mutex_unlock (&cache_lock);
    g_critical ("gst_hart_cache_release: %p was not acquired", object);
    return;
  }
  if (--entry->users == 0) {
    GST_INFO ("freeing %s %s", entry->kind, entry->key);
    g_hash_table_remove (entries_by_object, object);
    /* frees the entry and its object */
    g_hash_table_remove (entries_by_key, entry->key);
    if (g_hash_table_size (entries_by_key) == 0) {
      g_clear_pointer (&entries_by_key, g_hash_table_destroy);
      g_clear_pointer (&entries_by_object, g_hash_table_destroy);
    }
  }
  g_mutex_unlock (&cache_lock);
}

guint
gst_hart_cache_count (const gchar * kind, guint * n_users)
{
  GHashTableIter iter;
  CacheEntry *entry;
  guint count = 0, users = 0;

  g_mutex_lock (&cache_lock);
  if (entries_by_key != NULL) {
    g_hash_table_iter_init (&iter, entries_by_key);
    while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & entry)) {
      if (strcmp (entry->kind, kind) == 0) {
        count++;
        users += entry->users;
      }
    }
  }
  g_mutex_unlock (&cache_lock);
  if (n_users)
    *n_users = users;
  return count;
}

const GstHartCacheHooks gst_hart_cache_hooks = {
  gst_hart_cache_acquire_engine,
  gst_hart_cache_acquire_model,
  gst_hart_cache_acquire_text_encoder,
  gst_hart_cache_release,
  gst_hart_cache_count,
};
