/* gst-hart — writing safetensors files (context and draw interchange files)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef HART_SAFETENSORS_WRITE_H
#define HART_SAFETENSORS_WRITE_H

#include <glib.h>
#include "kernels/dtype.h"

G_BEGIN_DECLS

typedef struct _HartSafetensorsWriter HartSafetensorsWriter;

HartSafetensorsWriter *hart_safetensors_writer_new (void);
/* Adds a tensor; the data is copied. */
void hart_safetensors_writer_add (HartSafetensorsWriter * w, const char *name,
    HartDType dtype, int ndim, const int64_t * shape, const void *data);
/* Optional "__metadata__" string entry. */
void hart_safetensors_writer_set_metadata (HartSafetensorsWriter * w,
    const char *key, const char *value);
/* Writes atomically (temporary file + rename). */
gboolean hart_safetensors_writer_save (HartSafetensorsWriter * w,
    const char *path, GError ** error);
void hart_safetensors_writer_free (HartSafetensorsWriter * w);

G_END_DECLS
#endif
