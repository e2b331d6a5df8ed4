# GDR Santé application image: API (and later UI) with the bundled models, fully offline at run time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    ANONYMIZED_TELEMETRY=False \
    GDR_DATA_DIR=/data

WORKDIR /app

# Dependencies first (cached layer): the lock is used as constraints; torch comes from the CPU index
# (2.13.0+cpu satisfies the torch==2.13.0 pin without pulling the CUDA build).
COPY pyproject.toml requirements.lock README.md ./
COPY assistant ./assistant
COPY retrieval ./retrieval
COPY classifier ./classifier
COPY corpora ./corpora
COPY ui ./ui
COPY schemas ./schemas
# The chat (Chainlit) reads its config and welcome pages from the app root and writes uploads to .files.
COPY .chainlit ./.chainlit
COPY chainlit.md chainlit_fr-FR.md ./
# The UI's custom element (risk card), CSS and JS (accessibility), served by Chainlit from public/
COPY public ./public
# The « Nouveautés » served by GET /changelog (read from the working directory).
COPY CHANGELOG.md ./
RUN pip install --extra-index-url https://download.pytorch.org/whl/cpu -c requirements.lock . \
    && useradd --create-home --uid 1000 gdr \
    && mkdir -p /data /app/.files && chown gdr:gdr /data /app/.files && chown -R gdr:gdr /app/.chainlit

USER gdr
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=600s --retries=5 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"

CMD ["gdr", "run", "--host", "0.0.0.0"]
