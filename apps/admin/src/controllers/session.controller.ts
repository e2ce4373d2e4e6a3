import { Controller, Get, Inject, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { AdminConfig, TemporalConfig } from '@settlement/config';
import { CONFIG } from '@settlement/platform';
import type { AuthedRequest } from '../auth/auth.guard';
import { callerOf } from './caller';

/** Who the token belongs to and where the Temporal Web UI is: what the console needs first. */
@ApiTags('session')
@ApiBearerAuth()
@Controller('admin/session')
export class SessionController {
  constructor(@Inject(CONFIG) private readonly config: AdminConfig & TemporalConfig) {}

  @Get()
  @ApiResponse({
    status: 200,
    description: '{principal: {name, role}, temporalWebUrl, temporalNamespace}',
  })
  session(@Req() req: AuthedRequest) {
    const { principal } = callerOf(req);
    return {
      principal: { name: principal.name, role: principal.role },
      temporalWebUrl: this.config.TEMPORAL_WEB_URL,
      temporalNamespace: this.config.TEMPORAL_NAMESPACE,
    };
  }
}
