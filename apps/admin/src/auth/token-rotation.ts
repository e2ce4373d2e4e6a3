import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from '@settlement/observability';
import { CONFIG, LOGGER } from '@settlement/platform';
import { TOKENS } from './auth.guard';
import { configuredTokens, parseTokensFile, TokenRegistry, type TokenConfig } from './tokens';

export interface TokenFileConfig extends TokenConfig {
  ADMIN_TOKENS_FILE?: string;
}

const readTokensFile = (path: string) => parseTokensFile(readFileSync(path, 'utf8'));

/** The registry at start-up: the environment's tokens and the tokens file's (a bad file stops the start). */
export function loadTokens(config: TokenFileConfig): TokenRegistry {
  const file = config.ADMIN_TOKENS_FILE ? readTokensFile(config.ADMIN_TOKENS_FILE) : undefined;
  return TokenRegistry.fromConfig(config, file);
}

/**
 * Rotation without a restart: the tokens file is re-read when it changes (polled, which also
 * sees a Kubernetes Secret volume swapping its symlink) and on SIGHUP. A file that does not
 * parse keeps the previous tokens and logs the line at fault. Returns the stop function.
 */
export function watchTokensFile(
  registry: TokenRegistry,
  config: TokenFileConfig,
  logger: Logger,
  intervalMs = 2000,
): () => void {
  const path = config.ADMIN_TOKENS_FILE;
  if (!path) return () => undefined;
  const reload = (why: string) => {
    try {
      registry.replace(configuredTokens(config, readTokensFile(path)));
      logger.info({ why, tokens: registry.size }, 'admin tokens reloaded');
    } catch (err) {
      logger.error({ why, err }, 'admin tokens file not applied; the previous tokens stay');
    }
  };
  const onChange = () => reload('file changed');
  const onHup = () => reload('SIGHUP');
  watchFile(path, { interval: intervalMs, persistent: false }, onChange);
  process.on('SIGHUP', onHup);
  return () => {
    unwatchFile(path, onChange);
    process.off('SIGHUP', onHup);
  };
}

/** Watches the tokens file for the app's lifetime. */
@Injectable()
export class TokenFileWatcher implements OnModuleInit, OnApplicationShutdown {
  private stop: () => void = () => undefined;

  constructor(
    @Inject(TOKENS) private readonly registry: TokenRegistry,
    @Inject(CONFIG) private readonly config: TokenFileConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.stop = watchTokensFile(this.registry, this.config, this.logger);
  }

  onApplicationShutdown(): void {
    this.stop();
  }
}
