# The FieldForce server image (API and worker). Build: docker build -t fieldforce .
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY routing ./routing
COPY server ./server
COPY mobile ./mobile
RUN pip install ".[server,routing]" \
    && useradd --system --create-home fieldforce
USER fieldforce
EXPOSE 8000
CMD ["fieldforce", "serve", "--host", "0.0.0.0", "--port", "8000"]
