# syntax=docker/dockerfile:1
# Build: docker build -t aftercare-bot .
# The image runs in production mode: it refuses to start without AFTERCARE_ENCRYPTION_KEY and serves no simulator.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN python -m venv /opt/venv
COPY requirements/runtime.lock requirements/runtime.lock
RUN /opt/venv/bin/pip install --require-hashes -r requirements/runtime.lock
COPY pyproject.toml README.md alembic.ini babel.cfg ./
COPY bot bot
COPY migrations migrations
COPY locales locales
# Editable install: migrations/ and locales/ stay beside the package at /app, where the code looks for them.
RUN /opt/venv/bin/pip install --no-deps -e . \
 && /opt/venv/bin/pybabel compile -d locales -D messages

# The console's stylesheet and htmx, from the npm registry at the versions package-lock.json pins (no CDN).
FROM node:20-bookworm-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
 && mkdir vendor && cp node_modules/@picocss/pico/css/pico.min.css node_modules/htmx.org/dist/htmx.min.js vendor/

FROM python:3.11-slim-bookworm AS runtime
# WeasyPrint draws the PDFs (reports, certificates, notices, invite cards) with Pango; Noto Serif and Sans carry
# every Vietnamese diacritic (the documents' font stacks name them first).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-core \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin aftercare \
 && mkdir /data && chown aftercare /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
COPY --from=assets /assets/vendor /app/bot/web/console/static/vendor
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    AFTERCARE_ENVIRONMENT=production \
    AFTERCARE_HTTP_HOST=0.0.0.0 \
    AFTERCARE_HTTP_PORT=8080 \
    AFTERCARE_DATA_DIR=/data
USER aftercare
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"
# Migrations first (a failed migration stops the container before it serves anything), then the bot.
CMD ["sh", "-c", "aftercare db upgrade && exec aftercare run"]
