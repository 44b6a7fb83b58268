# faultbot as a container: `docker build -t faultbot .` then `docker compose up`.
# Stage 1 builds the wheel (knowledge base and templates inside); stage 2 installs only
# that wheel and its dependencies, and runs as an unprivileged user.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY bot ./bot
COPY knowledge ./knowledge
COPY templates ./templates
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels \
    && useradd --create-home --uid 10001 faultbot
USER faultbot
WORKDIR /home/faultbot
# 3000: webhook feed, Slack HTTP mode, /health, /metrics. 9000: the OCPP-J tap.
EXPOSE 3000 9000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/live' % os.environ.get('PORT', os.environ.get('FAULTBOT_HTTP_PORT', '3000')), timeout=4)"
CMD ["faultbot", "run"]
