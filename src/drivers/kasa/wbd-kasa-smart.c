/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include <wattbus-glib.h>

#include "wbd-json.h"
#include "wbd-kasa-codec.h"
#include "wbd-kasa-crypto.h"
#include "wbd-kasa-energy.h"
#include "wbd-kasa-outlet.h"
#include "wbd-kasa-smart-proto.h"
#include "wbd-kasa-smart.h"
#include "wbd-kasa-sysinfo.h"
#include "wbd-log.h"

/*
 * The SMART protocol (kasa-smart.md §5): component_nego once, then a poll is one
 * multipleRequest on the device (get_device_info, the child list, the energy methods,
 * optional ones last) and one control_child batch per metered outlet. A batch stops at
 * its first failing entry, so what a reply lacks is asked again; a method the device
 * does not have (-1002, -1008) is remembered and not asked again. IOT devices on KLAP
 * get the XOR-era requests, read by the XOR path's parsers.
 */

#define SMART_MAX_CHILDREN 16
#define SMART_MAX_PAGES 8
#define SMART_MAX_ROUNDS 6
#define NN(s) ((s) != NULL ? (s) : "")

typedef enum {
	FAMILY_UNKNOWN,
	FAMILY_SMART,
	FAMILY_IOT,
} Family;

struct _WbdKasaSmart {
	WbdKasaDevice *device; /* owns us */
	WbdKasaHttp *http;
	Family family;
	gint energy_version; /* component energy_monitoring, 0: none */
	gboolean has_children;
	gboolean single; /* no multipleRequest on this device */
	gboolean iot_emeter;
	GHashTable *unsupported; /* "method" or "child:method" */
	GPtrArray *child_ids;	 /* the device ids of the outlets, in position order */
	gchar *terminal_uuid;
	gchar *applied; /* a plug's identity and state as last set (see apply_parent) */
};

typedef enum {
	STEP_NEGO,
	STEP_PARENT,
	STEP_PAGES,
	STEP_CHILDREN,
	STEP_DONE,
} Step;

typedef struct {
	WbdKasaSmart *smart;
	Step step;
	gint io_priority;
	/* the batch in flight */
	GPtrArray *pending; /* const gchar *, methods still to be answered */
	gchar *child_id;    /* NULL: the device itself */
	GHashTable *results; /* method → JsonObject (ref) */
	guint rounds;
	/* what the poll read */
	JsonObject *info;
	GPtrArray *entries; /* JsonObject (ref), the child list */
	gint64 sum;
	guint child;
	GArray *readings;
} Refresh;

static void
refresh_free(Refresh *r)
{
	g_clear_pointer(&r->pending, g_ptr_array_unref);
	g_free(r->child_id);
	g_clear_pointer(&r->results, g_hash_table_unref);
	g_clear_pointer(&r->info, json_object_unref);
	g_clear_pointer(&r->entries, g_ptr_array_unref);
	g_clear_pointer(&r->readings, g_array_unref);
	g_free(r);
}

/* the poll */

static void
refresh_step(GTask *task);

static void
refresh_fail(GTask *task, GError *error)
{
	g_task_return_error(task, error);
	g_object_unref(task);
}

static const gchar *const energy_methods[] = {"get_energy_usage", "get_current_power", "get_emeter_data"};

static gboolean
is_unsupported(WbdKasaSmart *self, const gchar *child_id, const gchar *method)
{
	g_autofree gchar *key = g_strconcat(child_id != NULL ? "child:" : "", method, NULL);
	return g_hash_table_contains(self->unsupported, key);
}

static void
add_energy_methods(WbdKasaSmart *self, GPtrArray *methods, const gchar *child_id)
{
	for (guint i = 0; i < G_N_ELEMENTS(energy_methods); i++) {
		if (i > 0 && self->energy_version < 2)
			break;
		if (!is_unsupported(self, child_id, energy_methods[i]))
			g_ptr_array_add(methods, (gpointer)energy_methods[i]);
	}
}

static void
batch_cb(GObject *source, GAsyncResult *res, gpointer user_data);

