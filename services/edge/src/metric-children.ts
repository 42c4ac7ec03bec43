/**
 * Children of a labelled series, each made once per label values. prom-client hashes the label
 * object on every `inc({...})`; the edge counts several series per connection and per message,
 * so the hot paths take a child made once instead (its labels are few and bounded: message
 * kinds, transports, roles, close codes).
 */
export class ChildCache<Child> {
  private readonly byFirst = new Map<string, Map<string, Child>>();

  constructor(private readonly make: (first: string, second: string) => Child) {}

  get(first: string, second = ''): Child {
    let bySecond = this.byFirst.get(first);
    if (!bySecond) {
      bySecond = new Map();
      this.byFirst.set(first, bySecond);
    }
    let child = bySecond.get(second);
    if (child === undefined) {
      child = this.make(first, second);
      bySecond.set(second, child);
    }
    return child;
  }
}
