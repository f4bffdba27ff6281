/* gst-hart — the op-test harness: checks of a backend that are not op calls
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Creation and refusal of backends, the completeness of the op table, and
 * the memory entries' contracts (bit-exact round trips, zero-byte and
 * impossible allocations).  The copy, fill and copy_2d ops themselves are
 * op cases (op-cases.c).
 */
#include "op-harness.h"

#include <math.h>
#include <string.h>

#define FAIL(...) G_STMT_START {                                        \
    g_string_append_printf (msg, __VA_ARGS__);                          \
    return FALSE;                                                       \
  } G_STMT_END

/* hart_backend_new ("cpu"): thread counts, and a negative one refused. */
static gboolean
check_backend_new (HartBackend * unused, const char *name, GString * msg)
{
  GError *error = NULL;
  HartBackend *be = hart_backend_new ("cpu", 0, 0, &error);
  int n_threads;

  if (be == NULL || strcmp (be->ops->name, "cpu") != 0 || be->n_threads < 1)
    FAIL ("cpu backend with every core: %s", error ? error->message :
        "wrong name or thread count");
  hart_backend_free (be);
  be = hart_backend_new ("cpu", 0, 3, &error);
  n_threads = be ? be->n_threads : -1;
  hart_backend_free (be);
  if (n_threads != 3)
    FAIL ("cpu backend asked for 3 threads has %d", n_threads);
  be = hart_backend_cpu_new (-1, &error);
  if (be != NULL || !g_error_matches (error, HART_BACKEND_ERROR,
          HART_BACKEND_ERROR_UNAVAILABLE)) {
    hart_backend_free (be);
    g_clear_error (&error);
    FAIL ("cpu backend with -1 threads is not refused as UNAVAILABLE");
  }
  g_clear_error (&error);
  return TRUE;
}

/* Without a GPU the refusal is UNAVAILABLE with a clear message; with one,
 * a device id past the end is refused naming the id. */
static gboolean
check_cuda_refusal (HartBackend * unused, const char *name, GString * msg)
{
  GError *error = NULL;
  HartBackend *be = hart_backend_new ("cuda", 0, 0, &error);
  gboolean ok;

  if (be == NULL) {
    ok = g_error_matches (error, HART_BACKEND_ERROR,
        HART_BACKEND_ERROR_UNAVAILABLE)
        && g_str_has_prefix (error->message, "no usable CUDA device: ");
    if (!ok)
      g_string_append_printf (msg, "refusal is not UNAVAILABLE \"no usable "
          "CUDA device: …\": %s", error ? error->message : "no error");
    g_clear_error (&error);
    return ok;
  }
  hart_backend_free (be);
  be = hart_backend_new ("cuda", 9999, 0, &error);
  ok = be == NULL && g_error_matches (error, HART_BACKEND_ERROR,
      HART_BACKEND_ERROR_UNAVAILABLE) && strstr (error->message, "9999");
  if (!ok)
    g_string_append_printf (msg, "device 9999 not refused naming the id: %s",
        error ? error->message : "accepted");
  hart_backend_free (be);
  g_clear_error (&error);
  return ok;
}

/* The slots a backend may leave NULL: the half-precision ones, which the
 * model code calls only when half_dtypes says the backend has them
 * (hart/matrix.c, docs/precision.md). */
static const gsize optional_slots[] = {
  G_STRUCT_OFFSET (HartBackendOps, init_half),
  G_STRUCT_OFFSET (HartBackendOps, linear_half),
  G_STRUCT_OFFSET (HartBackendOps, attention_half),
  G_STRUCT_OFFSET (HartBackendOps, to_half_heads),
  G_STRUCT_OFFSET (HartBackendOps, conv2d_half),
  G_STRUCT_OFFSET (HartBackendOps, group_norm_silu_half),
};

static gboolean
slot_is_optional (gsize offset)
{
  for (gsize i = 0; i < G_N_ELEMENTS (optional_slots); i++)
    if (optional_slots[i] == offset)
      return TRUE;
  return FALSE;
}

