import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { AuthedRequest } from '../auth/auth.guard';
import { ApiAnswer, ApiCommand } from '../http/openapi';
import { Cancellation, Replay, ReplayPage, ReplayStarted } from '../http/responses';
import { parseOrBadRequest } from '../http/zod';
import { listReplaysSchema, ReplayUseCases, startReplaySchema } from '../usecases/replays';
import { callerOf } from './caller';

@ApiTags('replays')
@ApiBearerAuth()
@Controller('admin/replays')
export class ReplaysController {
  constructor(private readonly replays: ReplayUseCases) {}

  @Post()
  @HttpCode(202)
  @ApiCommand('StartReplay', startReplaySchema)
  @ApiAnswer(202, ReplayStarted, 'the replay workflow started')
  @ApiResponse({
    status: 422,
    description: 'range beyond the log end or before retention, unknown topic or partition',
  })
  async start(@Body() body: unknown, @Req() req: AuthedRequest) {
    return this.replays.start(parseOrBadRequest(startReplaySchema, body), callerOf(req));
  }

  @Get()
  @ApiQuery({ name: 'limit', required: false, description: '1 to 500, default 100' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiAnswer(200, ReplayPage, 'newest first')
  list(@Query() query: Record<string, unknown>) {
    return this.replays.list(parseOrBadRequest(listReplaysSchema, query, 'query'));
  }

  @Get(':id')
  @ApiAnswer(200, Replay)
  @ApiResponse({ status: 404, description: 'unknown replay' })
  get(@Param('id') id: string) {
    return this.replays.get(id);
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @ApiAnswer(202, Cancellation, 'cancellation requested; the status becomes CANCELLED')
  @ApiResponse({ status: 409, description: 'the replay is not running' })
  cancel(@Param('id') id: string, @Req() req: AuthedRequest) {
    return this.replays.cancel(id, callerOf(req));
  }
}
