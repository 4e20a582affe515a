/** The web console: static HTML, CSS and ES modules under `/console/`, served with a strict Content-Security-Policy. */
import { readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import type { FastifyInstance, FastifyReply } from "fastify";
import { packageRoot } from "../package-root.ts";

/** Where the console's files live in the package (shipped as they are: no build step at run time). */
export const CONSOLE_DIR = join("platform", "console", "public");

/** The URL prefix the console is served under. */
export const CONSOLE_PATH = "/console/";

/**
 * The console's Content-Security-Policy: scripts, styles and API calls from this origin only (no
 * inline script or style, so an injected `<script>` or `style=` does nothing), no plugins, no
 * `<base>` rewriting, no form posts anywhere, and never framed (clickjacking).
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** The security headers of every console answer. */
function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header("content-security-policy", CONSOLE_CSP)
    .header("x-frame-options", "DENY")
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "no-referrer")
    .header("cross-origin-opener-policy", "same-origin")
    .header("cache-control", "no-cache");
}

/**
 * Reads the console's files once (a fixed set: a request can only name one of them, so no path
 * reaches the file system) and serves them: `/console` redirects to `/console/`, which is
 * `index.html`; any other name under `/console/` is 404.
 *
 * @example await app.register(consoleRoutes) // GET /console/ → index.html
 */
export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  const dir = join(packageRoot(), CONSOLE_DIR);
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, { type, body: readFileSync(join(dir, name)) });
  }
  app.get("/console", async (_request, reply) => secure(reply).redirect(CONSOLE_PATH, 308));
  app.get("/console/", async (_request, reply) => {
    const file = files.get("index.html")!;
    return secure(reply).type(file.type).send(file.body);
  });
  app.get<{ Params: { file: string } }>("/console/:file", async (request, reply) => {
    const file = files.get(request.params.file);
    if (!file) {
      return secure(reply).code(404).type("text/plain; charset=utf-8").send("not found\n");
    }
    return secure(reply).type(file.type).send(file.body);
  });
}
