/* gst-hart — CUDA backend: device set-up, memory, errors, op table
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * fp32, and bf16 products on the tensor cores where the precision mode
 * asks for them (cuda-half.cu, docs/precision.md).  Every op is queued on
 * one stream; download() and synchronize() wait for it.  An op cannot
 * return an error, so the first failure (launch error, cuBLAS error, out of
 * memory in a scratch allocation) is kept as the sticky error and reported
 * by synchronize().  A sticky error stays: after a device fault the context
 * is unusable, and the caller is expected to drop the backend.
 */
#include "cuda-private.cuh"

#include <stdarg.h>
#include <string.h>

/* Default bound on conv2d's im2col band (see cuda-image.cu). */
#define HART_CUDA_IM2COL_LIMIT_DEFAULT ((gsize) 64 << 20)

void
hart_cuda_record_error (HartBackend * be, HartBackendError code,
    const char *format, ...)
{
  HartCudaBackend *priv = hart_cuda_priv (be);
  va_list args;

  g_mutex_lock (&priv->error_lock);
  if (priv->sticky_error == NULL) {
    va_start (args, format);
    priv->sticky_error = g_strdup_vprintf (format, args);
    va_end (args);
    priv->sticky_code = code;
  }
  g_mutex_unlock (&priv->error_lock);
}

gboolean
hart_cuda_check_status (HartBackend * be, cudaError_t err, const char *what)
{
  if (G_LIKELY (err == cudaSuccess))
    return TRUE;
  /* Clear the runtime's last-error slot so that the next op's check does
   * not report this failure a second time under another name. */
  (void) cudaGetLastError ();
  hart_cuda_record_error (be,
      err == cudaErrorMemoryAllocation ? HART_BACKEND_ERROR_OUT_OF_MEMORY :
      HART_BACKEND_ERROR_DEVICE, "CUDA device %d: %s: %s",
      hart_cuda_priv (be)->device, what, cudaGetErrorString (err));
  return FALSE;
}

gboolean
hart_cuda_check (HartBackend * be, const char *what)
{
  return hart_cuda_check_status (be, cudaGetLastError (), what);
}

gboolean
hart_cuda_check_cublas (HartBackend * be, cublasStatus_t status,
    const char *what)
{
  if (G_LIKELY (status == CUBLAS_STATUS_SUCCESS))
    return TRUE;
  hart_cuda_record_error (be, HART_BACKEND_ERROR_DEVICE,
      "CUDA device %d: %s: %s", hart_cuda_priv (be)->device, what,
      cublasGetStatusString (status));
  return FALSE;
}

gboolean
hart_cuda_enter (HartBackend * be)
{
  return hart_cuda_check_status (be, cudaSetDevice (hart_cuda_priv (be)->device),
      "cudaSetDevice");
}

float *
hart_cuda_scratch (HartBackend * be, gsize bytes)
{
  HartCudaBackend *priv = hart_cuda_priv (be);
  void *ptr = NULL;
  cudaError_t err;

  if (bytes <= priv->scratch_bytes)
    return priv->scratch;
  /* The old scratch may still be read by queued kernels: cudaFree waits
   * for the device before releasing it. */
  if (priv->scratch != NULL)
    cudaFree (priv->scratch);
  priv->scratch = NULL;
  priv->scratch_bytes = 0;
  err = cudaMalloc (&ptr, bytes);
  if (err != cudaSuccess) {
    (void) cudaGetLastError ();
    hart_cuda_record_error (be, HART_BACKEND_ERROR_OUT_OF_MEMORY,
        "CUDA out of memory: scratch buffer of %" G_GSIZE_FORMAT
        " bytes: %s", bytes, cudaGetErrorString (err));
    return NULL;
  }
  priv->scratch = (float *) ptr;
  priv->scratch_bytes = bytes;
  return priv->scratch;
}

/* ---- memory ---- */