static void
batch_send(GTask *task)
{
	Refresh *r = g_task_get_task_data(task);
	WbdKasaSmart *self = r->smart;
	g_autoptr(JsonNode) inner = NULL;
	g_autoptr(JsonNode) params = NULL;
	g_autoptr(GPtrArray) one = g_ptr_array_new();
	g_autofree gchar *json = NULL;
	GPtrArray *methods = r->pending;

	if (self->single && methods->len > 1) {
		g_ptr_array_add(one, g_ptr_array_index(methods, 0));
		methods = one;
	}
	r->rounds++;
	if (methods->len > 1)
		inner = wbd_kasa_smart_multiple_params(methods);
	if (r->child_id != NULL) {
		params = wbd_kasa_smart_control_child_params(r->child_id,
					      methods->len > 1 ? "multipleRequest" : g_ptr_array_index(methods, 0),
					      inner);
		json = wbd_kasa_smart_request(self->terminal_uuid, "control_child", params);
	} else {
		json = wbd_kasa_smart_request(self->terminal_uuid, methods->len > 1 ? "multipleRequest" : g_ptr_array_index(methods, 0), inner);
	}
	g_object_set_data(G_OBJECT(task), "wbd-single", methods->len > 1 ? NULL : g_ptr_array_index(methods, 0));
	wbd_kasa_http_request_async(self->http, json, r->io_priority, g_task_get_cancellable(task), batch_cb, task);
}

/* one answered method of a batch */
static void
batch_take(GTask *task, const gchar *method, gdouble code, JsonObject *result)
{
	Refresh *r = g_task_get_task_data(task);
	for (guint i = 0; i < r->pending->len; i++) {
		const gchar *m = g_ptr_array_index(r->pending, i);
		if (g_strcmp0(m, method) != 0)
			continue;
		if (code == 0 && result != NULL) {
			g_hash_table_replace(r->results, (gpointer)m, json_object_ref(result));
		} else if (g_strcmp0(m, "get_device_info") != 0) {
			/* an optional method this device (or its outlets) does not have */
			g_autofree gchar *key = g_strconcat(r->child_id != NULL ? "child:" : "", m, NULL);
			wbd_dev_debug(r->smart->device, "%s answered error %.0f: not asked again", key, code);
			g_hash_table_add(r->smart->unsupported, g_steal_pointer(&key));
		}
		g_ptr_array_remove_index(r->pending, i);
		return;
	}
}

static void
batch_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	Refresh *r = g_task_get_task_data(task);
	const gchar *single = g_object_get_data(G_OBJECT(task), "wbd-single");
	g_autoptr(GError) error = NULL;
	g_autofree gchar *text = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonObject *result, *data;
	JsonArray *responses;
	guint before = r->pending->len;
	gdouble code = -100000;

	text = wbd_kasa_http_request_finish(WBD_KASA_HTTP(source), res, &error);
	if (text == NULL) {
		refresh_fail(task, g_steal_pointer(&error));
		return;
	}
	result = wbd_kasa_smart_parse_reply(&root, text, strlen(text), &error);
	if (result != NULL && r->child_id != NULL) {
		/* control_child: the inner reply is the one that counts (§5.8) */
		data = wbd_json_get_object(result, "responseData");
		if (data == NULL || !wbd_json_get_number(data, "error_code", &code)) {
			refresh_fail(task,
				     g_error_new_literal(WATTBUS_ERROR,
							 WATTBUS_ERROR_FAILED,
							 "Bad reply from the device: control_child without responseData"));
			return;
		}
		result = code == 0 ? wbd_json_get_object(data, "result") : NULL;
	} else if (result != NULL) {
		code = 0;
	} else if (single == NULL && !r->smart->single) {
		/* the whole batch refused (-1003 and the like): single requests from now on */
		wbd_dev_info(r->smart->device, "no multipleRequest (%s): single requests", error->message);
		r->smart->single = TRUE;
		batch_send(task);
		return;
	} else if (g_error_matches(error, WATTBUS_ERROR, WATTBUS_ERROR_NOT_SUPPORTED)) {
		code = -1002;
	} else {
		refresh_fail(task, g_steal_pointer(&error));
		return;
	}
	if (single != NULL) {
		batch_take(task, single, code, result);
	} else if (result != NULL && (responses = wbd_json_get_array(result, "responses")) != NULL) {
		for (guint i = 0; i < json_array_get_length(responses) && i < 32; i++) {
			JsonNode *node = json_array_get_element(responses, i);
			JsonObject *entry = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
			const gchar *method = entry != NULL ? wbd_json_get_string(entry, "method") : NULL;
			gdouble entry_code = -100000;
			if (method == NULL || !wbd_json_get_number(entry, "error_code", &entry_code))
				continue;
			batch_take(task, method, entry_code, entry_code == 0 ? wbd_json_get_object(entry, "result") : NULL);
		}
	} else if (code != 0 && r->child_id != NULL) {
		/* a refused control_child batch: its methods are not on the outlets */
		while (r->pending->len > 0)
			batch_take(task, g_ptr_array_index(r->pending, 0), code, NULL);
	}
	if (r->pending->len == 0) {
		refresh_step(task);
		return;
	}
	if (r->pending->len == before || r->rounds >= SMART_MAX_ROUNDS) {
		refresh_fail(task,
			     g_error_new(WATTBUS_ERROR,
					 WATTBUS_ERROR_FAILED,
					 "Bad reply from the device: no answer to %s",
					 (const gchar *)g_ptr_array_index(r->pending, 0)));
		return;
	}
	batch_send(task);
}

