"""The ``datasets`` table as an OGC API Records catalogue (pygeoapi has no PostgreSQL record
provider in 0.21): one record per dataset, with its titles, abstract, keywords, licence,
publisher, extent, time span and lineage, searchable with ``q`` ignoring case and Vietnamese
diacritics ("cuc phuong" finds "Cúc Phương").
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from pygeoapi.provider.base import ProviderInvalidQueryError

from vbis_geo.names import fold_diacritics
from vbis_geo.publish.features import FeatureProvider


def _folding_map() -> tuple[str, str]:
    """The two strings of a SQL ``translate`` that folds Latin letters with diacritics."""
    source, target = [], []
    for code in range(0xC0, 0x1EFF + 1):
        char = chr(code)
        folded = fold_diacritics(char)
        if char != folded and len(folded) == 1 and folded.isascii() and folded.isalpha():
            source.append(char)
            target.append(folded)
    return "".join(source), "".join(target)


_FROM, _TO = _folding_map()


def folded(expression: sa.ColumnElement) -> sa.ColumnElement:  # type: ignore[type-arg]
    """``expression`` in lower case without diacritics, in SQL (no extension needed)."""
    return sa.func.translate(sa.func.lower(expression), _FROM.lower() + _FROM, _TO.lower() * 2)


class RecordProvider(FeatureProvider):
    """Records of the ``datasets`` table."""

    def _published(self) -> dict[str, sa.ColumnElement]:  # type: ignore[type-arg]
        t = self.table.c
        return {
            "type": sa.literal("dataset", sa.Text),
            "title": t.title_vi,
            "title_en": t.title_en,
            "description": t.abstract_vi,
            "description_en": t.abstract_en,
            "keywords": t.keywords,
            "license": t.licence,
            "publisher": t.publisher,
            "collection": t.target_layer,
            "source": t.source_name,
            "crs": t.source_crs,
            "lineage": t.lineage,
            "created": t.loaded_at,
            "updated": t.loaded_at,
            "records_loaded": t.n_loaded,
            "records_rejected": t.n_rejected,
            "time_start": t.temporal_start,
            "time_end": t.temporal_end,
        }

    def _search(self, q: str) -> sa.ColumnElement[bool]:
        """Terms separated by commas or spaces, all of which must appear (folded)."""
        if "\x00" in q:
            raise ProviderInvalidQueryError(user_msg=f"q={q!r}: NUL characters are not allowed")
        t = self.table.c
        text = sa.func.concat_ws(
            " ", t.code, t.title_vi, t.title_en, t.abstract_vi, t.abstract_en,
            sa.func.array_to_string(t.keywords, " "), t.publisher, t.source_name,
        )  # fmt: skip
        terms = [term for term in re.split(r"[,\s]+", fold_diacritics(q).lower()) if term]
        return sa.and_(*[folded(text).contains(term, autoescape=True) for term in terms])

    def query(self, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        result = super().query(**kwargs)
        for record in result["features"]:
            self._decorate(record)
        return result

    def get(self, identifier: str, **kwargs: object) -> dict[str, Any]:
        return self._decorate(super().get(identifier, **kwargs))

    def _decorate(self, record: dict[str, Any]) -> dict[str, Any]:
        """Record-core members: the link to the collection a dataset was loaded into."""
        properties = record["properties"]
        record["conformsTo"] = ["http://www.opengis.net/spec/ogcapi-records-1/1.0/req/record-core"]
        collections_url = (self.options or {}).get("collections_url")
        if properties.get("collection") and collections_url:
            record["links"] = [
                {
                    "rel": "describes",
                    "type": "application/json",
                    "title": properties["collection"],
                    "href": f"{collections_url}/{properties['collection']}",
                }
            ]
        return record
