/* gst-hart — memory estimates and the memory budget
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Before a model is loaded, the engine can say how much memory loading it
 * and generating at its resolution will take, and refuse with a clear
 * GError (HART_ERROR_LIMIT) when that exceeds a budget, instead of dying
 * half-way through an allocation.  The budget comes from the caller (API
 * parameter, element property, CLI option) or from the environment
 * variable HART_MEMORY_BUDGET ("4G", "512M", "1073741824").
 *
 * The estimate is a formula over config.json and the checkpoint headers
 * (no tensor data is read), for the type the engine holds its weight
 * matrices in (MATRIX_DTYPE below: HART_DTYPE_F32, or the 16-bit type of
 * its precision, hart_engine_get_precision); docs/errors.md ("Memory
 * budget") gives it in full.  In short:
 *
 *   total = weights + AR stage buffers + refinement buffers
 *
 *   weights    = every element the model keeps, at 4 bytes (f32, whatever
 *                the stored dtype) except the weight matrices of the linear
 *                layers that the loaders hold in the matrix type: 2 bytes
 *                in a 16-bit one (the transformer's context_embed,
 *                head_nm.ada_lin.1, head and the blocks' five matrices; the
 *                diffusion MLP's, not its input projection, final linear
 *                or time embedding).  Kept: the whole transformer
 *                checkpoint but the training buffers no loader reads
 *                (attn_bias_for_masking, lvl_1L, zero_k_bias), and the
 *                vae.decoder., vae.post_quant_conv., vae.quantize. tensors
 *                of the tokenizer checkpoint (the decoder's convolution
 *                weights stay f32 in every precision).
 *   AR stage   = the transformer state (KV cache of every block over the
 *                positions before the last stage, the last stage's keys and
 *                values, per-row activations of the widest stage), the
 *                logits of the last stage on device and host (the CPU
 *                backend reads them in place, one copy; the estimate does
 *                not know the backend and counts two), the latent scratch
 *                and the token frame.  The keys and values take 2
 *                bytes an element in a 16-bit matrix type (the attention
 *                reads them in bf16), 4 in f32; the rest is f32.
 *   refinement = the output image and the diffusion head's buffers over
 *                B·L rows; the decoder's three largest activations are
 *                placed in the slab of the KV cache and the stage
 *                activations, idle by then, which is made large enough for
 *                them (only what they need beyond it counts).  The AR
 *                buffers stay: a generator keeps them from frame to frame
 *                (generator.h).  A refinement alone (hartrefine) has no AR
 *                buffers but its own copies of z and f_hat, and the larger
 *                of the two is counted.
 *
 * Host and device bytes are counted together (on the CPU backend they are
 * the same memory).  It is meant to be within ~20 % of the peak resident
 * size: for the 0.7B release at 1024 px in fp32, 2.97 GiB of weights +
 * 4.05 GiB of buffers = 7.02 GiB estimated; 7.43 GiB was measured before
 * generations kept their state and stages were chunked
 * (docs/performance.md), and tests/unit/test-memory.c keeps the buffers
 * within 20 % of that measurement.  In bf16: 1.61 GiB of weights +
 * 2.38 GiB of buffers = 3.99 GiB (the 16-bit matrices save 1.36 GiB, the
 * KV cache 1.66 GiB); with the text encoder 6.47 GiB, against 6.58 GiB
 * measured (docs/precision.md).
 */
#ifndef HART_MEMORY_H
#define HART_MEMORY_H

#include <glib.h>
#include "hart/config.h"
#include "kernels/dtype.h"

G_BEGIN_DECLS

#define HART_MEMORY_BUDGET_ENV "HART_MEMORY_BUDGET"

typedef struct
{
  guint64 weight_bytes;         /* weights as held in memory */
  guint64 generation_bytes;     /* peak per-generation buffers */
  guint64 total_bytes;          /* weight_bytes + generation_bytes */
  int width, height;            /* output image size */
  int batch;                    /* images per generation the estimate is for */
  int context_tokens;           /* T: prompt positions (for a text encoder) */
} HartMemoryEstimate;