/* Every slot of the table is set (the model code calls them blindly), but
 * the optional ones; those are set together or not at all. */
static gboolean
check_op_table (HartBackend * be, const char *name, GString * msg)
{
  const gpointer *slot = (const gpointer *) be->ops;
  gsize n_slots = sizeof *be->ops / sizeof (gpointer);
  gsize n_optional = 0;

  if (be->ops->name == NULL)
    FAIL ("the op table has no name");
  for (gsize i = 1; i < n_slots; i++) {
    if (slot_is_optional (i * sizeof (gpointer)))
      n_optional += slot[i] != NULL;
    else if (slot[i] == NULL)
      FAIL ("op table slot %" G_GSIZE_FORMAT " is NULL", i);
  }
  if (n_optional != 0 && n_optional != G_N_ELEMENTS (optional_slots))
    FAIL ("%" G_GSIZE_FORMAT " of the %" G_GSIZE_FORMAT " half-precision "
        "slots are set: all or none", n_optional,
        G_N_ELEMENTS (optional_slots));
  return TRUE;
}

/* The backend's host memory (alloc_host: page-locked on CUDA) comes
 * zeroed, and upload from it → download into another is bit-exact, also
 * through an offset into it; zero bytes are valid and freeable. */
static gboolean
check_host_memory (HartBackend * be, const float *host, gsize bytes,
    GString * msg)
{
  GError *error = NULL;
  const gsize n = bytes / sizeof (float);
  float *src = be->ops->alloc_host (be, bytes, &error);
  float *dst = src ? be->ops->alloc_host (be, bytes, &error) : NULL;
  void *dev = dst ? be->ops->alloc (be, bytes, &error) : NULL;
  gboolean zeroed = TRUE, same;

  if (dev == NULL) {
    g_string_append_printf (msg, "alloc_host: %s", error->message);
    g_clear_error (&error);
    be->ops->free_host (be, src);
    be->ops->free_host (be, dst);
    return FALSE;
  }
  for (gsize i = 0; i < n; i++)
    zeroed = zeroed && src[i] == 0.0f && dst[i] == 0.0f;
  memcpy (src, host, bytes);
  be->ops->upload (be, dev, src, bytes);
  be->ops->download (be, dst, dev, bytes / 2);
  be->ops->download (be, dst + n / 2, (float *) dev + n / 2, bytes - bytes / 2);
  if (!be->ops->synchronize (be, &error)) {
    g_string_append_printf (msg, "synchronize: %s", error->message);
    g_clear_error (&error);
  }
  same = memcmp (dst, host, bytes) == 0;
  be->ops->free (be, dev);
  be->ops->free_host (be, src);
  be->ops->free_host (be, dst);
  if (msg->len > 0)
    return FALSE;
  if (!zeroed)
    FAIL ("alloc_host gave memory that is not zeroed");
  if (!same)
    FAIL ("upload from alloc_host memory, download into it is not "
        "bit-exact");
  src = be->ops->alloc_host (be, 0, &error);
  if (src == NULL) {
    g_string_append_printf (msg, "zero-byte alloc_host: %s",
        error ? error->message : "NULL without an error");
    g_clear_error (&error);
    return FALSE;
  }
  be->ops->free_host (be, src);
  return TRUE;
}

/* upload → copy → download is bit-exact; zero-byte allocations are valid
 * and freeable. */
