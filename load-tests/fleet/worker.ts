/**
 * One client process of the fleet runner: a slice of the devices, or the dashboards and
 * commanders. It runs its clients on the run's clock and sends its stats when they are done.
 */
import { readFileSync } from 'node:fs';

import type { FleetParams } from './params.js';
import { commander, dashboard, device, type Clock, type SocketOptions } from './roles.js';
import { emptyStats } from './stats.js';

export type FleetTask =
  | {
      kind: 'devices';
      params: FleetParams;
      clock: Clock;
      first: number;
      count: number;
      localAddress?: string;
    }
  | { kind: 'observers'; params: FleetParams; clock: Clock };

process.once('message', (task: FleetTask) => {
  const stats = emptyStats();
  const options: SocketOptions = {
    ...(task.params.caFile ? { ca: readFileSync(task.params.caFile, 'utf8') } : {}),
    ...(task.kind === 'devices' && task.localAddress ? { localAddress: task.localAddress } : {}),
  };
  const { params, clock } = task;
  const runs =
    task.kind === 'devices'
      ? Array.from({ length: task.count }, (_, i) =>
          device(params, options, stats, clock, task.first + i),
        )
      : [
          ...Array.from({ length: params.dashboards }, (_, i) =>
            dashboard(params, options, stats, clock, i),
          ),
          ...Array.from({ length: params.commanders }, (_, i) =>
            commander(params, options, stats, clock, i),
          ),
        ];
  Promise.all(runs).then(
    () => process.send?.(stats, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
