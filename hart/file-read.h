/* gst-hart — opening and reading input files without blocking or trusting sizes
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every file libhart reads (configs, tokenizer files, weights, context and
 * draw files) goes through these functions, so that the rules of
 * docs/robustness.md ("Threat model") hold everywhere:
 *
 * - only regular files are opened: open() is done with O_NONBLOCK, so a FIFO
 *   in place of config.json cannot block the caller (an element's
 *   set_state(), an application's UI thread), and a FIFO, device or socket
 *   is refused after fstat() with what it is;
 * - the size is known from fstat() before anything is allocated, and a file
 *   larger than the caller's limit is refused before it is read;
 * - errno becomes the right HART_ERROR code: ENOENT is NOT_FOUND, and a
 *   permission problem says "permission denied" instead of "no such file".
 */
#ifndef HART_FILE_READ_H
#define HART_FILE_READ_H

#include <glib.h>

G_BEGIN_DECLS

/* Opens PATH read-only (close-on-exec, blocking mode restored for reads)
 * if it is a regular file; SIZE (may be NULL) receives its size.  Returns
 * the descriptor, or -1 with an error in the HART_ERROR domain. */
int hart_file_open_regular (const char *path, guint64 * size,
    GError ** error);

/* Reads a whole regular file of at most MAX_BYTES bytes into a new
 * NUL-terminated buffer.  WHAT names the kind of file in the size message
 * ("a config.json").  Larger files are refused (HART_ERROR_LIMIT) before
 * any allocation. */
gboolean hart_file_read_bounded (const char *path, const char *what,
    gsize max_bytes, char **contents, gsize * length, GError ** error);

/* Maps a regular file read-only (g_mapped_file_new, but through
 * hart_file_open_regular). */
GMappedFile *hart_file_map_regular (const char *path, GError ** error);

/* TRUE when DIR is a folder this process may list and enter; else FALSE
 * with NOT_FOUND ("DIR: no such folder") or IO ("DIR: cannot open:
 * Permission denied"), so that an unreadable folder is not reported as
 * missing files inside it. */
gboolean hart_dir_check_readable (const char *dir, GError ** error);

/* The error for a failed open() or stat() of PATH with ERRNO_VALUE:
 * NOT_FOUND for ENOENT/ENOTDIR, IO otherwise (permission denied, …). */
void hart_file_set_errno_error (GError ** error, const char *path,
    int errno_value);

G_END_DECLS
#endif /* HART_FILE_READ_H */
