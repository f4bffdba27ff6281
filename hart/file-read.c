/* gst-hart — opening and reading input files without blocking or trusting sizes
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * See file-read.h; the threat model is docs/robustness.md.
 */
#include "hart/file-read.h"
#include "hart/error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

void
hart_file_set_errno_error (GError ** error, const char *path, int errno_value)
{
  if (errno_value == ENOENT || errno_value == ENOTDIR)
    g_set_error (error, HART_ERROR, HART_ERROR_NOT_FOUND, "%s: no such file",
        path);
  else
    g_set_error (error, HART_ERROR, HART_ERROR_IO, "%s: cannot open: %s",
        path, g_strerror (errno_value));
}

gboolean
hart_dir_check_readable (const char *dir, GError ** error)
{
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, HART_ERROR, HART_ERROR_NOT_FOUND, "%s: no such folder",
        dir);
    return FALSE;
  }
  if (g_access (dir, R_OK | X_OK) != 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_IO, "%s: cannot open: %s", dir,
        g_strerror (errno));
    return FALSE;
  }
  return TRUE;
}

static const char *
file_kind (mode_t mode)
{
  if (S_ISDIR (mode))
    return "a folder";
  if (S_ISFIFO (mode))
    return "a named pipe (FIFO)";
  if (S_ISCHR (mode))
    return "a character device";
  if (S_ISBLK (mode))
    return "a block device";
  if (S_ISSOCK (mode))
    return "a socket";
  return "not a regular file";
}

int
hart_file_open_regular (const char *path, guint64 * size, GError ** error)
{
  struct stat st;
  int fd, flags;

  g_return_val_if_fail (path != NULL, -1);

  /* O_NONBLOCK: open() of a FIFO without a writer would otherwise wait
   * forever; for a regular file the flag changes nothing and is cleared
   * below anyway. */
  fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    hart_file_set_errno_error (error, path, errno);
    return -1;
  }
  if (fstat (fd, &st) != 0) {
    int saved_errno = errno;

    close (fd);
    hart_file_set_errno_error (error, path, saved_errno);
    return -1;
  }
  if (!S_ISREG (st.st_mode)) {
    close (fd);
    g_set_error (error, HART_ERROR, HART_ERROR_IO,
        "%s: is %s, expected a regular file", path, file_kind (st.st_mode));
    return -1;
  }
  flags = fcntl (fd, F_GETFL);
  if (flags >= 0)
    (void) fcntl (fd, F_SETFL, flags & ~O_NONBLOCK);
  if (size)
    *size = (guint64) st.st_size;
  return fd;
}

gboolean
hart_file_read_bounded (const char *path, const char *what, gsize max_bytes,
    char **contents, gsize * length, GError ** error)
{
  guint64 size;
  gsize done = 0;
  char *buffer;
  int fd;

  *contents = NULL;
  if (length)
    *length = 0;
  fd = hart_file_open_regular (path, &size, error);
  if (fd < 0)
    return FALSE;
  if (size > max_bytes) {
    close (fd);
    g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
        "%s: %" G_GUINT64_FORMAT " bytes is too large for %s (limit %"
        G_GSIZE_FORMAT " bytes)", path, size, what, max_bytes);
    return FALSE;
  }
  buffer = g_malloc ((gsize) size + 1);
  /* The size comes from fstat; a file that grows meanwhile is read up to
   * that size only, and one that shrinks is reported as truncated. */
  while (done < size) {
    ssize_t got = read (fd, buffer + done, (gsize) size - done);

    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      int saved_errno = errno;

      g_set_error (error, HART_ERROR, HART_ERROR_IO,
          "%s: cannot read: %s", path, got < 0 ? g_strerror (saved_errno) :
          "the file became shorter while it was read");
      g_free (buffer);
      close (fd);
      return FALSE;
    }
    done += (gsize) got;
  }
  close (fd);
  buffer[done] = '\0';
  *contents = buffer;
  if (length)
    *length = done;
  return TRUE;
}

GMappedFile *
hart_file_map_regular (const char *path, GError ** error)
{
  GError *local = NULL;
  GMappedFile *mapped;
  int fd = hart_file_open_regular (path, NULL, error);

  if (fd < 0)
    return NULL;
  mapped = g_mapped_file_new_from_fd (fd, FALSE, &local);
  close (fd);                   /* the mapping holds its own reference */
  if (mapped == NULL) {
    g_set_error (error, HART_ERROR, HART_ERROR_IO, "%s: cannot map: %s",
        path, local->message);
    g_error_free (local);
  }
  return mapped;
}