static void *
cuda_alloc (HartBackend * be, gsize bytes, GError ** error)
{
  void *ptr = NULL;
  size_t free_bytes = 0, total_bytes = 0;
  cudaError_t err;

  if (!hart_cuda_enter (be)) {
    g_set_error (error, HART_BACKEND_ERROR, HART_BACKEND_ERROR_DEVICE,
        "CUDA device %d: cannot select the device", be->device_id);
    return NULL;
  }
  /* cudaMalloc (0) may return NULL on success; callers read NULL as
   * failure, so a zero-byte buffer gets one byte. */
  err = cudaMalloc (&ptr, bytes > 0 ? bytes : 1);
  if (err == cudaSuccess)
    return ptr;

  /* A failed cudaMalloc is not sticky in the runtime: clear it. */
  (void) cudaGetLastError ();
  if (err == cudaErrorMemoryAllocation) {
    if (cudaMemGetInfo (&free_bytes, &total_bytes) != cudaSuccess)
      (void) cudaGetLastError ();
    g_set_error (error, HART_BACKEND_ERROR, HART_BACKEND_ERROR_OUT_OF_MEMORY,
        "CUDA out of memory: asked for %" G_GSIZE_FORMAT " bytes, %"
        G_GSIZE_FORMAT " bytes free of %" G_GSIZE_FORMAT " (device %d)",
        bytes, (gsize) free_bytes, (gsize) total_bytes, be->device_id);
  } else {
    g_set_error (error, HART_BACKEND_ERROR, HART_BACKEND_ERROR_DEVICE,
        "CUDA device %d: cudaMalloc of %" G_GSIZE_FORMAT " bytes failed: %s",
        be->device_id, bytes, cudaGetErrorString (err));
  }
  return NULL;
}

static void
cuda_free (HartBackend * be, void *ptr)
{
  if (ptr == NULL)
    return;
  if (!hart_cuda_enter (be))
    return;
  /* cudaFree synchronises with the device, so queued kernels that still
   * read the buffer finish first. */
  hart_cuda_check_status (be, cudaFree (ptr), "cudaFree");
}

/* Page-locked host memory: the copies between it and the device run at
 * the bus's rate (from pageable memory the runtime goes through a staging
 * buffer of its own).  Where the driver refuses (page-locked memory is a
 * limited resource), pageable memory instead: slower copies, the same
 * bytes. */
static void *
cuda_alloc_host (HartBackend * be, gsize bytes, GError ** error)
{
  void *ptr = NULL;
  cudaError_t err = cudaErrorInvalidDevice;

  if (hart_cuda_enter (be)) {
    err = cudaHostAlloc (&ptr, bytes > 0 ? bytes : 1, cudaHostAllocDefault);
    if (err != cudaSuccess) {
      (void) cudaGetLastError ();       /* not sticky: clear it */
      ptr = NULL;
    }
  }
  if (ptr == NULL) {
    g_debug ("cuda backend: %" G_GSIZE_FORMAT " bytes of page-locked host "
        "memory refused (%s): pageable memory instead", bytes,
        cudaGetErrorString (err));
    ptr = g_try_malloc (bytes > 0 ? bytes : 1);
    if (ptr == NULL) {
      g_set_error (error, HART_BACKEND_ERROR, HART_BACKEND_ERROR_OUT_OF_MEMORY,
          "cuda backend: cannot allocate %" G_GSIZE_FORMAT " bytes of host "
          "memory", bytes);
      return NULL;
    }
  }
  memset (ptr, 0, bytes);
  return ptr;
}

/* Which allocator gave PTR: the runtime knows its page-locked blocks
 * (pageable memory reads as cudaMemoryTypeUnregistered). */
static void
cuda_free_host (HartBackend * be, void *ptr)
{
  cudaPointerAttributes attr;

  if (ptr == NULL)
    return;
  /* unified addressing: a host pointer's attributes need no current
   * device */
  if (cudaPointerGetAttributes (&attr, ptr) == cudaSuccess
      && attr.type == cudaMemoryTypeHost) {
    /* waits for the device: a copy still queued into it ends first */
    hart_cuda_enter (be);
    hart_cuda_check_status (be, cudaFreeHost (ptr), "cudaFreeHost");
    return;
  }
  (void) cudaGetLastError ();
  g_free (ptr);
}

/* From pageable host memory, cudaMemcpyAsync copies the source into a
 * staging buffer before it returns, so the caller may reuse host_src at
 * once (CUDA runtime API, "API synchronization behavior"). */
static void
cuda_upload (HartBackend * be, void *dst, const void *host_src, gsize bytes)
{
  if (bytes == 0 || !hart_cuda_enter (be))
    return;
  hart_cuda_check_status (be, cudaMemcpyAsync (dst, host_src, bytes,
          cudaMemcpyHostToDevice, hart_cuda_priv (be)->stream), "upload");
}