/* Parses a byte count: plain digits ("1073741824") or digits followed by a
 * binary multiple K, M, G or T (× 1024^n, case-insensitive, optionally
 * followed by "B" or "iB": "4G", "512M", "2GiB").  Refuses anything else,
 * and values that overflow 64 bits, with HART_ERROR_INVALID_ARGUMENT. */
gboolean hart_memory_parse_size (const char *text, guint64 * bytes,
    GError ** error);

/* The budget set by $HART_MEMORY_BUDGET: 0 when unset, empty or "0" (no
 * budget).  An unparsable value is an error naming the variable. */
gboolean hart_memory_budget_from_env (guint64 * budget_bytes,
    GError ** error);

/* The memory this process can use: physical memory, or the cgroup's
 * memory.max when that is lower (a container).  0 when unknown.  The model
 * loader uses it as the budget when none is set, so a model that cannot fit
 * is refused before it is loaded instead of exhausting the machine. */
guint64 hart_memory_machine_bytes (void);

/* Bytes of the per-generation buffers (see the formula above) for BATCH
 * images of the model described by the two configs, its weight matrices
 * held in MATRIX_DTYPE (HART_DTYPE_F32, BF16 or F16): in a 16-bit type the
 * KV cache and the last stage's keys and values take 2 bytes an element. */
guint64 hart_memory_generation_bytes (const HartTransformerConfig * tcfg,
    const HartAutoencoderConfig * acfg, int batch, HartDType matrix_dtype);

/* hart/checkpoint.h; not included, so that the public header hart/hart.h
 * (which includes this one) does not bring the checkpoint API with it */
typedef struct _HartCheckpoint HartCheckpoint;

/* Bytes the model's loaders hold for the tensors of CKPT whose names start
 * with one of PREFIXES (NULL-terminated; NULL: every tensor), their weight
 * matrices held in MATRIX_DTYPE (HART_DTYPE_F32, BF16 or F16): 2 bytes an
 * element for the matrices that hart_transformer_load and
 * hart_diffusion_load hold in a 16-bit matrix type (listed by name in
 * memory.c), 4 for every other tensor (held in f32), 0 for the training
 * buffers that no loader reads.  A tensor of a name no loader knows counts
 * 4 bytes an element: the estimate errs on the large side. */
guint64 hart_memory_checkpoint_bytes (const HartCheckpoint * ckpt,
    const char *const *prefixes, HartDType matrix_dtype);

/* The text encoder in QWEN_DIR as hart_text_encoder_load would hold it on
 * an engine whose matrix type is MATRIX_DTYPE (HART_DTYPE_F32, BF16 or
 * F16) and whose memory is the host's when HOST_MEMORY
 * (hart_engine_has_host_memory: the CPU backend), plus one encode of
 * N_PROMPTS prompts of MAX_TOKENS.  The layer matrices (docs/precision.md,
 * "The text encoder's matrices"): one layer's pages of the mapped file
 * when they are stored in MATRIX_DTYPE and HOST_MEMORY (read in place);
 * in f32 one layer at a time streamed from a 16-bit checkpoint (with its
 * staging buffer); else every layer held in MATRIX_DTYPE.  The embedding
 * table: nothing when its rows are read from the mapped checkpoint (a
 * safetensors file), else the table in its stored dtype. */
gboolean hart_memory_text_encoder_bytes (const char *qwen_dir,
    int n_prompts, int max_tokens, HartDType matrix_dtype,
    gboolean host_memory, guint64 * bytes, GError ** error);

/* FALSE with HART_ERROR_LIMIT when NEED_BYTES > BUDGET_BYTES (0: no
 * budget): "WHAT needs about N MiB at RESOLUTION but the memory budget
 * (SOURCE) is M MiB".  DETAIL (may be NULL) is appended in parentheses;
 * SOURCE (may be NULL) names where the budget came from. */
gboolean hart_memory_check_budget (const char *what, const char *resolution,
    guint64 need_bytes, const char *detail, guint64 budget_bytes,
    const char *source, GError ** error);

G_END_DECLS
#endif /* HART_MEMORY_H */
