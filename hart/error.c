/* gst-hart — libhart error domain
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "error.h"

G_DEFINE_QUARK (hart-error-quark, hart_error);
