// Bench instrumentation for the idle row, preloaded into each Node server (`node --expose-gc
// --import ./gc-on-signal.mjs …`): SIGUSR2 runs a full garbage collection, so RSS is read without
// the garbage a connect burst left in the old generation (how much of it there is depends on
// when V8 last collected, not on the sockets).
import process from 'node:process';

process.on('SIGUSR2', () => globalThis.gc?.());
