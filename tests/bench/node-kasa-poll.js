// SPDX-License-Identifier: GPL-2.0-or-later
// The peer in bench-fleet.py: polls Kasa devices with the npm package
// tplink-smarthome-api, as a user of it would: for each device, every
// INTERVAL ms, get_sysinfo then emeter get_realtime, one device's requests in
// sequence, devices in parallel. Not committed with node_modules: bench-fleet.py
// installs the package into a temporary directory and sets NODE_PATH.
//
// Usage: node node-kasa-poll.js PORTS_JSON [INTERVAL_MS] [SHARED_SOCKET 0|1]
// Prints "POLLS <n>" every second on stdout.
'use strict';
const { Client } = require('tplink-smarthome-api');

const ports = JSON.parse(process.argv[2]);
const interval = Number(process.argv[3] || 1000);
const shared = process.argv[4] === '1';
const client = new Client({
  defaultSendOptions: { timeout: 5000, transport: 'tcp', useSharedSocket: shared },
  logLevel: 'silent',
});
let polls = 0;
let errors = 0;

async function pollLoop(port) {
  const device = await client.getDevice({ host: '127.0.0.1', port });
  for (;;) {
    const start = Date.now();
    try {
      await device.getSysInfo();
      await device.emeter.getRealtime();
      polls++;
    } catch (e) {
      errors++;
    }
    const wait = interval - (Date.now() - start);
    await new Promise((r) => setTimeout(r, wait > 0 ? wait : 0));
  }
}

for (const port of ports) {
  pollLoop(port).catch(() => { errors++; });
}
setInterval(() => {
  process.stdout.write(`POLLS ${polls} ERRORS ${errors}\n`);
}, 1000);
