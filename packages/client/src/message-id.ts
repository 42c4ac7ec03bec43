/** A message id unique enough per client and across restarts: time, randomness and a counter. */
let counter = 0;
export function newId(): string {
  counter += 1;
  const random = Math.floor(Math.random() * 0xffffffff).toString(36);
  return `${Date.now().toString(36)}-${random}-${counter.toString(36)}`;
}
