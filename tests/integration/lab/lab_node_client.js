// Lab client: Node's https.get, bound to a source address so the capture can tell it apart.
// usage: node lab_node_client.js SERVER_IP PORT SNI SOURCE_IP CA_FILE
'use strict';
const fs = require('fs');
const https = require('https');

const [address, port, sni, localAddress, caFile] = process.argv.slice(2);
const req = https.get({
  host: address,
  port: Number(port),
  path: '/',
  servername: sni,  // SNI is the test name while the TCP peer is the literal address
  headers: { Host: sni },
  localAddress,
  ca: fs.readFileSync(caFile),
  agent: false,
  timeout: 10000,
}, (res) => {
  let n = 0;
  res.on('data', (chunk) => { n += chunk.length; });
  res.on('end', () => {
    console.log(`node client: HTTP ${res.statusCode}, ${n} bytes, ${res.socket.getProtocol()}`);
    process.exit(res.statusCode === 200 ? 0 : 1);
  });
});
req.on('timeout', () => { req.destroy(new Error('timeout')); });
req.on('error', (e) => { console.error(`node client: ${e.message}`); process.exit(1); });
