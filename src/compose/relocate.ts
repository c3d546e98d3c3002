/**
 * Rewrites every string in a value that starts with `from` (a directory) so it starts with `to`:
 * a model rendered in a scratch copy of the repository then points at the worktree.
 */
export function relocate<T>(value: T, from: string, to: string): T {
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') {
      if (node === from) return to;
      return node.split(`${from}/`).join(`${to}/`);
    }
    if (Array.isArray(node)) return node.map(walk);
    if (node && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    }
    return node;
  };
  return walk(value) as T;
}
