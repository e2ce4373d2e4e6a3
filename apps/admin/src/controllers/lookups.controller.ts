import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { BATCH_STATUSES } from '@settlement/db';
import { ApiAnswer } from '../http/openapi';
import { Batch, BatchPage, Transaction } from '../http/responses';
import { parseOrBadRequest } from '../http/zod';
import { listBatchesSchema, LookupUseCases } from '../usecases/lookups';

@ApiTags('ledger')
@ApiBearerAuth()
@Controller('admin')
export class LookupsController {
  constructor(private readonly lookups: LookupUseCases) {}

  @Get('transactions/:id')
  @ApiAnswer(200, Transaction, 'the outcome, or PENDING with the batch that will settle it')
  @ApiResponse({ status: 404, description: 'no outcome recorded for this id' })
  transaction(@Param('id') id: string) {
    return this.lookups.transaction(id);
  }

  @Get('batches')
  @ApiQuery({ name: 'status', required: false, enum: BATCH_STATUSES })
  @ApiQuery({ name: 'limit', required: false, description: '1 to 500, default 100' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiAnswer(200, BatchPage, 'newest first')
  batches(@Query() query: Record<string, unknown>) {
    return this.lookups.batches(parseOrBadRequest(listBatchesSchema, query, 'query'));
  }

  @Get('batches/:id')
  @ApiAnswer(200, Batch)
  @ApiResponse({ status: 404, description: 'unknown batch' })
  batch(@Param('id') id: string) {
    return this.lookups.batch(id);
  }
}
