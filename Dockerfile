# The FieldForce server image (API, dashboard and worker). Build: docker build -t fieldforce .
# The dashboard's browser packages, from the committed lock file.
FROM node:20-bookworm-slim AS browser-packages
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

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
COPY --from=browser-packages /build/node_modules /app/node_modules
ENV FIELDFORCE_NODE_MODULES=/app/node_modules
USER fieldforce
EXPOSE 8000
CMD ["fieldforce", "serve", "--host", "0.0.0.0", "--port", "8000"]
