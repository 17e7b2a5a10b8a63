// Lab client driver: Node's tls with https (HTTP/1.1) or http2, one connection per command.
//
// The same line protocol as tls_driver.py (a long-lived process per client namespace; one JSON
// command per stdin line, one JSON result per stdout line, commands concurrent):
//   -> {"id": 7, "src": "10.220.1.5", "dst": "10.214.0.1", "key": "sk-...", "requests": 2}
//   <- {"id": 7, "ok": true, "port": 40312, "statuses": [200, 200]}
//
// --profile JSON: absent keys keep Node's defaults (what an SDK on https.request sends).
//   ciphers, ecdhCurve, sigalgs, minVersion, maxVersion: passed to tls.connect as they are
//   alpn: ALPN protocol list; http2: true speaks HTTP/2 (ALPN h2) through the http2 module
//
// usage: node tls_driver.js --ca CA_FILE --sni NAME [--profile JSON]
'use strict';
const fs = require('fs');
const http2 = require('http2');
const https = require('https');
const readline = require('readline');
const tls = require('tls');

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) {
  args[process.argv[i].slice(2)] = process.argv[i + 1];
}
const ca = fs.readFileSync(args.ca);
const sni = args.sni;
const profile = JSON.parse(args.profile || '{}');
const BODY = '{"model":"lab-1","prompt":"summarise the attached text","max_tokens":64}';

function tlsOptions(cmd) {
  const o = { host: cmd.dst, port: 443, servername: sni, localAddress: cmd.src, ca };
  for (const k of ['ciphers', 'ecdhCurve', 'sigalgs', 'minVersion', 'maxVersion']) {
    if (profile[k] !== undefined) o[k] = profile[k];
  }
  if (profile.alpn) o.ALPNProtocols = profile.alpn;
  return o;
}

function headers(cmd) {
  return {
    authorization: 'Bearer ' + cmd.key,
    'content-type': 'application/json',
    'user-agent': cmd.agent || 'node-lab/1.0',
  };
}

// HTTP/1.1: an agent of one kept-alive socket carries all the command's requests.
function viaHttps(cmd, done) {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const statuses = [];
  let port = 0;
  const next = () => {
    if (statuses.length === (cmd.requests || 1)) {
      agent.destroy();
      return done(null, port, statuses);
    }
    const req = https.request({
      ...tlsOptions(cmd), agent, method: 'POST', path: cmd.path || '/v1/complete',
      headers: { ...headers(cmd), host: sni }, timeout: 10000,
    }, (res) => {
      port = res.socket.localPort;
      res.resume();
      res.on('end', () => { statuses.push(res.statusCode); next(); });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => { agent.destroy(); done(e); });
    req.end(BODY);
  };
  next();
}

// HTTP/2: one session, the requests one after another on it.
function viaHttp2(cmd, done) {
  const opts = tlsOptions(cmd);
  opts.ALPNProtocols = profile.alpn || ['h2'];
  const session = http2.connect('https://' + sni, { createConnection: () => tls.connect(opts) });
  const statuses = [];
  let finished = false;
  const finish = (err) => {
    if (finished) return;
    finished = true;
    const port = session.socket ? session.socket.localPort : 0;
    session.close();
    if (err) done(err); else done(null, port, statuses);
  };
  session.setTimeout(10000, () => { session.destroy(); finish(new Error('timed out')); });
  session.on('error', finish);
  const next = () => {
    if (statuses.length === (cmd.requests || 1)) return finish(null);
    const req = session.request({
      ':method': 'POST', ':path': cmd.path || '/v1/complete', ...headers(cmd),
    });
    req.on('response', (h) => statuses.push(h[':status']));
    req.on('error', finish);
    req.resume();
    req.on('end', next);
    req.end(BODY);
  };
  next();
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (!line.trim()) return;
  const cmd = JSON.parse(line);
  const run = profile.http2 ? viaHttp2 : viaHttps;
  run(cmd, (err, port, statuses) => {
    const res = err ? { id: cmd.id, ok: false, error: String(err.message || err) }
      : { id: cmd.id, ok: true, port, statuses };
    process.stdout.write(JSON.stringify(res) + '\n');
  });
});
rl.on('close', () => { /* pending connections finish, then the event loop empties */ });
process.stdout.write(JSON.stringify({ ready: true, node: process.version }) + '\n');
