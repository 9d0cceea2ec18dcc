#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A small desktop applet for Wattbus, GTK 4 through GObject introspection.

Shows every outlet with its switch and live power, the other meters, and the solar
balance (production, consumption, and the grid import or export) from the meters whose
Measurement is production, net-consumption or total-consumption (an Enphase gateway has
them; plugs do not, and then the row says "no solar meter"), with the battery beside them
when the site has one (charging or discharging, W, and % charged). Everything updates from
the daemon's D-Bus signals (GObject notify on the proxies of Wattbus.Client): no polling.

Usage: wattbus-applet.py [--session|--system]   (or WATTBUS_BUS=session)

For tests, --control reads commands on the standard input, one per line, each answered
by one line: "dump" (the texts of the widgets, as JSON), "screenshot FILE.png" (the
window, rendered inside the applet), "toggle ID" (flip an outlet's switch as a click
does).
"""

import json
import os
import sys

import gi

gi.require_version("Gdk", "4.0")
gi.require_version("Gtk", "4.0")
from gi.repository import Gdk, Gio, GLib, Gtk  # noqa: E402

# the bus choice and readings, as the Python examples have them
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from wbexample import connect, parser, reading  # noqa: E402

SOLAR_MEASUREMENTS = ("production", "net-consumption", "total-consumption")

CSS = """
.title-row { padding: 6px 12px; }
.section { font-weight: bold; margin-top: 12px; margin-bottom: 4px; }
.value { font-feature-settings: "tnum"; }
.big { font-size: 18pt; }
.caption { font-size: 9pt; opacity: 0.7; }
.importing { color: #c01c28; }
.exporting { color: #26a269; }
.offline { opacity: 0.5; }
.status { font-size: 9pt; opacity: 0.7; margin-top: 8px; }
"""


def format_power(watts):
    """61.753 → "61.8 W", 2400 → "2.40 kW"; None (not measured) → "—"."""
    if watts is None:
        return "—"
    if abs(watts) >= 1000:
        return "%.2f kW" % (watts / 1000)
    return "%.1f W" % watts


def solar_balance(meters):
    """The balance from (measurement, power) pairs of the site's meters, in W: a dict
    with production, consumption and net (positive: importing from the grid), each None
    when no meter says it, or None when there is no such meter at all. One missing value
    follows from the other two: consumption = production + net."""
    sums = {}
    for measurement, power in meters:
        if measurement in SOLAR_MEASUREMENTS and power is not None:
            sums[measurement] = sums.get(measurement, 0.0) + power
    if not sums:
        return None
    production = sums.get("production")
    net = sums.get("net-consumption")
    consumption = sums.get("total-consumption")
    if consumption is None and production is not None and net is not None:
        consumption = production + net
    if net is None and production is not None and consumption is not None:
        net = consumption - production
    if production is None and consumption is not None and net is not None:
        production = consumption - net
    return {"production": production, "consumption": consumption, "net": net}


def battery_balance(batteries):
    """The batteries' flow from (aggregate, power, state of charge, capacity) of each
    Battery object, as the SSE exporter's `energy` event has it: the aggregates (a
    gateway's all-batteries object) where there are any, else every battery; power
    summed (positive while charging), the charge weighted by capacity. None without
    batteries; a value None when one battery lacks it."""
    if not batteries:
        return None
    chosen = [b for b in batteries if b[0]] or batteries
    powers = [b[1] for b in chosen]
    socs = [b[2] for b in chosen]
    caps = [b[3] for b in chosen]
    power = None if None in powers else sum(powers)
    if None in socs:
        soc = None
    elif None not in caps and sum(caps) > 0:
        soc = sum(s * c for s, c in zip(socs, caps)) / sum(caps)
    else:
        soc = sum(socs) / len(socs)
    return {"power": power, "soc": soc}


def battery_text(balance):
    """{"power": 6592, "soc": 46} → "charging 6.59 kW · 46 %"."""
    power, soc = balance["power"], balance["soc"]
    if power is None:
        text = format_power(None)
    elif abs(power) < 1:
        text = "idle"
    else:
        text = ("charging " if power > 0 else "discharging ") + format_power(abs(power))
    return text + ("" if soc is None else " · %d %%" % round(soc))


def render_png_ctypes(snapshot, renderer, path):
    """gtk_snapshot_to_node(), gsk_renderer_render_texture(), gdk_texture_save_to_png()
    on the C objects behind the Python ones."""
    import ctypes
    lib = ctypes.CDLL("libgtk-4.so.1")
    capsule = ctypes.pythonapi.PyCapsule_GetPointer
    capsule.restype = ctypes.c_void_p
    capsule.argtypes = [ctypes.py_object, ctypes.c_char_p]
    for name, res, args in [("gtk_snapshot_to_node", ctypes.c_void_p, [ctypes.c_void_p]),
                            ("gsk_renderer_render_texture", ctypes.c_void_p,
                             [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]),
                            ("gdk_texture_save_to_png", ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p]),
                            ("gsk_render_node_unref", None, [ctypes.c_void_p]),
                            ("g_object_unref", None, [ctypes.c_void_p])]:
        getattr(lib, name).restype = res
        getattr(lib, name).argtypes = args
    node = lib.gtk_snapshot_to_node(capsule(snapshot.__gpointer__, None))
    if not node:
        return False
    texture = lib.gsk_renderer_render_texture(capsule(renderer.__gpointer__, None), node, None)
    lib.gsk_render_node_unref(node)
    ok = bool(texture) and lib.gdk_texture_save_to_png(texture, os.fsencode(path)) != 0
    if texture:
        lib.g_object_unref(texture)
    return ok


class DeviceRow(Gtk.ListBoxRow):
    """One outlet (name, power, switch) or one meter (name, power, voltage, energy),
    following the notify signals of its proxies."""

    def __init__(self, window, obj):
        super().__init__(activatable=False, selectable=False)
        self.window = window
        self.obj = obj
        self.device = obj.get_device()
        self.id = self.device.props.id
        self.outlet = None
        self.meter = None
        self.inverter = None  # an inverter has no meter: its power is Inverter.Power
        self.battery = None  # a battery: Battery.Power, positive while charging
        self.handlers = []
        box = Gtk.Box(spacing=12, margin_top=6, margin_bottom=6, margin_start=12, margin_end=12)
        names = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, hexpand=True)
        self.name_label = Gtk.Label(xalign=0, ellipsize=3)
        self.detail_label = Gtk.Label(xalign=0, css_classes=["caption"])
        names.append(self.name_label)
        names.append(self.detail_label)
        self.power_label = Gtk.Label(xalign=1, css_classes=["value"])
        self.switch = Gtk.Switch(valign=Gtk.Align.CENTER)
        self.switch.connect("state-set", self.on_state_set)
        box.append(names)
        box.append(self.power_label)
        box.append(self.switch)
        self.set_child(box)
        self.watch(self.device, ["name", "online", "model", "last-error"])
        self.update_interfaces()

    def watch(self, proxy, props):
        for prop in props:
            self.handlers.append((proxy, proxy.connect("notify::" + prop, lambda *_: self.update())))

    def update_interfaces(self):
        """(Re)connects to the Outlet and ElectricityMeter proxies, which a device gets
        after its first poll and may lose."""
        outlet, meter = self.obj.get_outlet(), self.obj.get_electricity_meter()
        if outlet is not self.outlet:
            self.outlet = outlet
            if outlet is not None:
                self.watch(outlet, ["on"])
        if meter is not self.meter:
            self.meter = meter
            if meter is not None:
                self.watch(meter, ["power", "voltage", "energy", "measured", "measurement"])
        inverter = self.obj.get_inverter()
        if inverter is not self.inverter:
            self.inverter = inverter
            if inverter is not None:
                self.watch(inverter, ["power"])
        battery = self.obj.get_battery()
        if battery is not self.battery:
            self.battery = battery
            if battery is not None:
                self.watch(battery, ["power", "state-of-charge", "state", "capacity", "aggregate"])
        self.update()

    def disconnect_all(self):
        for proxy, handler in self.handlers:
            proxy.disconnect(handler)
        self.handlers = []

    @property
    def is_outlet(self):
        return self.outlet is not None

    def update(self):
        online = self.device.props.online
        self.name_label.set_text(self.device.props.name or self.id)
        details = [self.id]
        if not online:
            details.append(self.device.props.last_error or "offline")
        elif not self.is_outlet:
            voltage = reading(self.meter, "Voltage")
            energy = reading(self.meter, "Energy")
            if voltage is not None:
                details.append("%.1f V" % voltage)
            if energy is not None:
                details.append("%.2f kWh" % (energy / 1000))
            if self.meter is not None and self.meter.props.measurement not in ("", "load"):
                details.append(self.meter.props.measurement)
            if self.meter is None and self.inverter is not None:
                details.append("production")
            if self.battery is not None:
                soc = reading(self.battery, "StateOfCharge")
                if soc is not None:
                    details.append("%d %%" % round(soc))
                details.append(self.battery.props.state or "unknown")
        self.detail_label.set_text(" · ".join(details))
        source = self.meter or self.inverter or self.battery
        self.power_label.set_text(format_power(reading(source, "Power")) if source else "")
        self.switch.set_visible(self.is_outlet)
        if self.is_outlet:
            on = self.outlet.props.on
            # set_state follows the device; set_active the knob, without a new request
            self.switch.handler_block_by_func(self.on_state_set)
            self.switch.set_active(on)
            self.switch.set_state(on)
            self.switch.handler_unblock_by_func(self.on_state_set)
        self.switch.set_sensitive(online)
        if online:
            self.remove_css_class("offline")
        else:
            self.add_css_class("offline")
        self.window.queue_update()

    def on_state_set(self, switch, active):
        """A click: ask the daemon, and let the switch follow the device's On property,
        which the daemon publishes before it replies."""
        if self.outlet is None:
            return True

        def done(proxy, res):
            try:
                proxy.call_turn_on_finish(res) if active else proxy.call_turn_off_finish(res)
                self.window.set_status(None)
            except GLib.Error as e:
                Gio.DBusError.strip_remote_error(e)
                self.window.set_status("%s: %s" % (self.id, e.message))
            self.update()

        if active:
            self.outlet.call_turn_on(None, done)
        else:
            self.outlet.call_turn_off(None, done)
        return True  # the state is set in update(), when the device confirmed it

    def dump(self):
        d = {"name": self.name_label.get_text(), "detail": self.detail_label.get_text(),
             "power": self.power_label.get_text(), "sensitive": self.switch.get_sensitive()}
        if self.is_outlet:
            d["switch"] = self.switch.get_active()
        return d


class AppletWindow(Gtk.ApplicationWindow):

    def __init__(self, app, client, bus_name):
        super().__init__(application=app, title="Wattbus", default_width=460)
        self.client = client
        self.bus_name = bus_name
        self.rows = {}  # object path → DeviceRow
        self.update_pending = False
        self.error = None

        content = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, margin_top=12, margin_bottom=12,
                          margin_start=16, margin_end=16)
        content.append(Gtk.Label(label="Solar", xalign=0, css_classes=["section"]))
        self.solar_grid = Gtk.Grid(column_spacing=24, row_spacing=2, column_homogeneous=True)
        self.solar_labels = {}
        for col, (key, title) in enumerate([("production", "Production"),
                                            ("consumption", "Consumption"), ("net", "Grid"),
                                            ("battery", "Battery")]):
            value = Gtk.Label(xalign=0, css_classes=["big", "value"])
            self.solar_grid.attach(Gtk.Label(label=title, xalign=0, css_classes=["caption"]), col, 0, 1, 1)
            self.solar_grid.attach(value, col, 1, 1, 1)
            self.solar_labels[key] = value
        self.battery_widgets = [self.solar_grid.get_child_at(3, 0), self.solar_labels["battery"]]
        self.no_solar = Gtk.Label(label="no solar meter", xalign=0, css_classes=["caption"])
        content.append(self.solar_grid)
        content.append(self.no_solar)

        self.outlets = self.section(content, "Outlets")
        self.meters = self.section(content, "Meters")
        self.status = Gtk.Label(xalign=0, wrap=True, css_classes=["status"])
        content.append(self.status)
        # as tall as the content, up to a screen's worth; then it scrolls
        scrolled = Gtk.ScrolledWindow(hscrollbar_policy=Gtk.PolicyType.NEVER, child=content,
                                      propagate_natural_height=True, max_content_height=900)
        self.set_child(scrolled)

        for obj in client.list_devices():
            self.add_device(obj)
        client.connect("device-added", lambda _c, obj: self.add_device(obj))
        client.connect("device-removed", lambda _c, obj: self.remove_device(obj))
        manager = client.get_object_manager()
        manager.connect("interface-added", lambda _m, obj, _i: self.interfaces_changed(obj))
        manager.connect("interface-removed", lambda _m, obj, _i: self.interfaces_changed(obj))
        manager.connect("notify::name-owner", lambda *_: self.set_status(None))
        self.set_status(None)
        self.queue_update()

    def section(self, content, title):
        content.append(Gtk.Label(label=title, xalign=0, css_classes=["section"]))
        listbox = Gtk.ListBox(selection_mode=Gtk.SelectionMode.NONE, css_classes=["rich-list"])
        listbox.set_sort_func(lambda a, b: (a.id > b.id) - (a.id < b.id))
        placeholder = Gtk.Label(label="none", css_classes=["caption"], margin_top=6, margin_bottom=6)
        listbox.set_placeholder(placeholder)
        content.append(Gtk.Frame(child=listbox))
        return listbox

    def add_device(self, obj):
        path = obj.get_object_path()
        if path in self.rows or obj.get_device() is None:
            return
        self.rows[path] = DeviceRow(self, obj)
        self.place(self.rows[path])

    def place(self, row):
        """An outlet goes in the first list, a meter or an inverter in the second; a
        device with neither (a strip without a meter, a gateway) in none until it gains
        one."""
        has_power = row.meter is not None or row.inverter is not None or row.battery is not None
        target = self.outlets if row.is_outlet else self.meters if has_power else None
        parent = row.get_parent()
        if parent is not target:
            if parent is not None:
                parent.remove(row)
            if target is not None:
                target.append(row)
        self.queue_update()

    def remove_device(self, obj):
        row = self.rows.pop(obj.get_object_path(), None)
        if row is not None:
            row.disconnect_all()
            if row.get_parent() is not None:
                row.get_parent().remove(row)
            self.queue_update()

    def interfaces_changed(self, obj):
        row = self.rows.get(obj.get_object_path())
        if row is None:
            self.add_device(obj)
            return
        row.update_interfaces()
        self.place(row)

    def set_status(self, error):
        if error is not None:
            self.error = error
        elif self.client.is_running():
            self.error = None
        version = self.client.get_daemon_version()
        text = ("wattbusd %s on the %s bus" % (version, self.bus_name) if self.client.is_running()
                else "the wattbus daemon is not running")
        self.status.set_text(text if self.error is None else "%s\n%s" % (self.error, text))

    def queue_update(self):
        """The solar row, once per main loop turn however many properties changed."""
        if not self.update_pending:
            self.update_pending = True
            GLib.idle_add(self.update_solar)

    def update_solar(self):
        self.update_pending = False
        meters = [(row.meter.props.measurement, reading(row.meter, "Power"))
                  for row in self.rows.values() if row.meter is not None and row.device.props.online]
        balance = solar_balance(meters)
        battery = battery_balance([(row.battery.props.aggregate, reading(row.battery, "Power"),
                                    reading(row.battery, "StateOfCharge"),
                                    reading(row.battery, "Capacity"))
                                   for row in self.rows.values()
                                   if row.battery is not None and row.device.props.online])
        for widget in self.battery_widgets:
            widget.set_visible(battery is not None)
        if battery is not None:
            self.solar_labels["battery"].set_text(battery_text(battery))
        self.solar_grid.set_visible(balance is not None)
        self.no_solar.set_visible(balance is None)
        if balance is not None:
            self.solar_labels["production"].set_text(format_power(balance["production"]))
            self.solar_labels["consumption"].set_text(format_power(balance["consumption"]))
            net = balance["net"]
            label = self.solar_labels["net"]
            for css in ("importing", "exporting"):
                label.remove_css_class(css)
            if net is None:
                label.set_text(format_power(None))
            else:
                label.set_text(("importing " if net >= 0 else "exporting ") + format_power(abs(net)))
                label.add_css_class("importing" if net >= 0 else "exporting")
        return GLib.SOURCE_REMOVE

    # the test interface (--control)

    def dump(self):
        solar = ("no solar meter" if self.no_solar.get_visible()
                 else {k: label.get_text() for k, label in self.solar_labels.items()
                       if label.get_visible()})
        return {"solar": solar, "status": self.status.get_text(),
                "outlets": {r.id: r.dump() for r in self.rows.values() if r.get_parent() is self.outlets},
                "meters": {r.id: r.dump() for r in self.rows.values() if r.get_parent() is self.meters}}

    def screenshot(self, path, reply):
        """Renders the window into a PNG after its next frame, with its own renderer, and
        calls reply with the outcome."""
        def painted(clock):
            clock.disconnect(handler)
            try:
                reply("OK " + self.render_png(path))
            except Exception as e:  # the test sees why
                reply("ERR %s" % e)

        self.queue_draw()
        clock = self.get_frame_clock()
        handler = clock.connect("after-paint", painted)

    def render_png(self, path):
        paintable = Gtk.WidgetPaintable.new(self)
        snapshot = Gtk.Snapshot()
        paintable.snapshot(snapshot, self.get_width(), self.get_height())
        renderer = self.get_native().get_renderer()
        if gi.version_info >= (3, 46):
            texture = renderer.render_texture(snapshot.to_node(), None)
            ok = texture.save_to_png(path)
        else:
            # older PyGObject (Debian 12 has 3.42) cannot carry a GskRenderNode: the same
            # calls through ctypes
            ok = render_png_ctypes(snapshot, renderer, path)
        if not ok:
            raise RuntimeError("cannot render the window into " + path)
        return path

    def toggle(self, dev_id):
        for row in self.rows.values():
            if row.id == dev_id and row.is_outlet:
                row.switch.set_active(not row.switch.get_active())
                return "toggled"
        raise RuntimeError("no outlet " + dev_id)


class Applet(Gtk.Application):

    def __init__(self, args, client, bus_name):
        super().__init__(application_id="org.wattbus.Applet", flags=Gio.ApplicationFlags.NON_UNIQUE)
        self.args = args
        self.client = client
        self.bus_name = bus_name
        self.window = None

    def do_activate(self):
        if self.window is not None:
            self.window.present()
            return
        provider = Gtk.CssProvider()
        if hasattr(provider, "load_from_string"):  # GTK 4.12
            provider.load_from_string(CSS)
        else:
            provider.load_from_data(CSS.encode())
        Gtk.StyleContext.add_provider_for_display(Gdk.Display.get_default(), provider,
                                                  Gtk.STYLE_PROVIDER_PRIORITY_APPLICATION)
        self.window = AppletWindow(self, self.client, self.bus_name)
        self.window.present()
        if self.args.control:
            channel = GLib.IOChannel.unix_new(sys.stdin.fileno())
            GLib.io_add_watch(channel, GLib.PRIORITY_DEFAULT, GLib.IOCondition.IN | GLib.IOCondition.HUP,
                              self.on_command)
            print("READY", flush=True)

    def on_command(self, channel, condition):
        line = sys.stdin.readline()
        if not line:
            self.quit()
            return GLib.SOURCE_REMOVE
        cmd, _, arg = line.strip().partition(" ")
        try:
            if cmd == "dump":
                print("DUMP " + json.dumps(self.window.dump()), flush=True)
            elif cmd == "screenshot":
                self.window.screenshot(arg, lambda answer: print(answer, flush=True))
            elif cmd == "toggle":
                print("OK " + self.window.toggle(arg), flush=True)
            else:
                print("ERR unknown command", flush=True)
        except Exception as e:  # the test sees why
            print("ERR %s" % e, flush=True)
        return GLib.SOURCE_CONTINUE


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--control", action="store_true", help="read test commands on stdin")
    args = p.parse_args()
    client = connect(args, need_daemon=False)
    return Applet(args, client, args.bus_name).run([sys.argv[0]])


if __name__ == "__main__":
    sys.exit(main())