static gboolean
check_memory (HartBackend * be, const char *name, GString * msg)
{
  GError *error = NULL;
  float host[1000], back[1000];
  void *a, *b;
  gboolean same;

  for (int i = 0; i < 1000; i++)
    host[i] = (float) sin (i * 0.37) * 3.0f;
  /* −0 and a denormal must survive too */
  host[7] = -0.0f;
  host[8] = 1e-40f;
  a = be->ops->alloc (be, sizeof host, &error);
  b = a ? be->ops->alloc (be, sizeof host, &error) : NULL;
  if (b == NULL) {
    be->ops->free (be, a);
    g_string_append_printf (msg, "alloc: %s", error->message);
    g_clear_error (&error);
    return FALSE;
  }
  be->ops->upload (be, a, host, sizeof host);
  be->ops->copy (be, b, a, sizeof host);
  be->ops->download (be, back, b, sizeof back);
  if (!be->ops->synchronize (be, &error)) {
    g_string_append_printf (msg, "synchronize: %s", error->message);
    g_clear_error (&error);
  }
  same = memcmp (back, host, sizeof host) == 0;
  be->ops->free (be, a);
  be->ops->free (be, b);
  if (msg->len > 0)
    return FALSE;
  if (!same)
    FAIL ("upload, copy, download is not bit-exact");

  a = be->ops->alloc (be, 0, &error);
  if (error != NULL) {
    g_string_append_printf (msg, "zero-byte alloc: %s", error->message);
    g_clear_error (&error);
    return FALSE;
  }
  be->ops->free (be, a);
  return check_host_memory (be, host, sizeof host, msg);
}

/* An impossible allocation fails with OUT_OF_MEMORY naming the size, not
 * an abort, and leaves no sticky device error behind. */
static gboolean
check_out_of_memory (HartBackend * be, const char *name, GString * msg)
{
  GError *error = NULL;
  /* more than any machine has; CUDA's allocator takes sizes up to 2^50 */
  const gsize huge = strcmp (name, "cuda") == 0 ? (gsize) 1 << 50 :
      (gsize) 1 << 60;
  char *bytes = g_strdup_printf ("%" G_GSIZE_FORMAT, huge);
  void *ptr = be->ops->alloc (be, huge, &error);
  gboolean ok = ptr == NULL && g_error_matches (error, HART_BACKEND_ERROR,
      HART_BACKEND_ERROR_OUT_OF_MEMORY) && strstr (error->message, bytes);

  if (ok && strcmp (name, "cuda") == 0) {
    char *prefix = g_strdup_printf ("CUDA out of memory: asked for %s bytes",
        bytes);
    ok = g_str_has_prefix (error->message, prefix);
    g_free (prefix);
  }
  if (!ok)
    g_string_append_printf (msg, "alloc of %s bytes: %s", bytes,
        error ? error->message : "succeeded");
  if (ptr != NULL)
    be->ops->free (be, ptr);
  g_clear_error (&error);
  if (ok && !be->ops->synchronize (be, &error)) {
    g_string_append_printf (msg, "sticky error after the refusal: %s",
        error->message);
    g_clear_error (&error);
    ok = FALSE;
  }
  g_free (bytes);
  return ok;
}

/* A row of a product has the same bits whatever the number of rows
 * computed with it, and an image of a convolution the same bits whatever
 * the batch (the CPU backend's promise, kernels/cpu/cpu-gemm.c and
 * cpu-image.c): what makes a batch of frames the bytes of the frames made
 * one by one.  Each shape is computed with 2 … 80 rows, on 2 and 3
 * threads; every row must equal the same row computed alone.  The tiny
 * shapes are where OpenBLAS's small-matrix and direct kernels would break
 * it (the alone call is padded past them, larger row counts are not). */
/* The first of N_UNITS units of UNIT floats where GOT and WANT differ in
 * bits, or −1. */
static int
first_unit_differing (const float *got, const float *want, int n_units,
    gsize unit)
{
  for (int i = 0; i < n_units; i++)
    if (memcmp (got + i * unit, want + i * unit, unit * sizeof (float)) != 0)
      return i;
  return -1;
}

/* y [m, n] by FORM from rows of x [.., k] (xt: the same rows transposed,
 * leading dimension LDT): 0, linear x·Wᵀ + bias; 1, gemm x·Wᵀ (W stored
 * n×k); 2, gemm x·W (W stored k×n, the product OpenBLAS's direct kernel
 * takes); 3, gemm (xᵀ)ᵀ·Wᵀ (both operands transposed, as the decoder's
 * attention asks). */
