import { describe, expect, it } from 'vitest';
import { attachCommand, formatLiteral, serverArgs, serverFromEnv, tmuxEnv } from './tmux.ts';

describe('tmux helpers', () => {
  it('reads ENVS_TMUX_SOCKET as a socket name or a path', () => {
    expect(serverArgs(serverFromEnv({}))).toEqual([]);
    expect(serverArgs(serverFromEnv({ ENVS_TMUX_SOCKET: 'envs' }))).toEqual(['-L', 'envs']);
    expect(serverArgs(serverFromEnv({ ENVS_TMUX_SOCKET: '/run/envs.sock' }))).toEqual(['-S', '/run/envs.sock']);
  });

  it('keeps # literal through tmux format expansion', () => {
    expect(formatLiteral("exec cat >> '/home/a#b/#{pane_id}.log'")).toBe("exec cat >> '/home/a##b/##{pane_id}.log'");
  });

  it('never lets TMUX point our client at the server envs runs in', () => {
    expect(tmuxEnv({ TMUX: '/tmp/tmux-0/default,1,0', TMUX_PANE: '%1', PATH: '/bin' })).toEqual({ PATH: '/bin' });
  });

  it('attach switches the client inside the same server, attaches (nested if need be) elsewhere, always exactly', () => {
    const server = { socketPath: '/tmp/tmux-0/default' };
    expect(attachCommand(server, 'envs-app-feat', { TMUX: '/tmp/tmux-0/default,12,3' }).args).toEqual([
      '-S',
      '/tmp/tmux-0/default',
      'switch-client',
      '-t',
      '=envs-app-feat',
    ]);
    const outside = attachCommand(server, 'envs-app-feat', { TMUX: '/tmp/tmux-0/other,12,3', PATH: '/bin' });
    expect(outside.args).toEqual(['-S', '/tmp/tmux-0/default', 'attach-session', '-t', '=envs-app-feat']);
    expect(outside.env).toEqual({ PATH: '/bin' });
  });
});
