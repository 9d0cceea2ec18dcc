// SPDX-License-Identifier: GPL-2.0-or-later
// The peer in bench-fleet.py: polls Kasa devices with the npm package
// tplink-smarthome-api, as a user of it would: for each device, every
// INTERVAL ms, get_sysinfo then emeter get_realtime, one device's requests in
// sequence, devices in parallel. Not committed with node_modules: bench-fleet.py
// installs the package into a temporary directory and sets NODE_PATH.
//
// Usage: node node-kasa-poll.js PORTS_JSON [INTERVAL_MS] [MODE]
//   MODE: 0 or default: TCP, the package's defaults (a new connection per
//         request); 1 or shared: TCP with useSharedSocket: true, which
//         5.0.0 ignores for TCP (documented "UDP only": TcpConnection opens
//         a new socket for every request all the same); udp-shared: UDP
//         with useSharedSocket: true (one kept socket per device, the only
//         kept-socket mode the package has; the device's UDP port is its TCP
//         port number, as on a plug).
// Prints "POLLS <n> ERRORS <n>" every second on stdout, and the first few
// distinct error messages on stderr.
'use strict';
const { Client } = require('tplink-smarthome-api');

const ports = JSON.parse(process.argv[2]);
const interval = Number(process.argv[3] || 1000);
const mode = { 0: 'default', 1: 'shared' }[process.argv[4]] || process.argv[4] || 'default';
if (!['default', 'shared', 'udp-shared'].includes(mode)) {
  throw new Error(`unknown mode ${mode}`);
}
const client = new Client({
  defaultSendOptions: {
    timeout: 5000,
    transport: mode === 'udp-shared' ? 'udp' : 'tcp',
    useSharedSocket: mode !== 'default',
  },
  logLevel: 'silent',
});
let polls = 0;
let errors = 0;
const seen = new Set();

function noteError(e) {
  errors++;
  const text = String(e && e.message ? e.message : e);
  if (seen.size < 10 && !seen.has(text)) {
    seen.add(text);
    process.stderr.write(`ERROR ${text}\n`);
  }
}

async function pollLoop(port) {
  const device = await client.getDevice({ host: '127.0.0.1', port });
  for (;;) {
    const start = Date.now();
    try {
      await device.getSysInfo();
      await device.emeter.getRealtime();
      polls++;
    } catch (e) {
      noteError(e);
    }
    const wait = interval - (Date.now() - start);
    await new Promise((r) => setTimeout(r, wait > 0 ? wait : 0));
  }
}

for (const port of ports) {
  pollLoop(port).catch(noteError);
}
setInterval(() => {
  process.stdout.write(`POLLS ${polls} ERRORS ${errors}\n`);
}, 1000);
