# syntax=docker/dockerfile:1
# carecycle-sync: the always-on daemon image.
#   docker build -t carecycle-sync .
#   docker run --rm -e DATABASE_URL=... -e CARECYCLE_API_KEY=... \
#     -v $PWD/carecycle-sync.yaml:/etc/carecycle-sync/config.yaml:ro -p 8080:8080 carecycle-sync
# The default command is `run`; any other command works too (`... carecycle-sync doctor`).

############################ build: dev dependencies + esbuild #########################
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are not needed to bundle (they fetch or build test-only native pieces).
RUN npm ci --ignore-scripts --no-audit --no-fund
# One minified bundle in dist/ (scripts/bundle.ts, docs/footprint.md).
COPY scripts/bundle.ts ./scripts/
COPY src ./src
RUN npm run build

############################ runtime: production dependencies only ####################
FROM node:20-bookworm-slim AS runtime
# A small idle footprint (docs/footprint.md): V8's young generation capped at 1 MB a semi-space
# (by default it grows to 16 MB during a backfill and stays), two malloc arenas, and malloc's
# mmap and trim thresholds fixed, so freed memory goes back to the system.
ENV NODE_ENV=production \
    CARECYCLE_SYNC_CONFIG=/etc/carecycle-sync/config.yaml \
    PORT=8080 \
    NODE_OPTIONS=--max-semi-space-size=1 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072 \
    MALLOC_TRIM_THRESHOLD_=131072
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The state schema migrations (applied by `setup`) and the example configs.
COPY sql ./sql
COPY config ./config
# A fixed numeric non-root user, so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 carecycle \
 && useradd --system --uid 10001 --gid carecycle --home-dir /app --shell /usr/sbin/nologin carecycle \
 && mkdir -p /etc/carecycle-sync
USER 10001:10001
EXPOSE 8080
# Liveness only (/healthz): readiness (/readyz) says whether data flows, and a container that is
# alive but waiting for its database must not be restarted in a loop. No curl in the image: node.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const p=process.env.PORT||8080;require('http').get({host:'127.0.0.1',port:p,path:'/healthz',timeout:4000},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"]
# SIGTERM goes straight to node (exec form), which drains and confirms before exiting.
ENTRYPOINT ["node", "dist/carecycle-sync.mjs"]
CMD ["run"]
