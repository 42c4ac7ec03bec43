import { describe, expect, it } from 'vitest';

import { InFlight } from './in-flight.js';
import { settledSoon } from './promise-test-support.js';

describe('InFlight', () => {
  it('settles once every request tracked so far is answered or failed, and forgets them', async () => {
    const inFlight = new InFlight();
    let answer: (value: string) => void = () => undefined;
    let fail: (error: Error) => void = () => undefined;
    const answered = inFlight.track(new Promise<string>((resolve) => (answer = resolve)));
    const failed = inFlight.track(new Promise<string>((_, reject) => (fail = reject)));
    failed.catch(() => undefined);
    const settled = inFlight.settled();
    expect(await settledSoon(settled)).toBe(false);
    answer('ok');
    expect(await settledSoon(settled)).toBe(false);
    fail(new Error('refused'));
    await settled;
    await expect(answered).resolves.toBe('ok');
    expect(await settledSoon(inFlight.settled())).toBe(true);
  });
});
