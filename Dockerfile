# One image for every role (run, api, worker, beat, dsp simulator); the command picks it.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends xmlsec1 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY duis duis
COPY fir_sync fir_sync
COPY orchestrator orchestrator
COPY simulators simulators
RUN pip install --no-cache-dir .
ENV FWO_DATA_DIR=/data FWO_API_HOST=0.0.0.0
VOLUME /data
EXPOSE 8000
ENTRYPOINT ["fwo"]
# Without a command the image is the embedded runtime (SQLite in /data, no broker):
#   docker run -v fwo-data:/data -p 8000:8000 -e FWO_DSP_URL=... fwo
# docker-compose.yml gives each scaled role its own command (worker, beat, serve, ...).
CMD ["run"]
