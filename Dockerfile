# One image for every PrefLens service (API, dashboard, jobs). It installs exactly what
# `make install` installs: the Makefile's own target runs here (pinned packages from
# requirements.lock, extras train,api,dashboard,dev,docs), into /opt/venv instead of .venv.
# `--build-arg EXTRAS=train,api,dashboard,dev,docs,postgres` adds the PostgreSQL driver.
FROM python:3.11-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . /app
ARG EXTRAS=
RUN make install VENV=/opt/venv PYTHON=python3.11 ${EXTRAS:+EXTRAS=$EXTRAS}
ENV PATH=/opt/venv/bin:$PATH \
    PREFLENS_DATA_DIR=/data \
    HF_HUB_DISABLE_TELEMETRY=1
VOLUME ["/data"]
# 8000: `preflens serve` (the API); 8501: `preflens dashboard`.
EXPOSE 8000 8501
ENTRYPOINT ["preflens"]
CMD ["--help"]
