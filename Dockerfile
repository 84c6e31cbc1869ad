# One image for every role (api, worker, beat, dsp simulator); the command picks the role.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends xmlsec1 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY duis duis
COPY fir_sync fir_sync
COPY orchestrator orchestrator
COPY simulators simulators
RUN pip install --no-cache-dir .
ENV FWO_DATA_DIR=/data
VOLUME /data
ENTRYPOINT ["fwo"]
