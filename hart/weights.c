/* gst-hart — moving checkpoint tensors into backend memory
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "weights.h"
#include "error.h"

#include <stdarg.h>

struct _HartWeights
{
  HartBackend *be;
  HartCheckpoint *ckpt;
  char *prefix;
  GPtrArray *buffers;           /* device pointers */
  guint64 bytes;
  HartDType matrix_dtype;
};

HartWeights *
hart_weights_new (HartBackend * be, HartCheckpoint * ckpt, const char *prefix)
{
  HartWeights *w = g_new0 (HartWeights, 1);
  w->be = be;
  w->ckpt = ckpt;
  w->prefix = g_strdup (prefix ? prefix : "");
  w->buffers = g_ptr_array_new ();
  w->matrix_dtype = HART_DTYPE_F32;
  return w;
}

void
hart_weights_set_matrix_dtype (HartWeights * w, HartDType dtype)
{
  g_return_if_fail (dtype == HART_DTYPE_F32
      || (w->be->half_dtypes & (1u << dtype)) != 0);
  w->matrix_dtype = dtype;
}

HartDType
hart_weights_get_matrix_dtype (const HartWeights * w)
{
  return w->matrix_dtype;
}

void
hart_weights_free (HartWeights * w)
{
  if (w == NULL)
    return;
  for (guint i = 0; i < w->buffers->len; i++)
    w->be->ops->free (w->be, g_ptr_array_index (w->buffers, i));
  g_ptr_array_free (w->buffers, TRUE);
  g_free (w->prefix);
  g_free (w);
}

HartBackend *
hart_weights_backend (const HartWeights * w)
{
  return w->be;
}

guint64
hart_weights_bytes (const HartWeights * w)
{
  return w->bytes;
}

float *
hart_weights_alloc (HartWeights * w, gsize n_floats, GError ** error)
{
  float *buf = w->be->ops->alloc (w->be, n_floats * sizeof (float), error);
  if (buf == NULL)
    return NULL;
  w->be->ops->fill (w->be, buf, 0.0f, n_floats);
  g_ptr_array_add (w->buffers, buf);
  w->bytes += n_floats * sizeof (float);
  return buf;
}

/* Rounds n floats to the 16-bit type DTYPE in place: the result occupies
 * the first 2 n bytes of the buffer. */
static void
round_to_half (float *buf, gsize n, HartDType dtype)
{
  uint16_t *dst = (uint16_t *) buf;

  /* forward: element i's 2 bytes never overlap a float not yet read */
  for (gsize i = 0; i < n; i++)
    dst[i] = dtype == HART_DTYPE_BF16 ? hart_f32_to_bf16 (buf[i]) :
        hart_f32_to_f16 (buf[i]);
}

static float *
weights_get_valist (HartWeights * w, int ndim, const int64_t * shape,
    gboolean optional, HartDType dtype, GError ** error,
    const char *name_fmt, va_list args)
{
  char *suffix = g_strdup_vprintf (name_fmt, args);
  char *name = g_strconcat (w->prefix, suffix, NULL);
  const HartTensorInfo *info;
  float *host = NULL, *dev = NULL;
  guint64 n = 1;

  g_free (suffix);
  info = hart_checkpoint_lookup (w->ckpt, name);
  if (info == NULL) {
    if (!optional) {
      char buf[128];
      g_set_error (error, HART_ERROR, HART_ERROR_NOT_FOUND,
          "%s: tensor \"%s\" %s is missing", hart_checkpoint_get_path
          (w->ckpt), name, hart_shape_to_string (ndim, shape, buf, sizeof buf));
    }
    goto out;
  }
  for (int i = 0; i < ndim; i++)
    n *= (guint64) shape[i];
  host = g_try_malloc (n * sizeof (float));
  if (host == NULL) {
    g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
        "out of memory reading tensor \"%s\" (%" G_GUINT64_FORMAT " bytes)",
        name, n * sizeof (float));
    goto out;
  }
  if (!hart_checkpoint_read_f32 (w->ckpt, name, ndim, shape, host, error))
    goto out;
  /* Biases, norm weights and other vectors are scanned for NaN and Inf: a
   * bad one turns whole channels non-finite, and they are a tiny share of
   * the bytes.  Matrices are not scanned at load: the scan costs about
   * 0.3 s per GiB on a 2-core Xeon (docs/robustness.md, "Costs of the
   * checks"), a second or more for a release checkpoint, and a NaN in one
   * still cannot reach an image: generation checks the latent and the
   * decoded image. */
  if (ndim <= 1 && !hart_check_finite (host, n, error, HART_ERROR_FORMAT,
          "%s: tensor \"%s\"", hart_checkpoint_get_path (w->ckpt), name))
    goto out;
  if (dtype != HART_DTYPE_F32)
    round_to_half (host, n, dtype);
  dev = w->be->ops->alloc (w->be, n * hart_dtype_size (dtype), error);
  if (dev == NULL)
    goto out;
  w->be->ops->upload (w->be, dev, host, n * hart_dtype_size (dtype));
  g_ptr_array_add (w->buffers, dev);
  w->bytes += n * hart_dtype_size (dtype);

out:
  g_free (host);
  g_free (name);
  return dev;
}

float *
hart_weights_get (HartWeights * w, int ndim, const int64_t * shape,
    GError ** error, const char *name_fmt, ...)
{
  va_list args;
  float *r;
  va_start (args, name_fmt);
  r = weights_get_valist (w, ndim, shape, FALSE, HART_DTYPE_F32, error,
      name_fmt, args);
  va_end (args);
  return r;
}

float *
hart_weights_get_optional (HartWeights * w, int ndim, const int64_t * shape,
    GError ** error, const char *name_fmt, ...)
{
  va_list args;
  float *r;
  va_start (args, name_fmt);
  r = weights_get_valist (w, ndim, shape, TRUE, HART_DTYPE_F32, error,
      name_fmt, args);
  va_end (args);
  return r;
}

gboolean
hart_weights_get_matrix (HartWeights * w, HartMatrix * m, int out, int in,
    GError ** error, const char *name_fmt, ...)
{
  va_list args;
  const int64_t shape[2] = { out, in };

  va_start (args, name_fmt);
  m->data = weights_get_valist (w, 2, shape, FALSE, w->matrix_dtype, error,
      name_fmt, args);
  va_end (args);
  m->dtype = w->matrix_dtype;
  m->out = out;
  m->in = in;
  return m->data != NULL;
}
