/**
 * Commands waiting on devices, by device key (`tenant/id`) and command id: what a device's
 * disconnect or answer looks at is that device's own commands, however many other devices have
 * commands in flight (a connect/disconnect storm with many commands pending stays linear).
 */
export class DeviceCommands<T> {
  private readonly byDevice = new Map<string, Map<string, T>>();
  private count = 0;
  private looked = 0;

  /** Commands handed out by `of` and `takeAll` since the start (tests: per-device work). */
  get visited(): number {
    return this.looked;
  }

  get size(): number {
    return this.count;
  }

  has(key: string, id: string): boolean {
    return this.byDevice.get(key)?.has(id) ?? false;
  }

  get(key: string, id: string): T | undefined {
    return this.byDevice.get(key)?.get(id);
  }

  set(key: string, id: string, command: T): void {
    let commands = this.byDevice.get(key);
    if (!commands) {
      commands = new Map();
      this.byDevice.set(key, commands);
    }
    if (!commands.has(id)) this.count += 1;
    commands.set(id, command);
  }

  /** Removes and returns one command. */
  take(key: string, id: string): T | undefined {
    const commands = this.byDevice.get(key);
    const command = commands?.get(id);
    if (!commands || command === undefined) return undefined;
    commands.delete(id);
    this.count -= 1;
    if (commands.size === 0) this.byDevice.delete(key);
    return command;
  }

  /** One device's commands, by id. */
  *of(key: string): Generator<[string, T]> {
    for (const entry of this.byDevice.get(key) ?? []) {
      this.looked += 1;
      yield entry;
    }
  }

  /** Removes and returns every command of one device. */
  takeAll(key: string): [string, T][] {
    const commands = this.byDevice.get(key);
    if (!commands) return [];
    this.byDevice.delete(key);
    this.count -= commands.size;
    this.looked += commands.size;
    return [...commands];
  }

  /** Every command (shutdown). */
  *values(): Generator<T> {
    for (const commands of this.byDevice.values()) yield* commands.values();
  }

  clear(): void {
    this.byDevice.clear();
    this.count = 0;
  }
}
