import { EnvsError } from '../errors.ts';
import { focusAgent } from './agent.ts';
import { processSession, processStates } from './processes.ts';
import { attachCommand, hasSession, tmuxAvailable } from './tmux.ts';

/**
 * What `envs attach` runs to open the env's tmux session — on the agent's window when one runs — or why it
 * cannot: tmux is not installed, the env's processes run as process groups (no tmux when they started), it
 * has none, or they are stopped.
 */
export async function attachTarget(
  stateDir: string,
  branch: string,
  env: NodeJS.ProcessEnv,
): Promise<{ file: string; args: string[]; env: NodeJS.ProcessEnv }> {
  if (!(await tmuxAvailable(env))) {
    throw new EnvsError('TMUX_MISSING', 'tmux is not installed, so there is no session to attach to.', {
      hint: `Install tmux (apt install tmux, brew install tmux) and restart the processes with \`envs up ${branch}\`; meanwhile \`envs logs ${branch} -f\` shows their output.`,
    });
  }
  // An agent runs (envs agent): its window is made the current one, so attaching lands on it.
  const agent = await focusAgent(stateDir);
  if (agent) return attachCommand(agent.server, agent.session, env);
  const session = await processSession(stateDir);
  if (!session) {
    const states = await processStates(stateDir);
    throw new EnvsError(
      'NO_SESSION',
      states.length === 0
        ? `${branch} has no host processes, so no tmux session.`
        : `${branch}'s processes run as process groups, not in tmux (tmux was not available or ENVS_TMUX=0 when they started).`,
      {
        hint:
          states.length === 0
            ? `Add \`processes:\` to envs.yaml (e.g. web: { command: "pnpm dev", port: 3000 }) and run \`envs up\`, or start an agent there with \`envs agent ${branch}\`.`
            : `\`envs logs ${branch} -f\` shows their output; \`envs up ${branch}\` restarts them in tmux.`,
      },
    );
  }
  if (!(await hasSession(session.server, session.session))) {
    throw new EnvsError('NO_SESSION', `${branch}'s tmux session ${session.session} is not running (the env is stopped).`, {
      hint: `Start it with \`envs up ${branch}\`.`,
    });
  }
  return attachCommand(session.server, session.session, env);
}
