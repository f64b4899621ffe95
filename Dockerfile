# Ficus as one static-ish binary on a slim base.
#   docker build -t ficus .
#   docker run -p 8080:8080 -v $PWD/ficus.yaml:/etc/ficus/ficus.yaml:ro ficus
# The admin API listens on 127.0.0.1:9901 unless the config says otherwise; to
# expose it, set admin.listen to 0.0.0.0:9901 and pass FICUS_ADMIN_TOKEN.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --no-create-home ficus
COPY --from=build /src/dist/ficus /usr/local/bin/ficus
USER 10001
EXPOSE 8080 9901
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/ficus"]
CMD ["start", "-c", "/etc/ficus/ficus.yaml"]