static void
batch_start(GTask *task, const gchar *child_id, GPtrArray *methods)
{
	Refresh *r = g_task_get_task_data(task);
	g_clear_pointer(&r->pending, g_ptr_array_unref);
	r->pending = methods;
	g_free(r->child_id);
	r->child_id = g_strdup(child_id);
	g_hash_table_remove_all(r->results);
	r->rounds = 0;
	if (methods->len == 0) {
		refresh_step(task);
		return;
	}
	batch_send(task);
}

/* component_nego, or the IOT answer that says this is no SMART device */
static void
nego_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	Refresh *r = g_task_get_task_data(task);
	WbdKasaSmart *self = r->smart;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *text = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonObject *result;
	JsonArray *list;
	gdouble code;

	text = wbd_kasa_http_request_finish(WBD_KASA_HTTP(source), res, &error);
	if (text == NULL) {
		refresh_fail(task, g_steal_pointer(&error));
		return;
	}
	root = wbd_json_parse_object(text, strlen(text), &error);
	if (root == NULL) {
		refresh_fail(task, g_steal_pointer(&error));
		return;
	}
	if (!wbd_json_get_number(json_node_get_object(root), "error_code", &code)) {
		/* the XOR-era protocol answers module by module, without an error_code */
		self->family = FAMILY_IOT;
		wbd_dev_info(self->device, "IOT protocol over %s", wbd_kasa_http_describe(self->http));
		refresh_step(task);
		return;
	}
	self->family = FAMILY_SMART;
	g_clear_pointer(&root, json_node_unref);
	result = wbd_kasa_smart_parse_reply(&root, text, strlen(text), NULL);
	list = result != NULL ? wbd_json_get_array(result, "component_list") : NULL;
	for (guint i = 0; list != NULL && i < json_array_get_length(list) && i < 256; i++) {
		JsonNode *node = json_array_get_element(list, i);
		JsonObject *c = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
		const gchar *id = c != NULL ? wbd_json_get_string(c, "id") : NULL;
		gdouble ver = 1;
		if (id == NULL)
			continue;
		wbd_json_get_number(c, "ver_code", &ver);
		if (g_strcmp0(id, "energy_monitoring") == 0)
			self->energy_version = ver >= 2 ? 2 : 1;
		else if (g_strcmp0(id, "child_device") == 0 || g_strcmp0(id, "control_child") == 0)
			self->has_children = TRUE;
	}
	wbd_dev_info(self->device,
		     "SMART protocol over %s%s%s",
		     wbd_kasa_http_describe(self->http),
		     self->energy_version > 0 ? ", energy monitoring" : "",
		     self->has_children ? ", outlets" : "");
	r->step = STEP_PARENT;
	refresh_step(task);
}

/* IOT JSON over KLAP: sysinfo (and the plug's meter) in one request */
static void
iot_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	Refresh *r = g_task_get_task_data(task);
	WbdKasaSmart *self = r->smart;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *text = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(WbdKasaSysinfo) info = NULL;
	JsonObject *result;

	text = wbd_kasa_http_request_finish(WBD_KASA_HTTP(source), res, &error);
	if (text != NULL)
		root = wbd_json_parse_object(text, strlen(text), &error);
	result = root != NULL ? wbd_kasa_reply_get_result(root, "system", "get_sysinfo", NULL, &error) : NULL;
	info = result != NULL ? wbd_kasa_sysinfo_parse(result, &error) : NULL;
	if (info == NULL) {
		refresh_fail(task, g_steal_pointer(&error));
		return;
	}
	self->iot_emeter = info->has_emeter && info->children->len == 0;
	wbd_kasa_device_apply_sysinfo(self->device, info);
	result = self->iot_emeter ? wbd_kasa_reply_get_result(root, "emeter", "get_realtime", NULL, NULL) : NULL;
	if (result != NULL) {
		WbdMeterReading reading;
		wbd_kasa_parse_realtime(result, &reading);
		wbd_device_set_meter_reading(WBD_DEVICE(self->device), &reading);
	}
	g_task_return_boolean(task, TRUE);
	g_object_unref(task);
}