static void
run_form (HartBackend * be, int form, float *y, const float *x,
    const float *xt, int ldt, const float *w, const float *bias, int m, int k,
    int n)
{
  if (form == 0)
    be->ops->linear (be, y, x, w, bias, m, k, n);
  else if (form == 3)
    be->ops->gemm (be, TRUE, TRUE, m, n, k, 1.0f, xt, ldt, w, k, 0.0f, y, n);
  else
    be->ops->gemm (be, FALSE, form == 1, m, n, k, 1.0f, x, k, w,
        form == 1 ? k : n, 0.0f, y, n);
}

/* Shape (k, n), seeded by S: the four forms, each with every count of
 * ROW_COUNTS rows (at most MAX_ROWS), against every row computed alone. */
static gboolean
rows_invariant_shape (HartBackend * be, GString * msg, int k, int n, int s,
    const int *row_counts, gsize n_counts, int max_rows)
{
  static const char *const form_names[] = { "linear", "gemm NT", "gemm NN",
    "gemm TT"
  };
  float *x = g_new (float, (gsize) max_rows * k);
  float *xt = g_new (float, (gsize) max_rows * k);
  float *w = g_new (float, (gsize) n * k), *bias = g_new (float, n);
  float *alone = g_new (float, (gsize) max_rows * n);
  float *together = g_new (float, (gsize) max_rows * n);
  gboolean ok = TRUE;

  for (gsize i = 0; i < (gsize) max_rows * k; i++)
    x[i] = (float) sin (i * 0.731 + s) * 0.5f;
  /* xt: x transposed, k × max_rows */
  for (int r = 0; r < max_rows; r++)
    for (int i = 0; i < k; i++)
      xt[(gsize) i * max_rows + r] = x[(gsize) r * k + i];
  for (gsize i = 0; i < (gsize) n * k; i++)
    w[i] = (float) cos (i * 0.317 + s) * 0.25f;
  for (int i = 0; i < n; i++)
    bias[i] = 0.01f * i;
  /* form 0: linear, x·Wᵀ + bias; 1: gemm x·Wᵀ (W stored n×k); 2: gemm
   * x·W (W stored k×n, the product OpenBLAS's direct kernel takes);
   * 3: gemm (xᵀ)ᵀ·Wᵀ (both operands transposed, as the decoder's
   * attention asks).  Not linear_half: oneDNN's bf16 kernels depend on
   * the row count (docs/video.md, "Batches of frames"). */
  for (int form = 0; ok && form < 4; form++) {
    for (int r = 0; r < max_rows; r++)
      run_form (be, form, alone + (gsize) r * n, x + (gsize) r * k, xt + r,
          max_rows, w, bias, 1, k, n);
    for (gsize c = 0; ok && c < n_counts; c++) {
      const int m = row_counts[c];
      int r;

      run_form (be, form, together, x, xt, max_rows, w, bias, m, k, n);
      r = first_unit_differing (together, alone, m, n);
      if (r >= 0) {
        g_string_append_printf (msg, "%d threads, %s k=%d n=%d: row %d "
            "of %d rows differs from the row computed alone",
            be->n_threads, form_names[form], k, n, r, m);
        ok = FALSE;
      }
    }
  }
  g_free (x);
  g_free (xt);
  g_free (w);
  g_free (bias);
  g_free (alone);
  g_free (together);
  return ok;
}

static gboolean
rows_invariant_on (HartBackend * be, GString * msg)
{
  /* (k, n): inner and output sizes, from the tiny fixture's to HART's */
  static const int shapes[][2] = {
    {256, 256}, {32, 1024}, {1024, 32}, {64, 1536}, {1536, 64}, {128, 128},
    {768, 768}, {1, 64}, {3, 5}, {1536, 1536}, {1536, 1},
  };
  static const int row_counts[] = { 2, 3, 4, 6, 8, 17, 40, 64, 80 };
  /* past one chunk of the padded row layout (304 rows, cpu-gemm.c), on
   * shapes small enough to compute 700 rows one by one */
  static const int long_shapes[][2] = { {64, 100}, {96, 40} };
  static const int long_counts[] = { 303, 305, 333, 617, 700 };
  gboolean ok = TRUE;

  for (gsize s = 0; ok && s < G_N_ELEMENTS (shapes); s++)
    ok = rows_invariant_shape (be, msg, shapes[s][0], shapes[s][1], (int) s,
        row_counts, G_N_ELEMENTS (row_counts), 80);
  for (gsize s = 0; ok && s < G_N_ELEMENTS (long_shapes); s++)
    ok = rows_invariant_shape (be, msg, long_shapes[s][0], long_shapes[s][1],
        (int) s, long_counts, G_N_ELEMENTS (long_counts), 700);
  return ok;
}

