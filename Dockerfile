# The pythond runner image. Where a registry is reachable, the official Node
# images are its bases, pulled by the build:
#
#   docker build -t pythond-runner --build-arg REVISION=$(git rev-parse HEAD) .
#
# Without one, `npm run images` (docker/build-images.sh) builds it from local
# Debian bases: --build-arg BASE=pythond-node:20 --build-arg
# BUILD_BASE=pythond-node:20-build. BASE is the runtime (Debian with Node 20
# as `node` on PATH); BUILD_BASE, default BASE, must also have npm.
# VERSION, REVISION and SOURCE go into the image's OCI labels: the version of
# package.json (a test keeps the default in step), the commit, the URL of the
# repository it was built from.
ARG BASE=node:20-bookworm-slim
ARG BUILD_BASE=${BASE}

FROM ${BUILD_BASE} AS build
LABEL io.pythond.image=runner-build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are here, and no
# dependency needs an install script (ssh2's native helpers are optional).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src src
COPY workers workers
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${BASE}
# The unprivileged user the entrypoint runs pythond as (docker/runner-entrypoint.sh).
RUN useradd --system --uid 10002 --user-group --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin --comment "pythond runner" pythond \
 && mkdir -p /var/lib/pythond \
 && chown pythond:pythond /var/lib/pythond
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist/src dist/src
COPY --from=build /src/dist/workers dist/workers
COPY python.d/core python.d/core
COPY web web
COPY docker/runner-entrypoint.sh docker/
COPY LICENSE ./
# Defaults, so the image runs on its own: the compose configuration and the
# demo collectors, laid out as in the repository. compose.yaml mounts the
# project's folders over them.
COPY docker/compose/pythond.toml /etc/pythond/docker/compose/pythond.toml
COPY python.d/demo /etc/pythond/python.d/demo
ARG VERSION=0.2.0
ARG REVISION=unknown
ARG SOURCE=
LABEL io.pythond.image=runner \
      org.opencontainers.image.title=pythond \
      org.opencontainers.image.description="Runs DataKit-style Python collectors in isolated Docker containers, on a schedule" \
      org.opencontainers.image.version=${VERSION} \
      org.opencontainers.image.revision=${REVISION} \
      org.opencontainers.image.source=${SOURCE} \
      org.opencontainers.image.licenses=MIT
EXPOSE 9529
# The config every command reads unless given --config: `docker run ...
# pythond-runner validate` checks it. Another: mount its folder, set this.
ENV PYTHOND_CONFIG=/etc/pythond/docker/compose/pythond.toml
WORKDIR /etc/pythond
ENTRYPOINT ["/app/docker/runner-entrypoint.sh"]
CMD ["run"]