static gint
compare_position(gconstpointer a, gconstpointer b)
{
	JsonObject *x = *(JsonObject **)a, *y = *(JsonObject **)b;
	gdouble px = 0, py = 0;
	wbd_json_get_number(x, "position", &px);
	wbd_json_get_number(y, "position", &py);
	return px < py ? -1 : px > py;
}

static void
pages_cb(GObject *source, GAsyncResult *res, gpointer user_data);

static void
take_child_page(Refresh *r, JsonObject *result, guint *added)
{
	JsonArray *list = wbd_json_get_array(result, "child_device_list");
	gdouble sum = 0;
	*added = 0;
	if (wbd_json_get_number(result, "sum", &sum) && sum >= 0 && sum <= SMART_MAX_CHILDREN)
		r->sum = (gint64)sum;
	for (guint i = 0; list != NULL && i < json_array_get_length(list); i++) {
		JsonNode *node = json_array_get_element(list, i);
		if (!JSON_NODE_HOLDS_OBJECT(node) || r->entries->len >= SMART_MAX_CHILDREN)
			continue;
		if (wbd_json_get_string(json_node_get_object(node), "device_id") == NULL)
			continue;
		g_ptr_array_add(r->entries, json_object_ref(json_node_get_object(node)));
		(*added)++;
	}
}

/* the next page of get_child_device_list (§5.8: at most 10 a page, start_index) */
static void
request_page(GTask *task)
{
	Refresh *r = g_task_get_task_data(task);
	g_autoptr(JsonBuilder) b = json_builder_new_immutable();
	g_autoptr(JsonNode) params = NULL;
	g_autofree gchar *json = NULL;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "start_index");
	json_builder_add_int_value(b, r->entries->len);
	json_builder_end_object(b);
	params = json_builder_get_root(b);
	json = wbd_kasa_smart_request(r->smart->terminal_uuid, "get_child_device_list", params);
	r->rounds++;
	wbd_kasa_http_request_async(r->smart->http,
				    json,
				    r->io_priority,
				    g_task_get_cancellable(task),
				    pages_cb,
				    task);
}

static void
pages_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	Refresh *r = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *text = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonObject *result = NULL;
	guint added = 0;

	text = wbd_kasa_http_request_finish(WBD_KASA_HTTP(source), res, &error);
	if (text != NULL)
		result = wbd_kasa_smart_parse_reply(&root, text, strlen(text), &error);
	if (result == NULL) {
		refresh_fail(task, g_steal_pointer(&error));
		return;
	}
	take_child_page(r, result, &added);
	if (added > 0 && (gint64)r->entries->len < r->sum && r->rounds < SMART_MAX_PAGES) {
		request_page(task);
		return;
	}
	r->step = STEP_CHILDREN;
	refresh_step(task);
}

/* a reading of the device or of outlet r->child from r->results */
static void
reading_from_results(Refresh *r, WbdMeterReading *reading)
{
	wbd_kasa_smart_read_energy(g_hash_table_lookup(r->results, "get_energy_usage"),
				   g_hash_table_lookup(r->results, "get_current_power"),
				   g_hash_table_lookup(r->results, "get_emeter_data"),
				   reading);
}

