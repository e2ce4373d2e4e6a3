import { existsSync } from 'node:fs';
import * as path from 'node:path';
import express, { type Express, type Response } from 'express';

export const CONSOLE_PATH = '/console';

/**
 * The console's files: apps/admin/console in the repository, dist/apps/admin/console in a
 * build (npm run build copies them), the same path relative to this module in both.
 */
export const CONSOLE_DIR = path.resolve(__dirname, '../console');

/**
 * Strict: only the console's own scripts, styles and API calls; no inline script or style,
 * no framing, no plugins, no external network. Payloads shown in it are attacker-controlled.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function secure(res: Response): void {
  res.setHeader('Content-Security-Policy', CONSOLE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cache-Control', 'no-cache');
}

/** Serves the operations console's static files at /console (index) and /console/<file>. */
export function serveConsole(server: Express): void {
  if (!existsSync(path.join(CONSOLE_DIR, 'index.html'))) return;
  const files = express.static(CONSOLE_DIR, {
    index: false,
    redirect: false,
    dotfiles: 'ignore',
    fallthrough: true,
    setHeaders: secure,
  });
  server.get(CONSOLE_PATH, (_req, res) => {
    secure(res);
    res.sendFile(path.join(CONSOLE_DIR, 'index.html'));
  });
  server.use(CONSOLE_PATH, files);
}
