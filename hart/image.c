/* gst-hart — output images: decoder output → 8-bit RGB
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "hart.h"
#include "model-private.h"

#include <math.h>

void
hart_image_free (HartImage * image)
{
  if (image == NULL)
    return;
  g_free (image->rgb);
  g_free (image);
}

void
hart_images_free (HartImage ** images)
{
  if (images == NULL)
    return;
  for (int i = 0; images[i]; i++)
    hart_image_free (images[i]);
  g_free (images);
}

HartImage **
hart_images_from_device (HartBackend * be, const float *img, int batch, int W,
    int H, float *host, GError ** error)
{
  const gsize plane = (gsize) W * H;
  const gsize n = (gsize) batch * 3 * plane;
  float *own = NULL;
  HartImage **images;
  gsize first_bad;

  if (host == NULL && (host = own = g_try_new (float, n)) == NULL) {
    g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
        "out of memory for %d output images", batch);
    return NULL;
  }
  if (host != img)
    be->ops->download (be, host, img, n * sizeof (float));
  /* One vectorised pass (hart_find_non_finite) rather than a test in the
   * per-pixel loop below; counted only when there is something to report. */
  first_bad = hart_find_non_finite (host, n);
  if (first_bad < n) {
    gsize n_bad = 0;

    for (gsize i = first_bad; i < n; i++)
      n_bad += !isfinite (host[i]);
    /* The latent was finite (checked before decoding): the decoder made
     * these, from damaged weights or an overflow.  A black or speckled
     * frame must not pass for an image. */
    g_set_error (error, HART_ERROR, HART_ERROR_NUMERIC,
        "the decoded image holds %" G_GSIZE_FORMAT " non-finite values "
        "(%s at element %" G_GSIZE_FORMAT " of [%d, 3, %d, %d]); the "
        "decoder's weights are probably damaged", n_bad,
        hart_non_finite_name (host[first_bad]), first_bad, batch, H, W);
    g_free (own);
    return NULL;
  }
  images = g_new0 (HartImage *, batch + 1);
  for (int b = 0; b < batch; b++) {
    HartImage *im = g_new0 (HartImage, 1);
    im->width = W;
    im->height = H;
    im->stride = 3 * W;
    im->rgb = g_new (guint8, (gsize) 3 * plane);
    for (int c = 0; c < 3; c++) {
      const float *src = host + ((gsize) b * 3 + c) * plane;
      for (gsize i = 0; i < plane; i++) {
        /* uint8 = trunc(255 · (x + 1) · 0.5), as the official script.  The
         * comparisons are written so that NaN gives 0 and ±Inf clamps: the
         * conversion is defined for every float. */
        const float v = (src[i] + 1.0f) * 0.5f * 255.0f;
        im->rgb[i * 3 + c] = v > 0.0f ? (v < 255.0f ? (guint8) v : 255) : 0;
      }
    }
    images[b] = im;
  }
  g_free (own);
  return images;
}
