import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { AuthedRequest } from '../auth/auth.guard';
import { parseOrBadRequest } from '../http/zod';
import { ConsumerUseCases, pauseSchema } from '../usecases/consumers';
import { callerOf } from './caller';

const reasonBody = {
  required: false,
  schema: { type: 'object', properties: { reason: { type: 'string', maxLength: 500 } } },
};

@ApiTags('consumption')
@ApiBearerAuth()
@Controller('admin')
export class ConsumersController {
  constructor(private readonly consumers: ConsumerUseCases) {}

  @Get('lag')
  @ApiResponse({
    status: 200,
    description:
      '{groupId, topic, consumption: {paused,...}, totalLag, partitions: [{partition, committedOffset, startOffset, endOffset, lag}]}',
  })
  lag() {
    return this.consumers.lag();
  }

  @Get('consumers')
  @ApiResponse({ status: 200, description: 'the durable pause state of the live consumer group' })
  state() {
    return this.consumers.state();
  }

  @Post('consumers/pause')
  @HttpCode(200)
  @ApiBody(reasonBody)
  @ApiResponse({
    status: 200,
    description: 'paused; every ingest instance stops within a few seconds',
  })
  pause(@Body() body: unknown, @Req() req: AuthedRequest) {
    return this.consumers.setPaused(true, parseOrBadRequest(pauseSchema, body), callerOf(req));
  }

  @Post('consumers/resume')
  @HttpCode(200)
  @ApiBody(reasonBody)
  @ApiResponse({ status: 200, description: 'resumed' })
  resume(@Body() body: unknown, @Req() req: AuthedRequest) {
    return this.consumers.setPaused(false, parseOrBadRequest(pauseSchema, body), callerOf(req));
  }
}
