# Parley: build stage compiles the TypeScript and builds better-sqlite3; the runtime stage runs as
# the unprivileged `node` user with its data (SQLite database, uploaded files, generated TLS
# certificate, the demo application's credentials) in the /data volume.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary can be downloaded.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
# `prepare` builds dist/src with the TypeScript compiler, a dependency for exactly this reason.
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PARLEY_DATA_DIR=/data \
    PARLEY_BIND=0.0.0.0 \
    PARLEY_METRICS_PORT=9464 \
    PARLEY_METRICS_BIND=0.0.0.0
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/node_modules ./node_modules
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
# XMPP (STARTTLS), XMPP direct TLS, XMPP over WebSocket, HTTP, HTTPS, Prometheus metrics
EXPOSE 5222 5223 5291 8080 8443 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PARLEY_HTTP_PORT || 8080) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node runs as PID 1 and handles SIGTERM itself (`docker stop`): streams closed, store flushed.
STOPSIGNAL SIGTERM
CMD ["node", "bin/parley.js", "serve"]
