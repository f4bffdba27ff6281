/* gst-hart — engine internals shared inside libhart (private)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The HartEngine struct stays private to engine.c; other modules of the
 * library that run model code on an engine (the text encoder) reach its
 * backend through this getter.
 */
#ifndef HART_ENGINE_PRIVATE_H
#define HART_ENGINE_PRIVATE_H

#include "hart/hart.h"
#include "kernels/backend.h"

G_BEGIN_DECLS

/* The engine's backend, owned by the engine (valid while a reference to the
 * engine is held). */
HartBackend *hart_engine_get_backend (HartEngine * engine);

/* The type the engine's models hold their weight matrices in: F32, or the
 * half type of the engine's precision (hart/matrix.h). */
HartDType hart_engine_get_matrix_dtype (const HartEngine * engine);
/* The same for PRECISION, where no engine resolved it: F32 for FP32 and
 * for AUTO (what AUTO picks is known only once an engine has looked at
 * the device; F32 is the larger), else the half type of BF16 or FP16. */
HartDType hart_precision_matrix_dtype (HartPrecision precision);

/* Around a generation or an encode: on a backend whose ops may not run from
 * several threads at once (HartBackend.concurrent FALSE) one caller at a
 * time holds the device; on the others these do nothing, so two callers
 * sharing a model run side by side. */
void hart_engine_enter (HartEngine * engine);
void hart_engine_leave (HartEngine * engine);

G_END_DECLS
#endif /* HART_ENGINE_PRIVATE_H */
