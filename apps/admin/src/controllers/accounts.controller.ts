import { Body, Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { AuthedRequest } from '../auth/auth.guard';
import { ApiAnswer, ApiCommand } from '../http/openapi';
import { Account } from '../http/responses';
import { parseOrBadRequest } from '../http/zod';
import { AccountsUseCases, openAccountSchema } from '../usecases/accounts';
import { callerOf } from './caller';

@ApiTags('accounts')
@ApiBearerAuth()
@Controller('admin/accounts')
export class AccountsController {
  constructor(private readonly accounts: AccountsUseCases) {}

  @Post()
  @HttpCode(201)
  @ApiCommand('OpenAccount', openAccountSchema)
  @ApiAnswer(201, Account, 'the account (also when it exists with the same settings)')
  @ApiResponse({ status: 409, description: 'exists with other settings' })
  async open(@Body() body: unknown, @Req() req: AuthedRequest) {
    const cmd = parseOrBadRequest(openAccountSchema, body);
    return (await this.accounts.open(cmd, callerOf(req))).account;
  }

  @Get(':id')
  @ApiAnswer(200, Account)
  @ApiResponse({ status: 404, description: 'unknown account' })
  get(@Param('id') id: string) {
    return this.accounts.get(id);
  }
}
