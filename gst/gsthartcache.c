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
  gpointer object;              /* NULL while loading */
  GDestroyNotify destroy;
  guint users;                  /* acquires not yet released */
  guint waiters;                /* acquires waiting for the load */
  gboolean failed;              /* the load failed: waiters load anew */
} CacheEntry;

/* Guards the tables and every entry's fields; never held while an object
 * loads, so an element loading one model does not stall another that
 * wants something else (another model, or an engine). */
static GMutex cache_lock;
/* Signalled when a load ends, whichever entry it was. */
static GCond cache_loaded;
static GHashTable *entries_by_key;      /* key → CacheEntry (owned) */
static GHashTable *entries_by_object;   /* object → CacheEntry */

static void
cache_entry_free (CacheEntry * entry)
{
  if (entry->object)
    entry->destroy (entry->object);
  g_free (entry->kind);
  g_free (entry->key);
  g_free (entry);
}

static void
cache_tables_ensure_locked (void)
{
  if (entries_by_key == NULL) {
    entries_by_key = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
        (GDestroyNotify) cache_entry_free);
    entries_by_object = g_hash_table_new (g_direct_hash, g_direct_equal);
  }
}

static void
cache_tables_drop_if_empty_locked (void)
{
  if (entries_by_key != NULL && g_hash_table_size (entries_by_key) == 0) {
    g_clear_pointer (&entries_by_key, g_hash_table_destroy);
    g_clear_pointer (&entries_by_object, g_hash_table_destroy);
  }
}

typedef gpointer (*CacheLoadFunc) (gpointer data, GError ** error);

/* The object of KEY with one more user.  When nobody has it, LOAD (DATA)
 * makes it, outside the lock: a second acquire of the same key waits for
 * that load (and shares its object) instead of starting its own; if the
 * load fails, each waiter tries for itself and gets its own error. */
static gpointer
cache_acquire (const gchar * kind, const gchar * key, CacheLoadFunc load,
    gpointer data, GDestroyNotify destroy, GError ** error)
{
  CacheEntry *entry;
  gpointer object;

  g_mutex_lock (&cache_lock);
  for (;;) {
    cache_tables_ensure_locked ();
    entry = g_hash_table_lookup (entries_by_key, key);
    if (entry == NULL)
      break;
    if (entry->object != NULL) {
      entry->users++;
      GST_DEBUG ("sharing %s %s (%u users)", kind, key, entry->users);
      object = entry->object;
      g_mutex_unlock (&cache_lock);
      return object;
    }
    /* being loaded by someone else */
    entry->waiters++;
    while (entry->object == NULL && !entry->failed)
      g_cond_wait (&cache_loaded, &cache_lock);
    entry->waiters--;
    if (entry->failed && entry->waiters == 0)
      /* out of the tables already; the last waiter frees it */
      cache_entry_free (entry);
    /* look again: shared now, or load it ourselves */
  }

  entry = g_new0 (CacheEntry, 1);
  entry->kind = g_strdup (kind);
  entry->key = g_strdup (key);
  entry->destroy = destroy;
  g_hash_table_insert (entries_by_key, entry->key, entry);
  g_mutex_unlock (&cache_lock);

  GST_DEBUG ("loading %s %s", kind, key);
  object = load (data, error);

  g_mutex_lock (&cache_lock);
  if (object != NULL) {
    entry->object = object;
    entry->users = 1;
    g_hash_table_insert (entries_by_object, object, entry);
    GST_INFO ("loaded %s %s", kind, key);
  } else if (entry->waiters > 0) {
    /* out of the table, so that the next acquire loads anew; the waiters
     * free it */
    entry->failed = TRUE;
    g_hash_table_steal (entries_by_key, key);
    cache_tables_drop_if_empty_locked ();
  } else {
    g_hash_table_remove (entries_by_key, key);
    cache_tables_drop_if_empty_locked ();
  }
  g_cond_broadcast (&cache_loaded);
  g_mutex_unlock (&cache_lock);
  return object;
}

typedef struct
{
  const gchar *device;
  gint device_id, n_threads;
  HartPrecision precision;
  HartEngine *engine;
  const gchar *dir, *tokenizer_dir;
} CacheLoad;

static gpointer
load_engine (gpointer data, GError ** error)
{
  CacheLoad *l = data;
  return hart_engine_new_with_precision (l->device, l->device_id,
      l->n_threads, l->precision, error);
}

static gpointer
load_model (gpointer data, GError ** error)
{
  CacheLoad *l = data;
  return hart_model_load (l->engine, l->dir, TRUE, error);
}

static gpointer
load_text_encoder (gpointer data, GError ** error)
{
  CacheLoad *l = data;
  return hart_text_encoder_load (l->engine, l->dir, l->tokenizer_dir, error);
}

HartEngine *
gst_hart_cache_acquire_engine (const gchar * device, gint device_id,
    gint n_threads, HartPrecision precision, GError ** error)
{
  gchar *key = g_strdup_printf ("engine|%s|%d|%d|%s", device, device_id,
      n_threads, hart_precision_to_string (precision));
  CacheLoad l = {.device = device,.device_id = device_id,.n_threads =
        n_threads,.precision = precision
  };
  HartEngine *engine;

  engine = cache_acquire ("engine", key, load_engine, &l,
      (GDestroyNotify) hart_engine_unref, error);
  g_free (key);
  return engine;
}

HartModel *
gst_hart_cache_acquire_model (HartEngine * engine, const gchar * model_dir,
    GError ** error)
{
  gchar *dir = g_canonicalize_filename (model_dir, NULL);
  /* engines of one device with different thread counts or precisions are
   * different engines: each has its own copy (in its precision) */
  gchar *key = g_strdup_printf ("model|%s|%d|%s|%s",
      hart_engine_get_device (engine), hart_engine_get_n_threads (engine),
      hart_precision_to_string (hart_engine_get_precision (engine)), dir);
  CacheLoad l = {.engine = engine,.dir = dir };
  HartModel *model;

  model = cache_acquire ("model", key, load_model, &l,
      (GDestroyNotify) hart_model_unref, error);
  g_free (key);
  g_free (dir);
  return model;
}

HartTextEncoder *
gst_hart_cache_acquire_text_encoder (HartEngine * engine,
    const gchar * qwen_dir, const gchar * tokenizer_dir, GError ** error)
{
  gchar *dir = g_canonicalize_filename (qwen_dir, NULL);
  /* NULL resolved here as the loader would, so that a caller naming the
   * folder and one leaving it NULL share one entry */
  gchar *found = tokenizer_dir ? NULL : hart_text_encoder_tokenizer_dir (dir);
  gchar *tok = g_canonicalize_filename (tokenizer_dir ? tokenizer_dir : found,
      NULL);
  gchar *key = g_strdup_printf ("text-encoder|%s|%d|%s|%s|%s",
      hart_engine_get_device (engine), hart_engine_get_n_threads (engine),
      hart_precision_to_string (hart_engine_get_precision (engine)), dir,
      tok);
  CacheLoad l = {.engine = engine,.dir = dir,.tokenizer_dir = tok };
  HartTextEncoder *encoder;

  encoder = cache_acquire ("text-encoder", key, load_text_encoder, &l,
      (GDestroyNotify) hart_text_encoder_free, error);
  g_free (key);
  g_free (tok);
  g_free (found);
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
      if (entry->object != NULL && strcmp (entry->kind, kind) == 0) {
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
