export interface StartBannerInfo {
  /** `http://127.0.0.1:8080` */
  baseUrl: string;
  dashboardToken: string;
  tenant: string;
  dataDir: string;
  /** ` --data <dir>` when the data dir is not the default one, for the token hint. */
  dataOption: string;
  dashboardServed: boolean;
  simulated: number;
  /** How the user runs the CLI, for the token hint. */
  cli: string;
}

/**
 * What a person starting Fleetwire needs to read: where the dashboard is (with a token in the
 * link), where devices connect, how to mint a device token, where data lives. Plain lines, on
 * stdout between the JSON log lines; the first line is the dashboard URL.
 */
export function startBanner(info: StartBannerInfo): string {
  const ws = info.baseUrl.replace(/^http/, 'ws');
  const lines = [
    `Fleetwire is running. Dashboard: ${info.baseUrl}/?token=${info.dashboardToken}`,
    info.dashboardServed
      ? ''
      : '  (no dashboard build found: `pnpm --filter @fleetwire/dashboard build`, or set FLEETWIRE_DASHBOARD_DIR)',
    `  devices connect to   ${ws}/ws?token=<device token>`,
    `  a device token:      ${info.cli} token --role device --sub my-device --tenant ${info.tenant}${info.dataOption}`,
    `  telemetry history:   ${info.baseUrl}/v1/latest  (Authorization: Bearer <dashboard token>)`,
    `  data (PGlite, key):  ${info.dataDir}`,
    info.simulated > 0 ? `  simulating ${info.simulated} device(s) in this process` : '',
    '  stop with Ctrl-C (telemetry in flight is written before exit)',
  ];
  return `${lines.filter((l) => l !== '').join('\n')}\n`;
}
