/**
 * Ctrl-C before a command has started (while the code loads) still ends envs with 130, not a signal
 * death. Once a command runs, its runner takes over (it reports the cancellation first, or, for `exec` and
 * `attach`, hands the signal to the child), so these are removed then.
 */
const onInt = () => process.exit(130);
const onTerm = () => process.exit(143);

export function installEarlySignals(): void {
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
}

export function removeEarlySignals(): void {
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);
}
