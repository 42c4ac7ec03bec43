import { WireSocket } from './wire.js';
import { token, PROTOCOLS } from './protocols.js';
const port = Number(process.argv[2]);
const p = PROTOCOLS.raw;
let n = 0;
const sub = new WireSocket({
  host: '127.0.0.1',
  port,
  path: '/ws',
  headers: p.headers(token('s', 'dashboard')),
  onFrame: (b) => {
    n++;
    if (n < 5) console.log('sub got', b.toString().slice(0, 80));
  },
});
await sub.ready;
sub.send(p.subscribe('t'));
await new Promise((r) => setTimeout(r, 200));
const pub = new WireSocket({
  host: '127.0.0.1',
  port,
  path: '/ws',
  headers: p.headers(token('p', 'device')),
  onFrame: (b) => console.log('pub got', b.toString().slice(0, 80)),
});
await pub.ready;
for (let i = 0; i < 100; i++) pub.send(p.publish('t', `{"m":"PEERMSG","i":${i}}`, i));
await new Promise((r) => setTimeout(r, 1000));
console.log('total', n);
process.exit(0);
