import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error the router answers itself; `envs` are listed with links (the 404 page lists the live envs). */
export interface ErrorPage {
  status: number;
  /** Machine-readable reason, also in the `x-envs-error` header (the readiness probe tells our pages from the app's). */
  code: string;
  title: string;
  message: string;
  hint?: string;
  envs?: { name: string; branch: string; repo: string; status: string; url?: string }[];
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** JSON when the client asks for it (and not for HTML first), else a small HTML page. */
export function wantsJson(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  const json = accept.indexOf('application/json');
  const html = accept.indexOf('text/html');
  return json !== -1 && (html === -1 || json < html);
}

export function sendError(req: IncomingMessage, res: ServerResponse, page: ErrorPage): void {
  const json = wantsJson(req);
  const body = json
    ? `${JSON.stringify({ error: { code: page.code, message: page.message, ...(page.hint ? { hint: page.hint } : {}) }, ...(page.envs ? { envs: page.envs } : {}) }, null, 2)}\n`
    : html(page);
  res.writeHead(page.status, {
    'content-type': json ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-envs-error': page.code,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function html(page: ErrorPage): string {
  const list = page.envs?.length
    ? `<h2>Envs</h2><ul>${page.envs
        .map(
          (e) =>
            `<li>${e.url ? `<a href="${escapeHtml(e.url)}">${escapeHtml(e.name)}</a>` : escapeHtml(e.name)} — ${escapeHtml(e.branch)} <small>(${escapeHtml(e.status)}, ${escapeHtml(e.repo)})</small></li>`,
        )
        .join('')}</ul>`
    : page.envs
      ? '<p>No envs yet. Make one with <code>envs create &lt;branch&gt;</code>.</p>'
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${page.status} ${escapeHtml(page.title)} · envs</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#222}code{background:#f2f2f2;padding:0 .3em;border-radius:3px}small{color:#666}</style>
</head><body><h1>${escapeHtml(page.title)}</h1><p>${escapeHtml(page.message)}</p>${page.hint ? `<p>${hintHtml(page.hint)}</p>` : ''}${list}
<hr><small>envs router</small></body></html>
`;
}

/** Backquoted parts of a hint become code. */
function hintHtml(hint: string): string {
  return escapeHtml(hint).replace(/`([^`]+)`/g, '<code>$1</code>');
}
