# Grounding Workbench: CPU by default; on a CUDA host the same image uses the GPU that torch finds.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860 \
    WORKBENCH_DATA_DIR=/data

# CJK-capable font for drawn labels; jpegtran turns rotated phone photos upright losslessly in exports
# (same packages as packages.txt on Spaces).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk libjpeg-turbo-progs \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 workbench \
    && mkdir -p /data && chown workbench /data
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=workbench . .
RUN pip install --no-deps .

USER 1000
VOLUME ["/data"]
EXPOSE 7860
CMD ["python", "app.py"]
