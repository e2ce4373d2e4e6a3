import { Controller, Get, Inject, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { AdminConfig, TemporalConfig } from '@settlement/config';
import { CONFIG } from '@settlement/platform';
import type { AuthedRequest } from '../auth/auth.guard';
import { ApiAnswer } from '../http/openapi';
import { Session } from '../http/responses';
import { callerOf } from './caller';

/** Who the token belongs to and where the Temporal Web UI is: what the console needs first. */
@ApiTags('session')
@ApiBearerAuth()
@Controller('admin/session')
export class SessionController {
  constructor(@Inject(CONFIG) private readonly config: AdminConfig & TemporalConfig) {}

  @Get()
  @ApiAnswer(200, Session, 'who the token belongs to; where the Temporal Web UI is')
  session(@Req() req: AuthedRequest) {
    const { principal } = callerOf(req);
    return {
      principal: { name: principal.name, role: principal.role },
      temporalWebUrl: this.config.TEMPORAL_WEB_URL,
      temporalNamespace: this.config.TEMPORAL_NAMESPACE,
    };
  }
}
