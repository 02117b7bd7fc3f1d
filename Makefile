# vbis-geo: `make demo` and `make test` do all the set-up on a fresh Debian machine.
# Everything is idempotent: running a target again changes nothing that is already in place.

SHELL      := /bin/bash
PYTHON     ?= python3
VENV       ?= .venv
PG_VERSION ?= 15
BIN        := $(VENV)/bin
VBIS       := $(BIN)/vbis-geo
HOST       ?= 127.0.0.1
PORT       ?= 5000
# Debian packages the project needs on the machine (installed by `make system` when root)
# (cgi-mapserver: a real WFS server the tests harvest from on loopback;
#  python3-qgis: PyQGIS + its data providers for the system Python, the QGIS client tests;
#  and, unless the machine has npm already, nodejs + npm: MapLibre GL JS, served by the portal,
#  and MapLibre's style validator)
DEB_PACKAGES := postgresql-$(PG_VERSION) postgresql-$(PG_VERSION)-postgis-3 \
                postgresql-contrib gdal-bin cgi-mapserver python3-qgis poppler-utils chromium

.PHONY: demo test setup system venv npm db data serve stop lint publish clean clean-db

## demo: install, start the database, migrate, load the demo data, serve on http://$(HOST):$(PORT)
demo: setup data
	$(VBIS) serve --host $(HOST) --port $(PORT)

## test: the same set-up, then the whole suite against the real PostGIS
test: setup
	VBIS_STRICT_TESTS=1 $(BIN)/pytest

setup: system venv npm db

## system: Debian packages (PostgreSQL + PostGIS server, GDAL tools, QGIS for its client tests,
## poppler-utils for the PDF map tests, chromium for the portal tests, python3-venv if needed)
system:
	@command -v dpkg >/dev/null || { echo "not a Debian system: install PostgreSQL $(PG_VERSION) with PostGIS 3 and GDAL yourself"; exit 0; }; \
	missing=""; \
	for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages:$$missing -- run 'sudo make system'" >&2; exit 1; fi; \
	echo "installing Debian packages:$$missing"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing

## venv: the virtualenv with vbis-geo (editable) and its test dependencies
venv: $(VENV)/.installed
$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

## npm: the browser libraries the app serves itself (vbis_geo/web/static, versions locked)
STATIC := vbis_geo/web/static
npm: $(STATIC)/node_modules/.installed
$(STATIC)/node_modules/.installed: $(STATIC)/package.json $(STATIC)/package-lock.json
	npm ci --prefix $(STATIC) --no-audit --no-fund --loglevel=error
	touch $@

## db: start the embedded cluster (unless VBIS_DATABASE_URL is set) and migrate to head
db: venv
	$(VBIS) db start
	$(VBIS) db upgrade

## data: the real province layers (when ../shared/data is present) and the generated demo data
data: db
	$(VBIS) admin-units load --if-present
	$(VBIS) raster load landcover --if-present
	$(VBIS) demo load

serve: venv
	$(VBIS) serve --host $(HOST) --port $(PORT)

## stop: stop the embedded PostgreSQL cluster
stop:
	@if [ -x $(VBIS) ]; then $(VBIS) db stop; fi

publish: venv
	$(VBIS) publish

lint: venv
	$(BIN)/ruff check vbis_geo tests migrations bench
	$(BIN)/ruff format --check vbis_geo tests migrations bench

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache

## clean-db: stop and delete the embedded cluster
clean-db:
	@if [ -x $(VBIS) ]; then $(VBIS) db destroy --yes; fi
