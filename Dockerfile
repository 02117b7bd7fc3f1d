# vbis-geo application image: gunicorn serving the portal (/), the spatial API (/api) and
# pygeoapi (/ogc). The database is external: set VBIS_DATABASE_URL (PostgreSQL with PostGIS 3).
#   docker build -t vbis-geo .
#   docker run -e VBIS_DATABASE_URL=postgresql://vbis:...@db:5432/vbis -e VBIS_PUBLIC_URL=https://geo.example.vn -p 5000:5000 vbis-geo
# Migrations: docker run --rm -e VBIS_DATABASE_URL=... vbis-geo vbis-geo db upgrade
# the browser libraries the app serves itself (MapLibre GL JS), at the versions the lock fixes
FROM node:20-bookworm-slim AS static
WORKDIR /static
COPY vbis_geo/web/static/package.json vbis_geo/web/static/package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev

FROM python:3.11-slim-bookworm

# GDAL, PROJ and GEOS runtimes (the Python wheels bundle their own; the tools serve ingest and
# debugging), and the PROJ data the VN-2000 transformations need.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gdal-bin libgdal32 libgeos-c1v5 libproj25 proj-data \
 && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    VBIS_HOME=/app VBIS_VAR_DIR=/var/lib/vbis-geo
WORKDIR /app
COPY setup.cfg pyproject.toml README.md ./
COPY vbis_geo ./vbis_geo
COPY --from=static /static/node_modules ./vbis_geo/web/static/node_modules
RUN pip install --no-cache-dir -e .
COPY migrations ./migrations
COPY layers ./layers
COPY ogc_config ./ogc_config

RUN useradd --system --home /var/lib/vbis-geo vbis && mkdir -p /var/lib/vbis-geo \
 && chown vbis /var/lib/vbis-geo
USER vbis
EXPOSE 5000
CMD ["gunicorn", "--bind", "0.0.0.0:5000", "--workers", "4", "--timeout", "120", \
     "--access-logfile", "-", "vbis_geo.web:create_app()"]
