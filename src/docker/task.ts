import type { DirsSpec, TaskSpec } from '../core/deps.ts';

/** The container of a task (Engine API's create body): root, no network, the mounts, the program as entrypoint. */
export function taskContainer(task: TaskSpec, autoRemove = false) {
  return {
    Image: task.image,
    Entrypoint: task.cmd.slice(0, 1),
    Cmd: task.cmd.slice(1),
    User: '0',
    Labels: task.labels,
    HostConfig: {
      NetworkMode: 'none',
      ...(autoRemove ? { AutoRemove: true } : {}),
      Mounts: task.mounts.map((m) => ({ Type: m.kind, Source: m.source, Target: m.target, ReadOnly: Boolean(m.readOnly) })),
    },
  };
}

/**
 * The container an archive upload goes through (`Engine.makeDirs`): created, never started. The upload is
 * sent without `copyUIDGID`, so the entries keep the owners the tar gives them (with it, the engine resolves
 * the container's user on its own host and owns every entry by that); no `User` set here, as nothing runs.
 */
export function holderContainer(spec: DirsSpec) {
  const { User: _user, ...body } = taskContainer({
    image: spec.image,
    cmd: ['true'],
    mounts: [spec.mount],
    labels: spec.labels,
    timeoutMs: 0,
  });
  return body;
}

/** Docker multiplexes a non-TTY container's stdout and stderr into frames: 8-byte header, then the payload. */
export function demux(buffer: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}
