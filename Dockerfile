# One image for every PrefLens service; installs exactly what `make install` installs.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . /app
RUN make install VENV=/opt/venv PYTHON=python3.11
ENV PATH=/opt/venv/bin:$PATH \
    PREFLENS_DATA_DIR=/data
VOLUME ["/data"]
ENTRYPOINT ["preflens"]
CMD ["--help"]