/* after the parent's batch and pages: the device itself, and its outlets' objects */
static void
apply_parent(GTask *task)
{
	Refresh *r = g_task_get_task_data(task);
	WbdKasaSmart *self = r->smart;
	WbdDevice *device = WBD_DEVICE(self->device);
	gboolean on = FALSE;
	gboolean switchable = wbd_kasa_smart_info_on(r->info, &on);
	g_autofree gchar *fallback = NULL;
	gboolean same;

	if (r->entries->len == 0) {
		gboolean metered = self->energy_version > 0 && switchable;
		/*
		 * Each setter costs a property set and its notify, even unchanged (a tenth of a
		 * poll's CPU): when nothing but the readings changed since the last poll, set
		 * only those, as the XOR path does.
		 */
		g_autofree gchar *applied = g_strdup_printf("%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%d%d%d",
							    NN(wbd_json_get_string(r->info, "model")),
							    NN(wbd_json_get_string(r->info, "hw_ver")),
							    NN(wbd_json_get_string(r->info, "fw_ver")),
							    NN(wbd_json_get_string(r->info, "device_id")),
							    NN(wbd_json_get_string(r->info, "mac")),
							    NN(wbd_json_get_string(r->info, "nickname")),
							    wbd_kasa_smart_kind(r->info),
							    switchable,
							    metered,
							    on);
		if (self->child_ids->len > 0) {
			wbd_device_remove_children(device);
			g_ptr_array_set_size(self->child_ids, 0);
		}
		if (g_strcmp0(applied, self->applied) != 0) {
			wbd_kasa_smart_apply_identity(device, r->info, NULL);
			wbd_device_set_kind(device, wbd_kasa_smart_kind(r->info));
			wbd_device_set_capabilities(device,
						    (switchable ? WBD_DEVICE_CAP_OUTLET : 0) |
							(metered ? WBD_DEVICE_CAP_ELECTRICITY_METER : 0));
			wbd_device_set_measurement(device, "load");
			if (switchable)
				wbd_device_set_on(device, on);
			g_free(self->applied);
			self->applied = g_steal_pointer(&applied);
		}
		if (metered) {
			WbdMeterReading reading;
			reading_from_results(r, &reading);
			wbd_kasa_energy_count(device, &reading);
			wbd_device_set_meter_reading(device, &reading);
		}
		return;
	}

	/* a strip: outlets in position order (the list's order is not theirs, §5.8) */
	g_clear_pointer(&self->applied, g_free);
	g_ptr_array_sort(r->entries, compare_position);
	wbd_kasa_smart_apply_identity(device, r->info, NULL);
	wbd_device_set_kind(device, "strip");
	wbd_device_set_capabilities(device, self->energy_version > 0 ? WBD_DEVICE_CAP_ELECTRICITY_METER : 0);
	wbd_device_set_measurement(device, "load");
	same = self->child_ids->len == r->entries->len;
	for (guint i = 0; same && i < r->entries->len; i++)
		same = g_strcmp0(g_ptr_array_index(self->child_ids, i),
				 wbd_json_get_string(g_ptr_array_index(r->entries, i), "device_id")) == 0;
	if (!same) {
		wbd_dev_debug(device, "%u outlets", r->entries->len);
		wbd_device_remove_children(device);
		g_ptr_array_set_size(self->child_ids, 0);
		for (guint i = 0; i < r->entries->len; i++) {
			const gchar *child_id = wbd_json_get_string(g_ptr_array_index(r->entries, i), "device_id");
			g_autofree gchar *id = g_strdup_printf("%s_%u", wbd_device_get_id(device), i + 1);
			g_autoptr(WbdDevice) outlet = wbd_kasa_outlet_new(self->device, id, child_id, i);
			g_ptr_array_add(self->child_ids, g_strdup(child_id));
			wbd_device_add_child(device, outlet);
		}
	}
	for (guint i = 0; i < r->entries->len; i++) {
		JsonObject *entry = g_ptr_array_index(r->entries, i);
		WbdDevice *outlet = g_ptr_array_index(wbd_device_get_children(device), i);
		gboolean child_on = FALSE;
		g_free(fallback);
		fallback = g_strdup_printf("%s %u", wbd_json_get_string(r->info, "model"), i + 1);
		wbd_kasa_smart_apply_identity(outlet, entry, fallback);
		wbd_device_set_kind(outlet, "outlet");
		wbd_device_set_capabilities(outlet,
					    WBD_DEVICE_CAP_OUTLET |
						(self->energy_version > 0 ? WBD_DEVICE_CAP_ELECTRICITY_METER : 0));
		wbd_device_set_measurement(outlet, "load");
		if (wbd_kasa_smart_info_on(entry, &child_on))
			wbd_device_set_on(outlet, child_on);
	}
}