/* conv2d: image i of a batch of 1 … 7 equals image i convolved alone (the
 * shapes of the latent's Φ convolution and of the decoder's last one). */
static gboolean
conv_batch_invariant_on (HartBackend * be, GString * msg)
{
  /* cin, side, cout */
  static const int shapes[][3] = { {32, 8, 32}, {32, 4, 32}, {8, 16, 8},
  {64, 64, 3}
  };
  enum
  { MAX_BATCH = 7 };
  gboolean ok = TRUE;

  for (gsize s = 0; ok && s < G_N_ELEMENTS (shapes); s++) {
    const int cin = shapes[s][0], side = shapes[s][1], cout = shapes[s][2];
    const gsize in_one = (gsize) cin * side * side;
    const gsize out_one = (gsize) cout * side * side;
    float *x = g_new (float, in_one * MAX_BATCH);
    float *w = g_new (float, (gsize) cout * cin * 9), *bias = g_new (float,
        cout);
    float *alone = g_new (float, out_one * MAX_BATCH);
    float *together = g_new (float, out_one * MAX_BATCH);
    HartConv2dParams p = {.x = x,.w = w,.bias = bias,.cin = cin,.height =
          side,.width = side,.cout = cout,.k = 3,.pad = 1
    };

    for (gsize i = 0; i < in_one * MAX_BATCH; i++)
      x[i] = (float) sin (i * 0.537 + s) * 0.5f;
    for (gsize i = 0; i < (gsize) cout * cin * 9; i++)
      w[i] = (float) cos (i * 0.291 + s) * 0.2f;
    for (int i = 0; i < cout; i++)
      bias[i] = 0.02f * i;
    for (int b = 0; b < MAX_BATCH; b++) {
      p.batch = 1;
      p.x = x + b * in_one;
      p.y = alone + b * out_one;
      be->ops->conv2d (be, &p);
    }
    for (int batch = 2; ok && batch <= MAX_BATCH; batch++) {
      int b;

      p.batch = batch;
      p.x = x;
      p.y = together;
      be->ops->conv2d (be, &p);
      b = first_unit_differing (together, alone, batch, out_one);
      if (b >= 0) {
        g_string_append_printf (msg, "%d threads, conv2d %d→%d at %d×%d: "
            "image %d of %d differs from the image convolved alone",
            be->n_threads, cin, cout, side, side, b, batch);
        ok = FALSE;
      }
    }
    g_free (x);
    g_free (w);
    g_free (bias);
    g_free (alone);
    g_free (together);
  }
  return ok;
}

static gboolean
check_rows_invariant (HartBackend * unused, const char *name, GString * msg)
{
  gboolean ok = TRUE;

  for (int n_threads = 2; ok && n_threads <= 3; n_threads++) {
    GError *error = NULL;
    HartBackend *be = hart_backend_new ("cpu", 0, n_threads, &error);

    if (be == NULL) {
      g_string_append_printf (msg, "cpu backend: %s", error->message);
      g_clear_error (&error);
      return FALSE;
    }
    ok = rows_invariant_on (be, msg) && conv_batch_invariant_on (be, msg);
    hart_backend_free (be);
  }
  return ok;
}

