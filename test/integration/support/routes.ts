import type { INestApplication } from '@nestjs/common';

export interface Route {
  method: string;
  /** The router's path with parameters filled in (`:id` -> `x1`). */
  path: string;
  /** The router's own path (`/admin/accounts/:id`), parameters kept. */
  pattern: string;
  /** A wildcard route (Swagger's catch-all): no handler of ours answers it. */
  wildcard: boolean;
}

/**
 * Every route the app's router registered (Nest's controllers, Swagger UI's, and catch-alls
 * for every HTTP method), with parameters and wildcards filled in. Tests built on it cover
 * the routes other changes add without a list to update. CONNECT is left out: Node's HTTP
 * server hands it to a 'connect' listener and never to the router.
 */
export function registeredRoutes(app: INestApplication): Route[] {
  const router = app.getHttpAdapter().getInstance().router as {
    stack: { route?: { path: string; methods: Record<string, boolean> } }[];
  };
  return router.stack.flatMap((layer) =>
    layer.route
      ? Object.keys(layer.route.methods)
          .filter((m) => m !== '_all' && m !== 'connect')
          .map((m) => ({
            method: m.toUpperCase(),
            pattern: layer.route!.path,
            path: layer
              .route!.path.replace(/:[A-Za-z]+/g, 'x1')
              .replace(/\{\*[A-Za-z]+\}/, 'admin/x1'),
            wildcard: layer.route!.path.includes('{*'),
          }))
      : [],
  );
}
