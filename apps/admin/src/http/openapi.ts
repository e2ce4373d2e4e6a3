import { ApiBody, ApiResponse, type OpenAPIObject } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { z } from 'zod';
import { apiSchemas } from './responses';

type Operation = {
  parameters?: { in: string }[];
  responses: Record<string, Record<string, unknown>>;
};

const refTo = (id: string) => ({ $ref: `#/components/schemas/${id}` });

function idOf(schema: z.ZodType): string {
  const id = apiSchemas.get(schema)?.id;
  if (!id) throw new Error('the response schema is not in apiSchemas (http/responses.ts)');
  return id;
}

/** Documents a success answer with one of the registered response schemas. */
export const ApiAnswer = (status: number, schema: z.ZodType, description = 'success') =>
  ApiResponse({ status, description, schema: refTo(idOf(schema)) });

/** The request bodies: the very zod schemas the routes validate with (parseOrBadRequest). */
const commandSchemas = z.registry<{ id: string }>();

/** Documents a route's JSON body with the zod schema it validates the body with. */
export function ApiCommand(id: string, schema: z.ZodType, required = true) {
  if (!commandSchemas.has(schema)) commandSchemas.add(schema, { id });
  return ApiBody({ required, schema: refTo(id) });
}

/** zod schemas as OpenAPI 3.0 components (no `$id`: 3.0 has no such keyword). */
function toComponents(
  registry: typeof apiSchemas | typeof commandSchemas,
  io: 'input' | 'output',
): Record<string, SchemaObject> {
  const { schemas } = z.toJSONSchema(registry, {
    target: 'openapi-3.0',
    io,
    // Refinements (e.g. "not in the future") stay in the route; the shape is documented.
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      const { $id: _ignored, ...rest } = schema as Record<string, unknown>;
      return [id, rest as SchemaObject];
    }),
  );
}

const ERRORS: Record<string, string> = {
  400: 'a malformed parameter, query or body; the message names the field',
  401: 'no valid token',
  403: 'a read-only token on a changing route',
  404: 'unknown id',
  413: 'body larger than 100 KiB',
  415: 'a body that is not JSON',
  429: 'over the rate limit of the token (Retry-After says when to retry)',
  503: 'a dependency is down',
};
const CHANGING = new Set(['post', 'put', 'patch', 'delete']);

/** The probes and the scrape target live in libs/observability, which knows no admin schema. */
const PUBLIC_ANSWERS: Record<string, Record<string, unknown>> = {
  '/health/live': {
    description: 'the process runs',
    content: { 'application/json': { schema: refTo('Live') } },
  },
  '/health/ready': {
    description: 'Kafka, Temporal and PostgreSQL answer',
    content: { 'application/json': { schema: refTo('Ready') } },
  },
  '/metrics': {
    description: 'Prometheus text format',
    content: { 'text/plain': { schema: { type: 'string' } } },
  },
};

/** The error answers a route can give, from how the app's middleware, guards and pipes work. */
function errorStatuses(path: string, method: string, op: Operation): string[] {
  if (path === '/health/ready') return ['503'];
  if (!path.startsWith('/admin')) return [];
  const statuses = ['400', '401', '429'];
  if (CHANGING.has(method)) statuses.push('403', '413', '415');
  if (op.parameters?.some((p) => p.in === 'path')) statuses.push('404');
  return statuses;
}

/**
 * Completes the document Nest generated from the controllers: the component schemas, and
 * every error answer of every operation with the Error schema (the ones a controller
 * documented keep their description).
 */
export function completeDocument(document: OpenAPIObject): OpenAPIObject {
  const answers = toComponents(apiSchemas, 'output');
  const commands = toComponents(commandSchemas, 'input');
  const both = Object.keys(commands).filter((id) => id in answers);
  if (both.length) throw new Error(`OpenAPI schema ids used twice: ${both.join(', ')}`);
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, ...answers, ...commands },
  };
  const json = (schema: unknown) => ({ 'application/json': { schema } });
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(item as Record<string, Operation>)) {
      if (PUBLIC_ANSWERS[path]) op.responses['200'] = PUBLIC_ANSWERS[path];
      const statuses = new Set([
        ...errorStatuses(path, method, op),
        ...Object.keys(op.responses).filter((s) => Number(s) >= 400),
      ]);
      for (const status of statuses) {
        const given = op.responses[status];
        op.responses[status] = {
          description: (given?.description as string | undefined) || ERRORS[status] || 'error',
          content: json(refTo('Error')),
        };
      }
    }
  }
  return document;
}