static void
cuda_download (HartBackend * be, void *host_dst, const void *src, gsize bytes)
{
  HartCudaBackend *priv = hart_cuda_priv (be);

  if (bytes == 0 || !hart_cuda_enter (be))
    return;
  if (!hart_cuda_check_status (be, cudaMemcpyAsync (host_dst, src, bytes,
              cudaMemcpyDeviceToHost, priv->stream), "download"))
    return;
  hart_cuda_check_status (be, cudaStreamSynchronize (priv->stream),
      "download (stream synchronize)");
}

static void
cuda_copy (HartBackend * be, void *dst, const void *src, gsize bytes)
{
  if (bytes == 0 || !hart_cuda_enter (be))
    return;
  hart_cuda_check_status (be, cudaMemcpyAsync (dst, src, bytes,
          cudaMemcpyDeviceToDevice, hart_cuda_priv (be)->stream), "copy");
}

static void
cuda_copy_2d (HartBackend * be, void *dst, gsize dst_pitch, const void *src,
    gsize src_pitch, gsize row_bytes, gsize rows)
{
  if (rows == 0 || row_bytes == 0 || !hart_cuda_enter (be))
    return;
  hart_cuda_check_status (be, cudaMemcpy2DAsync (dst, dst_pitch, src,
          src_pitch, row_bytes, rows, cudaMemcpyDeviceToDevice,
          hart_cuda_priv (be)->stream), "copy_2d");
}

static gboolean
cuda_synchronize (HartBackend * be, GError ** error)
{
  HartCudaBackend *priv = hart_cuda_priv (be);
  gboolean ok;

  if (hart_cuda_enter (be))
    hart_cuda_check_status (be, cudaStreamSynchronize (priv->stream),
        "stream synchronize");

  g_mutex_lock (&priv->error_lock);
  ok = priv->sticky_error == NULL;
  if (!ok)
    g_set_error_literal (error, HART_BACKEND_ERROR, priv->sticky_code,
        priv->sticky_error);
  g_mutex_unlock (&priv->error_lock);
  return ok;
}

static void
cuda_destroy (HartBackend * be)
{
  HartCudaBackend *priv = hart_cuda_priv (be);

  if (cudaSetDevice (priv->device) == cudaSuccess) {
    cudaStreamSynchronize (priv->stream);
    if (priv->scratch != NULL)
      cudaFree (priv->scratch);
    if (priv->norm_stats != NULL)
      cudaFree (priv->norm_stats);
    if (priv->cublas != NULL)
      cublasDestroy (priv->cublas);
    if (priv->stream != NULL)
      cudaStreamDestroy (priv->stream);
  }
  (void) cudaGetLastError ();
  g_mutex_clear (&priv->error_lock);
  g_free (priv->sticky_error);
  g_free (priv);
  g_free (be);
}

/* Designated initialisers (C++20) must follow the declaration order of
 * HartBackendOps, so the compiler checks that no slot is swapped. */
static const HartBackendOps cuda_ops = {
  .name = "cuda",
  .destroy = cuda_destroy,
  .alloc = cuda_alloc,
  .free = cuda_free,
  .upload = cuda_upload,
  .download = cuda_download,
  .alloc_host = cuda_alloc_host,
  .free_host = cuda_free_host,
  .copy = cuda_copy,
  .copy_2d = cuda_copy_2d,
  .fill = hart_cuda_fill,
  .init_half = hart_cuda_init_half,
  .synchronize = cuda_synchronize,
  .gemm = hart_cuda_gemm,
  .gemm_batched = hart_cuda_gemm_batched,
  .linear = hart_cuda_linear,
  .linear_half = hart_cuda_linear_half,
  .layer_norm = hart_cuda_layer_norm,
  .rms_norm = hart_cuda_rms_norm,
  .modulate = hart_cuda_modulate,
  .group_norm = hart_cuda_group_norm,
  .rope = hart_cuda_rope,
  .attention = hart_cuda_attention,
  .attention_half = hart_cuda_attention_half,
  .to_half_heads = hart_cuda_to_half_heads,
  .softmax = hart_cuda_softmax,
  .silu = hart_cuda_silu,
  .gelu = hart_cuda_gelu,
  .gelu_tanh = hart_cuda_gelu_tanh,
  .swiglu = hart_cuda_swiglu,
  .add = hart_cuda_add,
  .mul = hart_cuda_mul,
  .axpby = hart_cuda_axpby,
  .scale = hart_cuda_scale,
  .add_row_vector = hart_cuda_add_row_vector,
  .clamp = hart_cuda_clamp,
  .max_over_rows = hart_cuda_max_over_rows,
  .embedding = hart_cuda_embedding,
  .conv2d = hart_cuda_conv2d,
  .conv2d_half = hart_cuda_conv2d_half,
  .group_norm_silu_half = hart_cuda_group_norm_silu_half,
  .upsample_nearest2x = hart_cuda_upsample_nearest2x,
  .resize_bicubic = hart_cuda_resize_bicubic,
  .resize_area = hart_cuda_resize_area,
};

