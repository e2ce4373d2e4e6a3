import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { DEAD_LETTER_REASONS, DEAD_LETTER_STATUSES } from '@settlement/db';
import type { AuthedRequest } from '../auth/auth.guard';
import { ApiAnswer, ApiCommand } from '../http/openapi';
import {
  Cancellation,
  DeadLetter,
  DeadLetterPage,
  Redrive,
  RedrivePlan,
  RedriveStarted,
  Repair,
} from '../http/responses';
import { parseOrBadRequest } from '../http/zod';
import {
  approveSchema,
  DeadLetterUseCases,
  discardSchema,
  listDeadLettersSchema,
  redriveSchema,
  resubmitSchema,
} from '../usecases/dead-letters';
import { callerOf } from './caller';

/**
 * The dead-letter queue and its repair: OPEN -> PROPOSED (a correction) -> RESUBMITTED (after
 * a different operator's approval), OPEN -> RESUBMITTED (as is), OPEN/PROPOSED -> DISCARDED.
 */
@ApiTags('dead letters')
@ApiBearerAuth()
@Controller('admin/dead-letters')
export class DeadLettersController {
  constructor(private readonly deadLetters: DeadLetterUseCases) {}

  @Get()
  @ApiQuery({ name: 'reason', required: false, enum: DEAD_LETTER_REASONS })
  @ApiQuery({ name: 'status', required: false, enum: DEAD_LETTER_STATUSES })
  @ApiQuery({ name: 'since', required: false, description: 'created at or after (RFC 3339)' })
  @ApiQuery({ name: 'until', required: false, description: 'created before (RFC 3339)' })
  @ApiQuery({ name: 'limit', required: false, description: '1 to 500, default 100' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiAnswer(200, DeadLetterPage, 'newest first')
  list(@Query() query: Record<string, unknown>) {
    return this.deadLetters.list(parseOrBadRequest(listDeadLettersSchema, query, 'query'));
  }

  @Post('redrive')
  @HttpCode(202)
  @ApiCommand('RedriveRequest', redriveSchema)
  @ApiAnswer(202, RedriveStarted, 'the re-drive workflow started')
  @ApiAnswer(200, RedrivePlan, 'dry run: what a re-drive would do now')
  async redrive(
    @Body() body: unknown,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ) {
    const cmd = parseOrBadRequest(redriveSchema, body);
    const result = await this.deadLetters.redrive(cmd, callerOf(req));
    if (cmd.dryRun) res.status(200);
    return result;
  }

  @Get('redrives/:id')
  @ApiAnswer(200, Redrive)
  @ApiResponse({ status: 404, description: 'unknown re-drive' })
  redriveStatus(@Param('id') id: string) {
    return this.deadLetters.getRedrive(id);
  }

  @Post('redrives/:id/cancel')
  @HttpCode(202)
  @ApiAnswer(202, Cancellation, 'cancellation requested; the status becomes CANCELLED')
  @ApiResponse({ status: 409, description: 'the re-drive is not running' })
  cancelRedrive(@Param('id') id: string, @Req() req: AuthedRequest) {
    return this.deadLetters.cancelRedrive(id, callerOf(req));
  }

  @Get(':id')
  @ApiAnswer(200, DeadLetter, 'the dead letter with its repair and outcome')
  @ApiResponse({ status: 404, description: 'unknown dead letter' })
  get(@Param('id') id: string) {
    return this.deadLetters.get(id);
  }

  @Post(':id/resubmit')
  @HttpCode(202)
  @ApiCommand('Resubmit', resubmitSchema, false)
  @ApiAnswer(
    202,
    Repair,
    'as is: status RESUBMITTED; corrected: status PROPOSED, awaiting approval',
  )
  @ApiResponse({
    status: 409,
    description: 'not OPEN (already resubmitted, proposed or discarded), or the id has an outcome',
  })
  @ApiResponse({ status: 422, description: 'the corrected message is not a valid transaction' })
  resubmit(@Param('id') id: string, @Body() body: unknown, @Req() req: AuthedRequest) {
    return this.deadLetters.resubmit(id, parseOrBadRequest(resubmitSchema, body), callerOf(req));
  }

  @Post(':id/approve')
  @HttpCode(202)
  @ApiCommand('Approve', approveSchema, false)
  @ApiAnswer(202, Repair, 'status RESUBMITTED, with proposedBy and approvedBy')
  @ApiResponse({ status: 403, description: 'the proposer cannot approve their own correction' })
  @ApiResponse({ status: 409, description: 'nothing proposed, or the id has an outcome now' })
  approve(@Param('id') id: string, @Body() body: unknown, @Req() req: AuthedRequest) {
    return this.deadLetters.approve(id, parseOrBadRequest(approveSchema, body), callerOf(req));
  }

  @Post(':id/discard')
  @HttpCode(200)
  @ApiCommand('Discard', discardSchema)
  @ApiAnswer(200, Repair, 'status DISCARDED, with discardedBy and reason')
  @ApiResponse({ status: 409, description: 'already resubmitted or discarded' })
  discard(@Param('id') id: string, @Body() body: unknown, @Req() req: AuthedRequest) {
    return this.deadLetters.discard(id, parseOrBadRequest(discardSchema, body), callerOf(req));
  }
}
