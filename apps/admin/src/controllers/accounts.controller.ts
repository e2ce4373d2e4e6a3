import { Body, Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { AuthedRequest } from '../auth/auth.guard';
import { parseOrBadRequest } from '../http/zod';
import { AccountsUseCases, openAccountSchema } from '../usecases/accounts';
import { callerOf } from './caller';

const accountSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', example: 'acc-1' },
    currency: { type: 'string', example: 'EUR' },
    balance: { type: 'string', example: '0' },
    overdraftLimit: { type: 'string', example: '0' },
  },
};

@ApiTags('accounts')
@ApiBearerAuth()
@Controller('admin/accounts')
export class AccountsController {
  constructor(private readonly accounts: AccountsUseCases) {}

  @Post()
  @HttpCode(201)
  @ApiBody({
    schema: {
      type: 'object',
      required: ['id', 'currency'],
      properties: {
        id: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,64}$' },
        currency: { type: 'string', pattern: '^[A-Z]{3}$', example: 'EUR' },
        overdraftLimit: { type: 'string', pattern: '^(0|[1-9][0-9]*)$', example: '0' },
      },
    },
  })
  @ApiResponse({
    status: 201,
    description: 'the account (also when it exists with the same settings)',
    schema: accountSchema,
  })
  @ApiResponse({ status: 409, description: 'exists with other settings' })
  async open(@Body() body: unknown, @Req() req: AuthedRequest) {
    const cmd = parseOrBadRequest(openAccountSchema, body);
    return (await this.accounts.open(cmd, callerOf(req))).account;
  }

  @Get(':id')
  @ApiResponse({ status: 200, schema: accountSchema })
  @ApiResponse({ status: 404, description: 'unknown account' })
  get(@Param('id') id: string) {
    return this.accounts.get(id);
  }
}
