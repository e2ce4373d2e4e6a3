import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { AuthedRequest } from '../auth/auth.guard';
import { ApiAnswer, ApiCommand } from '../http/openapi';
import { Consumption, Lag } from '../http/responses';
import { parseOrBadRequest } from '../http/zod';
import { ConsumerUseCases, pauseSchema } from '../usecases/consumers';
import { callerOf } from './caller';

@ApiTags('consumption')
@ApiBearerAuth()
@Controller('admin')
export class ConsumersController {
  constructor(private readonly consumers: ConsumerUseCases) {}

  @Get('lag')
  @ApiAnswer(200, Lag, 'per partition: committed offset, log start and end, lag')
  lag() {
    return this.consumers.lag();
  }

  @Get('consumers')
  @ApiAnswer(200, Consumption, 'the durable pause state of the live consumer group')
  state() {
    return this.consumers.state();
  }

  @Post('consumers/pause')
  @HttpCode(200)
  @ApiCommand('Pause', pauseSchema, false)
  @ApiAnswer(200, Consumption, 'paused; every ingest instance stops within a few seconds')
  pause(@Body() body: unknown, @Req() req: AuthedRequest) {
    return this.consumers.setPaused(true, parseOrBadRequest(pauseSchema, body), callerOf(req));
  }

  @Post('consumers/resume')
  @HttpCode(200)
  @ApiCommand('Pause', pauseSchema, false)
  @ApiAnswer(200, Consumption, 'resumed')
  resume(@Body() body: unknown, @Req() req: AuthedRequest) {
    return this.consumers.setPaused(false, parseOrBadRequest(pauseSchema, body), callerOf(req));
  }
}
