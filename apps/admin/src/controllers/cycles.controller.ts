import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { AuthedRequest } from '../auth/auth.guard';
import { prefersCsv } from '../http/accept';
import { ApiAnswer, ApiCommand } from '../http/openapi';
import { Cycle, CyclePage, CycleStarted, PositionPage } from '../http/responses';
import { parseOrBadRequest } from '../http/zod';
import {
  CycleUseCases,
  listCyclesSchema,
  listPositionsSchema,
  positionsCsv,
  startCycleSchema,
} from '../usecases/cycles';
import { callerOf } from './caller';

/** What the positions route needs of the HTTP response to answer CSV. */
interface CsvResponse {
  type(contentType: string): unknown;
  setHeader(name: string, value: string): unknown;
}

@ApiTags('cycles')
@ApiBearerAuth()
@Controller('admin/cycles')
export class CyclesController {
  constructor(private readonly cycles: CycleUseCases) {}

  @Post()
  @HttpCode(202)
  @ApiCommand('StartCycle', startCycleSchema)
  @ApiAnswer(202, CycleStarted, 'the cycle; the existing one if that cut-off already ran')
  @ApiResponse({
    status: 409,
    description: 'the cut-off falls in the window of a cycle that already ran',
  })
  start(@Body() body: unknown, @Req() req: AuthedRequest) {
    return this.cycles.start(parseOrBadRequest(startCycleSchema, body), callerOf(req));
  }

  @Get()
  @ApiQuery({ name: 'limit', required: false, description: '1 to 500, default 100' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiAnswer(200, CyclePage, 'newest first')
  list(@Query() query: Record<string, unknown>) {
    return this.cycles.list(parseOrBadRequest(listCyclesSchema, query, 'query'));
  }

  @Get(':id')
  @ApiAnswer(200, Cycle)
  @ApiResponse({ status: 404, description: 'unknown cycle' })
  get(@Param('id') id: string) {
    return this.cycles.get(id);
  }

  @Get(':id/positions')
  @ApiProduces('application/json', 'text/csv')
  @ApiQuery({ name: 'account', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1 to 500, default 100' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiAnswer(
    200,
    PositionPage,
    'by account then currency; with Accept: text/csv the same page as CSV, the next cursor in the X-Next-Cursor header',
  )
  async positions(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) res: CsvResponse,
  ) {
    const page = await this.cycles.positions(
      id,
      parseOrBadRequest(listPositionsSchema, query, 'query'),
    );
    if (!prefersCsv(accept)) return page;
    res.type('text/csv; charset=utf-8');
    if (page.nextCursor) res.setHeader('X-Next-Cursor', page.nextCursor);
    return positionsCsv(page.items);
  }
}
