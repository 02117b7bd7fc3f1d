"""Read the cited reference facts in ``reference/*.yml`` (see ``reference/README.md``)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml

from vbis_geo.errors import InvalidInput

REFERENCE_DIR = Path(__file__).parent / "reference"
FILES = (
    "protected_areas",
    "wetlands",
    "ecosystems",
    "planning_zones",
    "conservation_facilities",
    "species",
)


def load_reference(directory: Path = REFERENCE_DIR) -> dict[str, list[dict[str, Any]]]:
    """Every reference file as a list of records, in file order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name in FILES:
        path = directory / f"{name}.yml"
        if not path.is_file():
            raise InvalidInput(f"{path} is missing: the demo generator needs it")
        records = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise InvalidInput(f"{path}: expected a list of mappings")
        out[name] = records
    return out


def reference_digest(directory: Path = REFERENCE_DIR) -> str:
    """sha256 of the reference files, part of the demo's fingerprint."""
    missing = [n for n in FILES if not (directory / f"{n}.yml").is_file()]
    if missing:
        raise InvalidInput(f"{directory}: reference file(s) {missing} missing")
    digest = hashlib.sha256()
    for name in FILES:
        digest.update((directory / f"{name}.yml").read_bytes())
    return digest.hexdigest()
