/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "wbd-meter-reading.h"

static const gchar *quantity_names[WBD_QUANTITY_LAST] = {
    "Power",
    "Voltage",
    "Current",
    "Energy",
    "PowerFactor",
    "Frequency",
    "ReactivePower",
    "ApparentPower",
    "EnergyToday",
    "EnergyThisMonth",
    "EnergyExported",
};

const gchar *
wbd_quantity_to_string(WbdQuantity quantity)
{
	g_return_val_if_fail(quantity < WBD_QUANTITY_LAST, NULL);
	return quantity_names[quantity];
}

void
wbd_meter_reading_init(WbdMeterReading *reading)
{
	memset(reading, 0, sizeof(*reading));
	for (guint i = 0; i < WBD_QUANTITY_LAST; i++) {
		reading->values[i] = NAN;
		for (guint j = 0; j < WBD_METER_MAX_PHASES; j++)
			reading->phase[i][j] = NAN;
	}
}

void
wbd_meter_reading_set(WbdMeterReading *reading, WbdQuantity quantity, gdouble value)
{
	g_return_if_fail(quantity < WBD_QUANTITY_LAST);
	if (!isfinite(value))
		return;
	reading->values[quantity] = value;
	reading->measured |= 1u << quantity;
}

gboolean
wbd_meter_reading_has(const WbdMeterReading *reading, WbdQuantity quantity)
{
	return quantity < WBD_QUANTITY_LAST && (reading->measured & (1u << quantity)) != 0;
}

/*
 * GParamSpecDouble refuses NaN in g_object_set(), but the generated skeleton stores it
 * and compares doubles bit by bit, so a NaN that stays NaN emits nothing. So call the
 * skeleton's set_property as g_object_set() would, without the range check. Generated
 * skeletons number their properties from 1 in the order of the interface info.
 */
static const gchar *quantity_gprops[WBD_QUANTITY_LAST] = {
    "power",
    "voltage",
    "current",
    "energy",
    "power-factor",
    "frequency",
    "reactive-power",
    "apparent-power",
    "energy-today",
    "energy-this-month",
    "energy-exported",
};

static gdouble (*const quantity_getters[WBD_QUANTITY_LAST])(WattbusElectricityMeter *) = {
    wattbus_electricity_meter_get_power,
    wattbus_electricity_meter_get_voltage,
    wattbus_electricity_meter_get_current,
    wattbus_electricity_meter_get_energy,
    wattbus_electricity_meter_get_power_factor,
    wattbus_electricity_meter_get_frequency,
    wattbus_electricity_meter_get_reactive_power,
    wattbus_electricity_meter_get_apparent_power,
    wattbus_electricity_meter_get_energy_today,
    wattbus_electricity_meter_get_energy_this_month,
    wattbus_electricity_meter_get_energy_exported,
};

/* the skeleton class's pspec and property id of each quantity, looked up once */
typedef struct {
	GObjectClass *klass;
	GParamSpec *pspec[WBD_QUANTITY_LAST];
	guint prop_id[WBD_QUANTITY_LAST];
} SkeletonProps;

static const SkeletonProps *
wbd_skeleton_props(GObject *object)
{
	static SkeletonProps cache; /* the main thread's; one skeleton class in practice */
	GObjectClass *klass = G_OBJECT_GET_CLASS(object);
	GDBusInterfaceInfo *info;

	if (cache.klass == klass)
		return &cache;
	info = g_dbus_interface_skeleton_get_info(G_DBUS_INTERFACE_SKELETON(object));
	for (guint q = 0; q < WBD_QUANTITY_LAST; q++) {
		cache.pspec[q] = g_object_class_find_property(klass, quantity_gprops[q]);
		cache.prop_id[q] = 0;
		for (guint i = 0; info->properties != NULL && info->properties[i] != NULL; i++) {
			if (g_strcmp0(info->properties[i]->name, quantity_names[q]) == 0) {
				cache.prop_id[q] = i + 1;
				break;
			}
		}
	}
	cache.klass = klass;
	return &cache;
}

static void
wbd_skeleton_set_double(gpointer skeleton, WbdQuantity quantity, gdouble value, gboolean force)
{
	GObject *object = G_OBJECT(skeleton);
	const SkeletonProps *props = wbd_skeleton_props(object);
	GParamSpec *pspec = props->pspec[quantity];
	gdouble old = quantity_getters[quantity](WATTBUS_ELECTRICITY_METER(skeleton));
	g_auto(GValue) gvalue = G_VALUE_INIT;

	g_return_if_fail(pspec != NULL && G_IS_PARAM_SPEC_DOUBLE(pspec));
	g_return_if_fail(props->prop_id[quantity] != 0);
	/* bit by bit, as the skeleton compares: a NaN that stays NaN is no change. An
	 * unchanged value is not set at all: the notify it would cost is thrown away */
	if (!force && memcmp(&old, &value, sizeof(gdouble)) == 0)
		return;
	g_value_init(&gvalue, G_TYPE_DOUBLE);
	g_value_set_double(&gvalue, value);
	G_OBJECT_GET_CLASS(object)->set_property(object, props->prop_id[quantity], &gvalue, pspec);
}


void
wbd_meter_reading_publish_empty(WattbusElectricityMeter *meter)
{
	WbdMeterReading empty;
	wbd_meter_reading_init(&empty);
	wbd_meter_reading_publish(meter, &empty);
}

/*
 * whether @old (an "ad": the property's GParamSpecVariant takes nothing else) holds the
 * @n doubles of @values, bit by bit (as g_variant_equal() compares)
 */
