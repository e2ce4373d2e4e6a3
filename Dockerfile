# syntax=docker/dockerfile:1.7
#
# One image for the three long-running apps (ingest, worker, admin) and a second, fatter
# one-shot image for database migrations. Both run as the unprivileged `node` user (uid 1000)
# and work with a read-only root filesystem (only /tmp needs to be writable).
#
#   docker build --target runtime -t settlement:local .
#   docker build --target migrate -t settlement-migrate:local .
#   docker run --rm --read-only --tmpfs /tmp settlement:local node dist/apps/admin/src/main.js
#
# Base: Node.js 22 LTS (supported until April 2027) on Debian slim, not alpine: the Temporal
# worker's native core bridge links against glibc.
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- deps: every dependency (dev included), needed to compile and to run drizzle-kit --------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY package.json package-lock.json ./
# npm ci's postinstall applies patches/ (patch-package): kafkajs's producer (docs/benchmarks.md)
COPY patches ./patches
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund

# ---- build: tsc + tsc-alias into dist/, plus the prebuilt workflow bundle ------------------
FROM deps AS build
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
# The worker loads dist/workflow-bundle.js (-traced.js with tracing on) instead of running webpack at start (cold start).
RUN npm run build && test -s dist/workflow-bundle.js && test -s dist/workflow-bundle-traced.js

# ---- prod-deps: runtime dependencies only ---------------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime: ingest / worker / admin ---------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1 forwards SIGTERM to node and reaps zombies, so the apps' graceful shutdown
# (drain in-flight batches, commit offsets, finish activities) runs on `kubectl delete pod`.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# MALLOC_ARENA_MAX: two malloc arenas, not eight per core (APP_NATIVE_ENV in scripts/apps-runner.ts).
ENV NODE_ENV=production \
    HOME=/tmp \
    NODE_OPTIONS=--enable-source-maps \
    MALLOC_ARENA_MAX=2
COPY --chown=root:root package.json ./
COPY --chown=root:root --from=prod-deps /app/node_modules ./node_modules
COPY --chown=root:root --from=build /app/dist ./dist
# Files are owned by root and not writable by the app user: with or without a read-only
# root filesystem, the process cannot modify its own code.
USER 1000:1000
EXPOSE 3000 3001 3002
ENTRYPOINT ["/usr/bin/tini", "--"]
# Pick the app with the command: dist/apps/{ingest,worker,admin}/src/main.js
CMD ["node", "dist/apps/admin/src/main.js"]

# ---- migrate: one-shot `drizzle-kit migrate` against DATABASE_URL (the owner), then the apps'
# login roles (dist/libs/db/src/app-logins-cli.js, passwords from DATABASE_<APP>_PASSWORD) ----
FROM ${NODE_IMAGE} AS migrate
WORKDIR /app
ENV NODE_ENV=production HOME=/tmp npm_config_cache=/tmp/.npm npm_config_update_notifier=false
COPY --chown=root:root --from=deps /app/node_modules ./node_modules
COPY --chown=root:root package.json drizzle.config.ts tsconfig.json ./
COPY --chown=root:root libs/db ./libs/db
COPY --chown=root:root --from=build /app/dist/libs ./dist/libs
USER 1000:1000
ENTRYPOINT ["/bin/sh", "-c", "node_modules/.bin/drizzle-kit migrate --config drizzle.config.ts && exec node dist/libs/db/src/app-logins-cli.js"]