static void
refresh_step(GTask *task)
{
	Refresh *r = g_task_get_task_data(task);
	WbdKasaSmart *self = r->smart;
	GPtrArray *methods;
	g_autofree gchar *json = NULL;

	if (self->family == FAMILY_UNKNOWN) {
		json = wbd_kasa_smart_request(self->terminal_uuid, "component_nego", NULL);
		wbd_kasa_http_request_async(self->http, json, r->io_priority, g_task_get_cancellable(task), nego_cb, task);
		return;
	}
	if (self->family == FAMILY_IOT) {
		wbd_kasa_http_request_async(self->http,
					    self->iot_emeter
						? "{\"system\":{\"get_sysinfo\":{}},\"emeter\":{\"get_realtime\":{}}}"
						: "{\"system\":{\"get_sysinfo\":{}}}",
					    r->io_priority,
					    g_task_get_cancellable(task),
					    iot_cb,
					    task);
		return;
	}
	switch (r->step) {
	case STEP_NEGO:
	case STEP_PARENT:
		r->step = STEP_PAGES;
		methods = g_ptr_array_new();
		g_ptr_array_add(methods, "get_device_info");
		if (self->has_children && !is_unsupported(self, NULL, "get_child_device_list"))
			g_ptr_array_add(methods, "get_child_device_list");
		else if (self->energy_version > 0)
			add_energy_methods(self, methods, NULL);
		batch_start(task, NULL, methods);
		return;
	case STEP_PAGES: {
		JsonObject *list = g_hash_table_lookup(r->results, "get_child_device_list");
		guint added = 0;
		r->info = json_object_ref(g_hash_table_lookup(r->results, "get_device_info"));
		if (list != NULL)
			take_child_page(r, list, &added);
		if (added > 0 && (gint64)r->entries->len < r->sum) {
			r->rounds = 0;
			request_page(task);
			return;
		}
		r->step = STEP_CHILDREN;
		refresh_step(task);
		return;
	}
	case STEP_CHILDREN:
		if (r->child == 0 && r->readings == NULL) {
			apply_parent(task);
			r->readings = g_array_new(FALSE, FALSE, sizeof(WbdMeterReading));
		} else {
			/* the outlet whose batch just finished */
			WbdDevice *outlet = g_ptr_array_index(wbd_device_get_children(WBD_DEVICE(self->device)), r->child);
			WbdMeterReading reading;
			reading_from_results(r, &reading);
			wbd_kasa_energy_count(outlet, &reading);
			wbd_device_set_meter_reading(outlet, &reading);
			g_array_append_val(r->readings, reading);
			r->child++;
		}
		if (self->energy_version > 0 && r->child < self->child_ids->len) {
			methods = g_ptr_array_new();
			add_energy_methods(self, methods, g_ptr_array_index(self->child_ids, r->child));
			if (methods->len > 0) {
				batch_start(task, g_ptr_array_index(self->child_ids, r->child), methods);
				return;
			}
			g_ptr_array_unref(methods);
		}
		if (self->energy_version > 0 && self->child_ids->len > 0 && r->readings->len == self->child_ids->len) {
			WbdMeterReading total;
			wbd_kasa_sum_readings((WbdMeterReading *)(void *)r->readings->data, r->readings->len, &total);
			wbd_device_set_meter_reading(WBD_DEVICE(self->device), &total);
		}
		r->step = STEP_DONE;
		/* fall through */
	case STEP_DONE:
	default:
		g_task_return_boolean(task, TRUE);
		g_object_unref(task);
		return;
	}
}

void
wbd_kasa_smart_refresh_async(WbdKasaSmart *self,
			     gint io_priority,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	GTask *task = g_task_new(self->device, cancellable, callback, user_data);
	Refresh *r = g_new0(Refresh, 1);
	r->smart = self;
	r->io_priority = io_priority;
	r->results = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)json_object_unref);
	r->entries = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
	g_task_set_source_tag(task, wbd_kasa_smart_refresh_async);
	g_task_set_task_data(task, r, (GDestroyNotify)refresh_free);
	refresh_step(task);
}

