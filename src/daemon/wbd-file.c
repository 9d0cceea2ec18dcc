/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wattbus-glib.h>

#include "wbd-file.h"

/*
 * Files named in settings (ca-file, a certificate pin) are read as hostile input: a
 * regular file only (not a FIFO, a device such as /dev/zero, a directory, or a
 * symbolic link as the last component), opened without blocking, of a bounded size
 * checked before and while reading. Errors name the path, never the contents.
 */

static gboolean
file_error(GError **error, gint code, const gchar *path, const gchar *why)
{
	g_set_error(error, WATTBUS_ERROR, code, "%s %s", path, why);
	return FALSE;
}

static gboolean
errno_error(GError **error, const gchar *path, gint saved_errno)
{
	g_set_error(error,
		    WATTBUS_ERROR,
		    WATTBUS_ERROR_INVALID_ARGUMENT,
		    "Cannot read %s: %s",
		    path,
		    g_strerror(saved_errno));
	return FALSE;
}

static gboolean
too_large(GError **error, const gchar *path, gsize max_size)
{
	g_set_error(error,
		    WATTBUS_ERROR,
		    WATTBUS_ERROR_INVALID_ARGUMENT,
		    "%s is larger than %" G_GSIZE_FORMAT " bytes",
		    path,
		    max_size);
	return FALSE;
}

static gboolean
check_stat(const gchar *path, const struct stat *st, gsize max_size, GError **error)
{
	if (S_ISLNK(st->st_mode))
		return file_error(error,
				  WATTBUS_ERROR_INVALID_ARGUMENT,
				  path,
				  "is a symbolic link: give the file it points to");
	if (!S_ISREG(st->st_mode))
		return file_error(
		    error, WATTBUS_ERROR_INVALID_ARGUMENT, path, "is not a regular file");
	if ((guint64)st->st_size > max_size)
		return too_large(error, path, max_size);
	return TRUE;
}

/**
 * wbd_file_check:
 *
 * Checks, without opening it, that @path is a regular file (not a symbolic link) of
 * at most @max_size bytes: for a quick answer to the caller of AddDevice. The file is
 * checked again when it is read (wbd_file_read()).
 */
gboolean
wbd_file_check(const gchar *path, gsize max_size, GError **error)
{
	struct stat st;
	if (g_lstat(path, &st) != 0)
		return errno_error(error, path, errno);
	return check_stat(path, &st, max_size, error);
}

/**
 * wbd_file_read:
 *
 * Reads the whole of a regular file of at most @max_size bytes. Blocks: call it in a
 * thread (g_task_run_in_thread()) for a file a caller chose, not on the main loop.
 *
 * Returns: (transfer full): the contents, or %NULL with a %WATTBUS_ERROR (%G_IO_ERROR
 *   %G_IO_ERROR_NOT_FOUND when the file does not exist)
 */
GBytes *
wbd_file_read(const gchar *path, gsize max_size, GError **error)
{
	g_autofree guint8 *buffer = NULL;
	struct stat st;
	gsize length = 0;
	gint fd;

	fd = g_open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
	if (fd < 0) {
		gint saved = errno;
		if (saved == ENOENT) {
			g_set_error(
			    error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s does not exist", path);
		} else if (saved == ELOOP) {
			file_error(error,
				   WATTBUS_ERROR_INVALID_ARGUMENT,
				   path,
				   "is a symbolic link: give the file it points to");
		} else {
			errno_error(error, path, saved);
		}
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		errno_error(error, path, errno);
		close(fd);
		return NULL;
	}
	if (!check_stat(path, &st, max_size, error)) {
		close(fd);
		return NULL;
	}
	/* one byte more than allowed: a file that grew since fstat is noticed */
	buffer = g_malloc(max_size + 1);
	for (;;) {
		gssize n = read(fd, buffer + length, max_size + 1 - length);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errno_error(error, path, errno);
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		length += (gsize)n;
		if (length > max_size) {
			close(fd);
			too_large(error, path, max_size);
			return NULL;
		}
	}
	close(fd);
	return g_bytes_new_take(g_realloc(g_steal_pointer(&buffer), MAX(length, 1)), length);
}
