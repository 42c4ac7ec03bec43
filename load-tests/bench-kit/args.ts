/**
 * The command line after the script, without the `--` that `pnpm <script> -- --flag` passes
 * through: node's parseArgs would take it for the start of positional arguments and refuse them.
 */
export function benchArgs(): string[] {
  return process.argv.slice(2).filter((arg) => arg !== '--');
}
