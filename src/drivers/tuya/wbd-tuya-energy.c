/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <wattbus-glib.h>

#include "wbd-tuya-energy.h"

#define GROUP "energy"
/* a plug's rating when the profile gives none: 16 A at 230 V */
#define DEFAULT_RATED_POWER 3680
/* without a previous increment, one is believed for at most this long */
#define DEFAULT_INTERVAL_S 3600
/* a push without a time: the same value within this many seconds is the same push */
#define SAME_PUSH_S 2

/*
 * The Energy counter of a device that reports increments (`add_ele`), kept in the
 * daemon's state directory (shared/specs/tuya-gateway-and-meters.md §4.7): only pushes
 * count (the caller's job), a push whose (t, value) is the last counted one is a
 * duplicate, zero adds nothing, more than the rated power over the time since the last
 * counted push is refused, and the file is written before the new total is published.
 */
struct _WbdTuyaEnergy {
	gchar *path;
	gboolean known; /* a total was read or counted */
	gdouble total_wh;
	gboolean have_last;
	gint64 last_t;
	gint64 last_value;
	gboolean last_without_t;
};

/**
 * wbd_tuya_energy_new:
 * @path: the state file
 *
 * Reads the counter from @path if it exists (blocking, at configuration time).
 */
WbdTuyaEnergy *
wbd_tuya_energy_new(const gchar *path)
{
	WbdTuyaEnergy *self = g_new0(WbdTuyaEnergy, 1);
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) error = NULL;
	gdouble total;

	self->path = g_strdup(path);
	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &error)) {
		if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			g_warning("ignoring the energy counter %s: %s", path, error->message);
		return self;
	}
	total = g_key_file_get_double(kf, GROUP, "total-wh", &error);
	if (error != NULL || !isfinite(total) || total < 0) {
		g_warning("ignoring the energy counter %s: no valid total-wh", path);
		return self;
	}
	self->known = TRUE;
	self->total_wh = total;
	if (g_key_file_has_key(kf, GROUP, "last-t", NULL) && g_key_file_has_key(kf, GROUP, "last-value", NULL)) {
		self->last_t = g_key_file_get_int64(kf, GROUP, "last-t", NULL);
		self->last_value = g_key_file_get_int64(kf, GROUP, "last-value", NULL);
		self->last_without_t = g_key_file_get_boolean(kf, GROUP, "last-without-t", NULL);
		self->have_last = TRUE;
	}
	return self;
}

void
wbd_tuya_energy_free(WbdTuyaEnergy *self)
{
	g_free(self->path);
	g_free(self);
}

/* Returns: whether there is a total yet (read from the file or counted) */
gboolean
wbd_tuya_energy_get_total(WbdTuyaEnergy *self, gdouble *total_wh)
{
	*total_wh = self->total_wh;
	return self->known;
}

const gchar *
wbd_tuya_energy_result_to_string(WbdTuyaEnergyResult result)
{
	switch (result) {
	case WBD_TUYA_ENERGY_COUNTED:
		return "counted";
	case WBD_TUYA_ENERGY_DUPLICATE:
		return "a duplicate of the last counted push";
	case WBD_TUYA_ENERGY_ZERO:
		return "zero";
	case WBD_TUYA_ENERGY_IMPLAUSIBLE:
	default:
		return "implausible: more than the rated power could use since the last one";
	}
}

static gboolean
wbd_tuya_energy_save(WbdTuyaEnergy *self, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree gchar *dir = g_path_get_dirname(self->path);
	g_autofree gchar *data = NULL;

	g_key_file_set_double(kf, GROUP, "total-wh", self->total_wh);
	g_key_file_set_int64(kf, GROUP, "last-t", self->last_t);
	g_key_file_set_int64(kf, GROUP, "last-value", self->last_value);
	g_key_file_set_boolean(kf, GROUP, "last-without-t", self->last_without_t);
	data = g_key_file_to_data(kf, NULL, NULL);
	if (g_mkdir_with_parents(dir, 0750) != 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "Cannot create %s: %s", dir, g_strerror(errno));
		return FALSE;
	}
	return g_file_set_contents_full(self->path, data, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0640, error);
}

/**
 * wbd_tuya_energy_add:
 * @raw: the increment as the device sent it (identifies the push with @t)
 * @wh: the increment in Wh
 * @t: the push's time (the device's `t`), or -1 when it had none
 * @now: the time it was received, in seconds since the epoch
 * @rated_power: W; 0 for the default
 * @error: set when the new total could not be written (it is counted all the same)
 *
 * Counts one increment from a STATUS push. The caller never passes values from query
 * replies or acknowledgements.
 */
WbdTuyaEnergyResult
wbd_tuya_energy_add(WbdTuyaEnergy *self,
		    gint64 raw,
		    gdouble wh,
		    gint64 t,
		    gint64 now,
		    guint rated_power,
		    GError **error)
{
	gboolean without_t = t < 0;
	gdouble limit;
	gint64 interval = DEFAULT_INTERVAL_S;

	if (without_t)
		t = now;
	if (self->have_last && raw == self->last_value &&
	    (without_t ? self->last_without_t && t - self->last_t <= SAME_PUSH_S : t == self->last_t))
		return WBD_TUYA_ENERGY_DUPLICATE;
	if (raw == 0 || !isfinite(wh) || wh == 0)
		return WBD_TUYA_ENERGY_ZERO;
	if (self->have_last && t > self->last_t)
		interval = t - self->last_t;
	/* the rated power over the interval, with a margin for clocks and rounding */
	limit = (rated_power > 0 ? rated_power : DEFAULT_RATED_POWER) * (interval / 3600.0) * 1.25 + 10;
	if (wh < 0 || wh > limit)
		return WBD_TUYA_ENERGY_IMPLAUSIBLE;
	self->total_wh += wh;
	self->known = TRUE;
	self->have_last = TRUE;
	self->last_t = t;
	self->last_value = raw;
	self->last_without_t = without_t;
	/* before the caller publishes it: a crash neither loses nor repeats an increment */
	wbd_tuya_energy_save(self, error);
	return WBD_TUYA_ENERGY_COUNTED;
}