/* attention_half with K and V given in bf16 through to_half_heads
 * (k_half, v_half: head-major, heads and batch items padded) gives the
 * bytes it gives with them in fp32 (both round to nearest even, and the
 * kernels read the same bf16 values), and the same bytes on 1, 2 and 3
 * threads (each output value is computed by one tile in a fixed order):
 * on the AMX kernel where the CPU has one, and with
 * HART_CPU_ATTENTION=onednn on the oneDNN path.  The shapes: HART's
 * (head_dim 64, its causal stage prefix), Qwen2's (GQA 12/2, head_dim 128,
 * a key mask), and head_dim 40, which is the oneDNN path's on any CPU. */
typedef struct
{
  int batch, q_heads, kv_heads, q_len, kv_len, head_dim;
  gboolean causal, mask;
  int causal_offset;
} HalfBytesShape;

static void
half_bytes_run (HartBackend * be, const HartAttentionParams * base,
    float *out, gboolean kv_half, gboolean onednn)
{
  HartAttentionParams p = *base;
  uint16_t *cache = NULL;

  p.out = out;
  if (onednn)
    g_setenv ("HART_CPU_ATTENTION", "onednn", TRUE);
  else
    g_unsetenv ("HART_CPU_ATTENTION");
  if (kv_half) {
    const int64_t hs = (int64_t) p.kv_len * p.head_dim + 37;
    const int64_t bs = hs * p.kv_heads + 11;
    cache = g_new (uint16_t, 2 * bs * p.batch);
    for (int64_t i = 0; i < 2 * bs * p.batch; i++)
      cache[i] = 0x7fc1;        /* NaN wherever the op must not read */
    be->ops->to_half_heads (be, cache, bs, hs, p.k, p.k_batch_stride,
        p.k_row_stride, p.batch, p.kv_len, p.kv_heads, p.head_dim);
    be->ops->to_half_heads (be, cache + bs * p.batch, bs, hs, p.v,
        p.v_batch_stride, p.v_row_stride, p.batch, p.kv_len, p.kv_heads,
        p.head_dim);
    p.k_half = cache;
    p.v_half = cache + bs * p.batch;
    p.kv_half_batch_stride = bs;
    p.kv_half_head_stride = hs;
    p.k = p.v = NULL;
  }
  be->ops->attention_half (be, &p);
  g_free (cache);
}

