import { ConfigError, loadConfig } from '@settlement/config';
import { parseNamedToken } from './auth/tokens';

export const loadAdminConfig = (env: NodeJS.ProcessEnv = process.env) => {
  const config = loadConfig(['admin', 'database', 'kafka', 'temporal', 'cycles'], env);
  const tokens = [
    config.ADMIN_TOKEN,
    ...config.ADMIN_OPERATOR_TOKENS,
    ...config.ADMIN_READONLY_TOKENS,
  ];
  if (!tokens.some((t) => t !== undefined && t.length > 0) && !config.ADMIN_TOKENS_FILE) {
    throw new ConfigError([
      'ADMIN_TOKEN is missing: the admin API refuses to start without a token (set ADMIN_TOKEN, ADMIN_OPERATOR_TOKENS, ADMIN_READONLY_TOKENS or ADMIN_TOKENS_FILE)',
    ]);
  }
  const short = [...config.ADMIN_OPERATOR_TOKENS, ...config.ADMIN_READONLY_TOKENS].filter(
    (entry) => parseNamedToken(entry).token.length < 16,
  );
  if (short.length > 0) {
    throw new ConfigError([
      'ADMIN_OPERATOR_TOKENS/ADMIN_READONLY_TOKENS is invalid: every entry is `name:token` (or a bare token) with a token of at least 16 characters',
    ]);
  }
  return config;
};
export type AdminAppConfig = ReturnType<typeof loadAdminConfig>;