static gboolean
wbd_meter_phase_values_equal(GVariant *old, const gdouble *values, guint n)
{
	gsize n_old = 0;
	gconstpointer data;

	if (old == NULL)
		return FALSE;
	data = g_variant_get_fixed_array(old, &n_old, sizeof(gdouble));
	return n_old == n && (n == 0 || memcmp(data, values, n * sizeof(gdouble)) == 0);
}

static void
wbd_meter_set_phase_values(WattbusElectricityMeter *meter,
			    const WbdMeterReading *reading,
			    WbdQuantity quantity,
			    GVariant *(*getter)(WattbusElectricityMeter *),
			    const gchar *gprop,
			    gboolean force)
{
	GVariant *value;
	guint n = 0;
	if (reading->phase_measured & (1u << quantity))
		n = MIN(reading->n_phases, WBD_METER_MAX_PHASES);
	/* unchanged: nothing built, nothing set (GObject would notify all the same) */
	if (!force && wbd_meter_phase_values_equal(getter(meter), reading->phase[quantity], n))
		return;
	value = g_variant_ref_sink(
	    g_variant_new_fixed_array(G_VARIANT_TYPE_DOUBLE, reading->phase[quantity], n, sizeof(gdouble)));
	g_object_set(meter, gprop, value, NULL);
	g_variant_unref(value);
}

/* what a meter skeleton was last given (its qdata) */
typedef struct {
	guint publishes;
	WbdMeterReading last; /* what the properties hold, once publishes >= 2 */
} WbdMeterState;

/**
 * wbd_device_set_meter_reading:
 *
 * Publishes a whole meter reading at once: unmeasured quantities become NaN and
 * `Measured` lists the others. Unchanged values emit nothing.
 */
void
wbd_meter_reading_publish(WattbusElectricityMeter *meter, const WbdMeterReading *reading)
{
	static const struct {
		WbdQuantity quantity;
		GVariant *(*getter)(WattbusElectricityMeter *);
		const gchar *gprop;
		const gchar *name;
	} phase_props[] = {
	    {WBD_QUANTITY_POWER, wattbus_electricity_meter_get_phase_power, "phase-power", "PhasePower"},
	    {WBD_QUANTITY_VOLTAGE, wattbus_electricity_meter_get_phase_voltage, "phase-voltage", "PhaseVoltage"},
	    {WBD_QUANTITY_CURRENT, wattbus_electricity_meter_get_phase_current, "phase-current", "PhaseCurrent"},
	    {WBD_QUANTITY_POWER_FACTOR,
	     wattbus_electricity_meter_get_phase_power_factor,
	     "phase-power-factor",
	     "PhasePowerFactor"},
	    {WBD_QUANTITY_REACTIVE_POWER,
	     wattbus_electricity_meter_get_phase_reactive_power,
	     "phase-reactive-power",
	     "PhaseReactivePower"},
	    {WBD_QUANTITY_APPARENT_POWER,
	     wattbus_electricity_meter_get_phase_apparent_power,
	     "phase-apparent-power",
	     "PhaseApparentPower"},
	};
	/* the names of what is measured, on the stack: no allocation a poll */
	const gchar *measured[WBD_QUANTITY_LAST + G_N_ELEMENTS(phase_props) + 1];
	guint n_measured = 0;
	const gchar *const *old_measured;
	gboolean measured_changed = FALSE;
	/*
	 * The first two publishes (the empty one of a new meter, the first reading) set
	 * every property, so that whoever follows "notify" sees each value once. After
	 * that, unchanged values are not set at all: GObject would notify on every set,
	 * and the notify handler would look the value up only to throw it away (most of
	 * the cost of a poll of a steady meter).
	 */
	static GQuark state_quark = 0;
	WbdMeterState *state;
	gboolean force;

	if (state_quark == 0)
		state_quark = g_quark_from_static_string("wbd-meter-state");
	state = g_object_get_qdata(G_OBJECT(meter), state_quark);
	if (state == NULL) {
		state = g_new0(WbdMeterState, 1);
		g_object_set_qdata_full(G_OBJECT(meter), state_quark, state, g_free);
	}
	/*
	 * The reading's properties of a meter change only here, so a reading equal bit for
	 * bit to the last one published would set nothing: not even compared property by
	 * property (a steady plug, at every poll)
	 */
	if (state->publishes >= 2 && memcmp(&state->last, reading, sizeof(*reading)) == 0)
		return;
	force = state->publishes < 2;
	if (force)
		state->publishes++;
	state->last = *reading;

	for (guint i = 0; i < WBD_QUANTITY_LAST; i++) {
		gboolean has = wbd_meter_reading_has(reading, i);
		if (has)
			measured[n_measured++] = quantity_names[i];
		wbd_skeleton_set_double(meter, i, has ? reading->values[i] : NAN, force);
	}
	for (guint i = 0; i < G_N_ELEMENTS(phase_props); i++) {
		if (reading->n_phases > 0 &&
		    (reading->phase_measured & (1u << phase_props[i].quantity)))
			measured[n_measured++] = phase_props[i].name;
		wbd_meter_set_phase_values(meter,
					    reading,
					    phase_props[i].quantity,
					    phase_props[i].getter,
					    phase_props[i].gprop,
					    force);
	}
	if (force || wattbus_electricity_meter_get_phases(meter) !=
			 MIN(reading->n_phases, WBD_METER_MAX_PHASES))
		wattbus_electricity_meter_set_phases(meter,
						     MIN(reading->n_phases, WBD_METER_MAX_PHASES));
	measured[n_measured] = NULL;

	old_measured = wattbus_electricity_meter_get_measured(meter);
	measured_changed = old_measured == NULL ||
			   !g_strv_equal(old_measured, measured);
	if (measured_changed)
		wattbus_electricity_meter_set_measured(meter, measured);
}

