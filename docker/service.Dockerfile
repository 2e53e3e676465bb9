# syntax=docker/dockerfile:1
# The hotline service. Build from the repository root (compose: context "..").

# Wheels of the project and all its dependencies; nothing from this stage but the wheels is kept.
FROM python:3.11-slim-bookworm AS wheels
WORKDIR /src
COPY pyproject.toml ./
COPY ari_app ./ari_app
COPY ivr ./ivr
COPY routing ./routing
COPY recordings ./recordings
COPY knowledge_client ./knowledge_client
COPY kernel ./kernel
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm

# Group shared with the Asterisk container for the recordings spool and the prompts folder.
# Must be the same number as MEDIA_GID in docker/asterisk.Dockerfile.
ARG MEDIA_GID=10100

# espeak-ng: the speech engine pyttsx3 drives (prompts); sox: audio conversion.
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng libespeak-ng1 sox \
 && rm -rf /var/lib/apt/lists/*

RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index /wheels/*.whl

# Non-root user, in the shared media group. The shared folders are setgid and group-writable
# (the Asterisk image creates them the same way); the recording store is the service's alone.
RUN groupadd --gid "$MEDIA_GID" hotline-media \
 && groupadd --gid 10001 hotline \
 && useradd --uid 10001 --gid hotline --groups hotline-media --no-create-home \
      --home-dir /var/lib/hotline --shell /usr/sbin/nologin hotline \
 && install -d -o hotline -g hotline -m 0755 /var/lib/hotline /etc/hotline \
 && install -d -o hotline -g hotline-media -m 2775 \
      /var/spool/hotline-recordings /var/lib/hotline/prompts \
 && install -d -o hotline -g hotline -m 0750 /var/lib/hotline/recordings

# Defaults for the container layout; docker/compose.yaml sets them too. See docs/deploy.md.
ENV PYTHONUNBUFFERED=1 \
    HOTLINE_HTTP_HOST=0.0.0.0 \
    HOTLINE_HTTP_PORT=8080 \
    HOTLINE_RECORDINGS_SPOOL=/var/spool/hotline-recordings \
    HOTLINE_RECORDINGS_DIR=/var/lib/hotline/recordings \
    HOTLINE_PROMPTS_DIR=/var/lib/hotline/prompts \
    HOTLINE_PROMPTS_ASTERISK_DIR=/var/lib/asterisk/sounds/hotline

USER hotline
WORKDIR /var/lib/hotline
EXPOSE 8080

# /health answers 200 while ARI, AMI and the database are reachable, 503 (unhealthy) otherwise.
# `docker stop` sends SIGTERM: live calls are handed over to the next start within 5 s.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('HOTLINE_HTTP_PORT', '8080'), timeout=4)"]

# The configuration is mounted here (docker/compose.yaml mounts docker/hotline.yaml).
# --config is an option of "hotline" itself, so it comes before the command (ari_app/__main__.py).
CMD ["hotline", "--config", "/etc/hotline/hotline.yaml", "run"]
