import { Controller, Get, Header, HttpException, HttpStatus, Inject } from '@nestjs/common';
import { metricsText, registry } from './metrics';
import { Public } from './public-route';

/** A dependency the service needs to do its work; readiness fails while any check throws. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

/** Each app provides its list of checks under this token and declares HealthController. */
export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

/** The routes of HealthController, public in every app (the admin's first middleware lets them through). */
export const HEALTH_PATHS = ['/health/live', '/health/ready', '/metrics'] as const;

/** Health and metrics are public: probes and scrapers carry no token. */
@Public()
@Controller()
export class HealthController {
  constructor(@Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[]) {}

  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready(): Promise<{ status: 'ok'; checks: Record<string, string> }> {
    const results = await Promise.all(
      this.checks.map(async (c) => {
        try {
          await withTimeout(c.check(), 2000, c.name);
          return [c.name, 'ok'] as const;
        } catch (err) {
          return [c.name, err instanceof Error ? err.message : String(err)] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results);
    if (results.some(([, r]) => r !== 'ok')) {
      throw new HttpException(
        { error: 'NOT_READY', message: 'a dependency is down', checks },
        HttpStatus.SERVICE_UNAVAILABLE,
      );
    }
    return { status: 'ok', checks };
  }

  @Get('metrics')
  @Header('Content-Type', registry.contentType)
  metrics(): Promise<string> {
    return metricsText();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