gboolean
wbd_kasa_smart_finish(WbdKasaDevice *device, GAsyncResult *res, GError **error)
{
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* switching (§5.6): set_device_info, wrapped in control_child for an outlet */

static void
switch_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	const gchar *child_id = g_task_get_task_data(task);
	GError *error = NULL;
	g_autofree gchar *text = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonObject *result = NULL, *data;
	gdouble code = -100000;
	WbdKasaSmart *self = g_object_get_data(G_OBJECT(task), "wbd-smart");

	/* the next poll sets the state whole, not compared with one from before the switch */
	g_clear_pointer(&self->applied, g_free);
	text = wbd_kasa_http_request_finish(WBD_KASA_HTTP(source), res, &error);
	if (text != NULL && g_task_get_task_data(task) == (gpointer)switch_cb) {
		/* IOT over KLAP: the XOR-era reply */
		root = wbd_json_parse_object(text, strlen(text), &error);
		result = root != NULL ? wbd_kasa_reply_get_result(root, "system", "set_relay_state", NULL, &error) : NULL;
		child_id = NULL;
	} else if (text != NULL) {
		result = wbd_kasa_smart_parse_reply(&root, text, strlen(text), &error);
	}
	if (result != NULL && child_id != NULL) {
		data = wbd_json_get_object(result, "responseData");
		if (data == NULL || !wbd_json_get_number(data, "error_code", &code) || code != 0) {
			result = NULL;
			error = g_error_new(WATTBUS_ERROR,
					    WATTBUS_ERROR_FAILED,
					    "The outlet refused switching (error %.0f)",
					    code);
		}
	}
	if (result == NULL) {
		g_task_return_error(task, error);
		return;
	}
	g_task_return_boolean(task, TRUE);
}

void
wbd_kasa_smart_switch_async(WbdKasaSmart *self,
			    WbdDevice *target,
			    const gchar *child_id,
			    gboolean on,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data)
{
	GTask *task = g_task_new(self->device, cancellable, callback, user_data);
	g_autoptr(JsonBuilder) b = json_builder_new_immutable();
	g_autoptr(JsonNode) params = NULL;
	g_autoptr(JsonNode) wrapped = NULL;
	g_autofree gchar *json = NULL;

	g_task_set_source_tag(task, wbd_kasa_smart_switch_async);
	g_task_set_task_data(task, g_strdup(child_id), g_free);
	/* the device (the task's source) owns @self */
	g_object_set_data(G_OBJECT(task), "wbd-smart", self);
	if (self->family == FAMILY_IOT) {
		g_autoptr(JsonBuilder) state = json_builder_new_immutable();
		g_autoptr(JsonNode) state_params = NULL;
		json_builder_begin_object(state);
		json_builder_set_member_name(state, "state");
		json_builder_add_int_value(state, on ? 1 : 0);
		json_builder_end_object(state);
		state_params = json_builder_get_root(state);
		json = wbd_kasa_build_request("system", "set_relay_state", state_params, child_id);
		g_task_set_task_data(task, (gpointer)switch_cb, NULL);
		wbd_kasa_http_request_async(self->http, json, G_PRIORITY_DEFAULT, cancellable, switch_cb, task);
		return;
	}
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "device_on");
	json_builder_add_boolean_value(b, on);
	json_builder_end_object(b);
	params = json_builder_get_root(b);
	if (child_id != NULL) {
		wrapped = wbd_kasa_smart_control_child_params(child_id, "set_device_info", params);
		json = wbd_kasa_smart_request(self->terminal_uuid, "control_child", wrapped);
	} else {
		json = wbd_kasa_smart_request(self->terminal_uuid, "set_device_info", params);
	}
	wbd_kasa_http_request_async(self->http, json, G_PRIORITY_DEFAULT, cancellable, switch_cb, task);
}

WbdKasaSmart *
wbd_kasa_smart_new(WbdKasaDevice *device, WbdKasaHttp *http)
{
	WbdKasaSmart *self = g_new0(WbdKasaSmart, 1);
	guint8 uuid[16];
	self->device = device;
	self->http = g_object_ref(http);
	self->unsupported = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->child_ids = g_ptr_array_new_with_free_func(g_free);
	if (!wbd_kasa_random(uuid, sizeof(uuid)))
		memset(uuid, 0x5a, sizeof(uuid));
	self->terminal_uuid = g_base64_encode(uuid, sizeof(uuid));
	return self;
}

void
wbd_kasa_smart_free(WbdKasaSmart *self)
{
	if (self == NULL)
		return;
	g_clear_object(&self->http);
	g_hash_table_unref(self->unsupported);
	g_ptr_array_unref(self->child_ids);
	wbd_kasa_energy_flush();
	g_free(self->terminal_uuid);
	g_free(self->applied);
	g_free(self);
}