static gboolean
check_attention_half_bytes (HartBackend * unused, const char *name,
    GString * msg)
{
  static const HalfBytesShape shapes[] = {
    {2, 24, 24, 40, 300, 64, FALSE, FALSE, 0},
    {1, 4, 4, 161, 161, 64, TRUE, FALSE, 0},
    {2, 12, 2, 33, 129, 128, TRUE, TRUE, 96},
    {2, 2, 2, 17, 70, 40, FALSE, TRUE, 0},
  };
  static const char *const path_names[] = { "default path",
    "HART_CPU_ATTENTION=onednn"
  };
  char *saved = g_strdup (g_getenv ("HART_CPU_ATTENTION"));
  HartBackend *be[3] = { NULL };
  gboolean ok = TRUE;

  for (int t = 0; t < 3; t++) {
    GError *error = NULL;
    be[t] = hart_backend_new ("cpu", 0, t + 1, &error);
    if (be[t] == NULL) {
      g_string_append_printf (msg, "cpu backend: %s", error->message);
      g_clear_error (&error);
      ok = FALSE;
      goto out;
    }
    if (be[t]->ops->init_half != NULL)
      be[t]->ops->init_half (be[t]);
    /* no bf16 attention on this machine: nothing to compare */
    if (be[t]->ops->attention_half == NULL
        || !(be[t]->half_dtypes & (1u << HART_DTYPE_BF16)))
      goto out;
  }

  for (gsize si = 0; ok && si < G_N_ELEMENTS (shapes); si++) {
    const HalfBytesShape *sh = &shapes[si];
    const gsize nq = (gsize) sh->batch * sh->q_len * sh->q_heads * sh->head_dim;
    const gsize nkv = (gsize) sh->batch * sh->kv_len * sh->kv_heads *
        sh->head_dim;
    float *q = g_new (float, nq), *k = g_new (float, nkv);
    float *v = g_new (float, nkv);
    float *want = g_new (float, nq), *got = g_new (float, nq);
    uint8_t *mask = g_new (uint8_t, (gsize) sh->batch * sh->kv_len);
    HartAttentionParams p = {.batch = sh->batch,.q_heads = sh->q_heads,
      .kv_heads = sh->kv_heads,.q_len = sh->q_len,.kv_len = sh->kv_len,
      .head_dim = sh->head_dim,.scale = 1.3f / sqrtf (sh->head_dim),
      .q = q,.q_row_stride = (int64_t) sh->q_heads * sh->head_dim,
      .k = k,.k_row_stride = (int64_t) sh->kv_heads * sh->head_dim,
      .v = v,.v_row_stride = (int64_t) sh->kv_heads * sh->head_dim,
      .out_row_stride = (int64_t) sh->q_heads * sh->head_dim,
      .key_mask = sh->mask ? mask : NULL,.causal = sh->causal,
      .causal_offset = sh->causal_offset
    };

    p.q_batch_stride = p.out_batch_stride = p.q_row_stride * sh->q_len;
    p.k_batch_stride = p.v_batch_stride = p.k_row_stride * sh->kv_len;
    for (gsize i = 0; i < nq; i++)
      q[i] = (float) sin (i * 0.377 + si) * 1.5f;
    for (gsize i = 0; i < nkv; i++) {
      k[i] = (float) cos (i * 0.291 + si) * 1.5f;
      v[i] = (float) sin (i * 0.613 + 2 * si);
    }
    for (gsize i = 0; i < (gsize) sh->batch * sh->kv_len; i++)
      mask[i] = (i * 7919) % 10 < 7;

    for (int path = 0; ok && path < 2; path++) {
      half_bytes_run (be[1], &p, want, FALSE, path);
      for (int form = 0; ok && form < 3; form++) {
        /* 0: 1 thread, 1: 3 threads, 2: K and V in bf16, 2 threads */
        HartBackend *b = be[form == 0 ? 0 : form == 1 ? 2 : 1];
        int r;
        half_bytes_run (b, &p, got, form == 2, path);
        r = first_unit_differing (got, want, sh->batch * sh->q_len,
            (gsize) sh->q_heads * sh->head_dim);
        if (r >= 0) {
          g_string_append_printf (msg, "%s, %dx%dh/%d q%d kv%d d%d: row %d "
              "(batch %d) %s differs from fp32 K and V on 2 threads",
              path_names[path], sh->batch, sh->q_heads, sh->kv_heads,
              sh->q_len, sh->kv_len, sh->head_dim, r % sh->q_len,
              r / sh->q_len, form == 0 ? "on 1 thread" : form == 1 ?
              "on 3 threads" : "with K and V in bf16 (k_half)");
          ok = FALSE;
        }
      }
    }
    g_free (q);
    g_free (k);
    g_free (v);
    g_free (want);
    g_free (got);
    g_free (mask);
  }

out:
  if (saved != NULL)
    g_setenv ("HART_CPU_ATTENTION", saved, TRUE);
  else
    g_unsetenv ("HART_CPU_ATTENTION");
  g_free (saved);
  for (int t = 0; t < 3; t++)
    hart_backend_free (be[t]);
  return ok;
}

static const BackendCheck checks[] = {
  {"backend-new", check_backend_new, FALSE, "cpu"},
  {"rows-invariant", check_rows_invariant, FALSE, "cpu"},
  {"attention-half-bytes", check_attention_half_bytes, FALSE, "cpu"},
  {"cuda-refusal", check_cuda_refusal, FALSE, "cuda"},
  {"op-table", check_op_table, TRUE, NULL},
  {"memory", check_memory, TRUE, NULL},
  {"out-of-memory", check_out_of_memory, TRUE, NULL},
};

const BackendCheck *
backend_checks (gsize * n)
{
  *n = G_N_ELEMENTS (checks);
  return checks;
}
