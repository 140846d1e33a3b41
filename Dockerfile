# casetime: a slim multi-stage image, running as a non-root user against DATABASE_URL (CASETIME_ENV=production:
# no demo data, no GraphiQL; a configuration mistake or an unreachable database is one line and exit status 2).
#   docker build -t casetime .
#   docker run -e DATABASE_URL='postgresql://user:pass@db/casetime?sslmode=verify-full&sslrootcert=system' \
#       -e WEB_CONCURRENCY=4 -p 8000:8000 casetime
# The first administrator (the password from standard input: -it asks for it twice, -i alone reads one line):
#   docker run --rm -it -e DATABASE_URL=... casetime python cli.py create-admin --email you@example.com --name "Your Name"
#   printf '%s\n' "$ADMIN_PASSWORD" | docker run --rm -i -e DATABASE_URL=... casetime python cli.py create-admin ...
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv && /opt/venv/bin/pip install uv==0.13.8
COPY pyproject.toml /src/pyproject.toml
RUN /opt/venv/bin/uv pip install --python /opt/venv/bin/python --no-cache -r /src/pyproject.toml

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    CASETIME_ENV=production HOST=0.0.0.0 PORT=8000 WEB_CONCURRENCY=2
RUN useradd --system --uid 10001 --home-dir /app casetime
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=casetime settings.py cli.py alembic.ini ./
COPY --chown=casetime edge ./edge
COPY --chown=casetime graph ./graph
COPY --chown=casetime resolvers ./resolvers
COPY --chown=casetime services ./services
COPY --chown=casetime models ./models
COPY --chown=casetime db ./db
COPY --chown=casetime migrations ./migrations
USER casetime
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz')"
# migrations first, under a lock so that containers starting together on one database migrate it once, then
# WEB_CONCURRENCY stateless uvicorn workers on HOST:PORT; SIGTERM stops them gracefully
CMD ["python", "cli.py", "serve"]
