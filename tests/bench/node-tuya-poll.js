// SPDX-License-Identifier: GPL-2.0-or-later
// The Tuya peer in bench-fleet.py: polls Tuya devices with the npm package
// tuyapi, as a user of it would: one TuyaDevice per device, connect() once
// (the connection is kept, tuyapi pings it every 10 s), then every
// INTERVAL ms get({schema: true}) (MODE get: DP_QUERY, or DP_QUERY_NEW on
// 3.4) or refresh({schema: true}) (MODE refresh: UPDATEDPS, the device
// pushes the re-measured DPs), one device's requests in sequence, devices in
// parallel. tuyapi's get() has no time-out of its own, so each request is
// given 5 s here and counted as an error after that. Not committed with
// node_modules: bench-fleet.py installs the package into a temporary
// directory and sets NODE_PATH.
//
// Usage: node node-tuya-poll.js DEVICES_JSON [INTERVAL_MS] [MODE get|refresh]
//   DEVICES_JSON: [{"port": N, "id": ID, "key": KEY, "version": "3.3"}, ...]
// Prints "POLLS <n> ERRORS <n> CONNECTED <n> DATA <n>" every second on
// stdout, and the first few distinct error messages on stderr.
'use strict';
const TuyAPI = require('tuyapi');

const devices = JSON.parse(process.argv[2]);
const interval = Number(process.argv[3] || 1000);
const mode = process.argv[4] || 'get';
let polls = 0;
let errors = 0;
let connected = 0;
let data = 0; // replies and pushes that carried DPs
const seen = new Set();

function noteError(what) {
  errors++;
  const text = String(what && what.message ? what.message : what);
  if (seen.size < 10 && !seen.has(text)) {
    seen.add(text);
    process.stderr.write(`ERROR ${text}\n`);
  }
}

function within(promise, ms) {
  let timer;
  return Promise.race([
    promise,
    new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function pollLoop(d) {
  const device = new TuyAPI({
    ip: '127.0.0.1', port: d.port, id: d.id, key: d.key, version: d.version,
    issueGetOnConnect: false,
  });
  device.on('error', noteError);
  device.on('data', (payload) => { if (payload && typeof payload === 'object') data++; });
  device.on('dp-refresh', () => { data++; });
  await within(device.connect(), 5000);
  connected++;
  for (;;) {
    const start = Date.now();
    try {
      const reply = await within(mode === 'refresh' ? device.refresh({ schema: true })
        : device.get({ schema: true }), 5000);
      if (mode === 'get' && !(reply && typeof reply === 'object' && reply.dps)) {
        throw new Error(`get() answered ${JSON.stringify(reply)}`);
      }
      polls++;
    } catch (e) {
      noteError(e);
    }
    const wait = interval - (Date.now() - start);
    await new Promise((r) => setTimeout(r, wait > 0 ? wait : 0));
  }
}

for (const d of devices) {
  pollLoop(d).catch(noteError);
}
setInterval(() => {
  process.stdout.write(`POLLS ${polls} ERRORS ${errors} CONNECTED ${connected} DATA ${data}\n`);
}, 1000);