gsize
hart_cuda_env_bytes (const char *name, gsize fallback, gsize max)
{
  const char *value = g_getenv (name);
  guint64 bytes;

  if (value != NULL && g_ascii_string_to_unsigned (value, 10, 1, max, &bytes,
          NULL))
    return (gsize) bytes;
  return fallback;
}

HartBackend *
hart_backend_cuda_new (int device_id, GError ** error)
{
  HartBackend *be;
  HartCudaBackend *priv;
  int n_devices = 0;
  cudaError_t err;
  cublasStatus_t status;

  err = cudaGetDeviceCount (&n_devices);
  if (err != cudaSuccess || n_devices <= 0) {
    (void) cudaGetLastError ();
    g_set_error (error, HART_BACKEND_ERROR, HART_BACKEND_ERROR_UNAVAILABLE,
        "no usable CUDA device: %s", err != cudaSuccess ?
        cudaGetErrorString (err) : "the driver reports no device");
    return NULL;
  }
  if (device_id < 0 || device_id >= n_devices) {
    g_set_error (error, HART_BACKEND_ERROR, HART_BACKEND_ERROR_UNAVAILABLE,
        "no CUDA device %d: this machine has %d CUDA device%s (ids 0 to %d)",
        device_id, n_devices, n_devices == 1 ? "" : "s", n_devices - 1);
    return NULL;
  }
  err = cudaSetDevice (device_id);
  if (err != cudaSuccess) {
    (void) cudaGetLastError ();
    g_set_error (error, HART_BACKEND_ERROR, HART_BACKEND_ERROR_UNAVAILABLE,
        "no usable CUDA device: cannot select device %d: %s", device_id,
        cudaGetErrorString (err));
    return NULL;
  }

  priv = g_new0 (HartCudaBackend, 1);
  priv->device = device_id;
  g_mutex_init (&priv->error_lock);
  /* debug knob: the parity test sets it small so that the banded path
   * runs */
  priv->im2col_limit_bytes = hart_cuda_env_bytes ("HART_CUDA_IM2COL_LIMIT",
      HART_CUDA_IM2COL_LIMIT_DEFAULT, G_MAXSIZE);

  err = cudaStreamCreateWithFlags (&priv->stream, cudaStreamNonBlocking);
  if (err != cudaSuccess) {
    (void) cudaGetLastError ();
    g_set_error (error, HART_BACKEND_ERROR, HART_BACKEND_ERROR_UNAVAILABLE,
        "no usable CUDA device: cannot create a stream on device %d: %s",
        device_id, cudaGetErrorString (err));
    priv->stream = NULL;
    goto fail;
  }
  status = cublasCreate (&priv->cublas);
  if (status != CUBLAS_STATUS_SUCCESS) {
    g_set_error (error, HART_BACKEND_ERROR, HART_BACKEND_ERROR_UNAVAILABLE,
        "cannot initialise cuBLAS on CUDA device %d: %s", device_id,
        cublasGetStatusString (status));
    priv->cublas = NULL;
    goto fail;
  }
  /* Plain fp32 GEMMs: TF32 tensor-core math (10-bit mantissa) would break
   * parity with the CPU backend, so ask for the default (IEEE fp32) mode
   * explicitly. */
  if (cublasSetStream (priv->cublas, priv->stream) != CUBLAS_STATUS_SUCCESS
      || cublasSetMathMode (priv->cublas, CUBLAS_DEFAULT_MATH)
      != CUBLAS_STATUS_SUCCESS) {
    g_set_error (error, HART_BACKEND_ERROR, HART_BACKEND_ERROR_UNAVAILABLE,
        "cannot configure cuBLAS on CUDA device %d", device_id);
    goto fail;
  }

  be = g_new0 (HartBackend, 1);
  be->ops = &cuda_ops;
  be->device_id = device_id;
  be->n_threads = 0;
  be->priv = priv;
  return be;

fail:
  if (priv->cublas != NULL)
    cublasDestroy (priv->cublas);
  if (priv->stream != NULL)
    cudaStreamDestroy (priv->stream);
  (void) cudaGetLastError ();
  g_mutex_clear (&priv->error_lock);
  g_free (priv);
  return NULL;
}
