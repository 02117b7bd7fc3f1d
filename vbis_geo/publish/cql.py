"""CQL2 filters (OGC API Features Part 3) for our providers.

pygeoapi 0.21 parses ``filter=`` as ECQL, not CQL2 text, and refuses ``filter-lang=cql2-text``
and ``cql2-json`` (PROVIDERS.md, 1.7). :func:`install` fixes both for the mounted pygeoapi: a
filter is read as CQL2 text (ECQL accepted as a fallback, CQL2 JSON when it starts with ``{``),
and the standard filter-lang values are accepted. :func:`to_sql` turns the parsed filter into a
SQLAlchemy expression with bound values, after checking every property it names: an unknown one
is a 400, not the empty result pygeofilter would silently give.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, request
from pygeoapi.provider.base import ProviderInvalidQueryError
from pygeofilter import ast
from werkzeug.datastructures import ImmutableMultiDict

STANDARD_FILTER_LANGS = {"cql2-text", "cql2-json"}


def parse_filter_text(text: str) -> ast.Node:
    """A ``filter=`` value: CQL2 JSON if it is a JSON object, else CQL2 text, else ECQL."""
    from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
    from pygeofilter.parsers.cql2_text import parse as parse_cql2_text
    from pygeofilter.parsers.ecql import parse as parse_ecql

    if text.lstrip().startswith("{"):
        return parse_cql2_json(text)
    try:
        return parse_cql2_text(text)
    except Exception:  # noqa: BLE001 (pygeofilter raises lark's many errors): try ECQL
        return parse_ecql(text)


def install(app: Flask) -> None:
    """Make the mounted pygeoapi read CQL2 (see the module docstring)."""
    import pygeoapi.api.itemtypes as itemtypes

    itemtypes.parse_ecql_text = parse_filter_text

    @app.before_request
    def _standard_filter_lang() -> None:
        if request.args.get("filter-lang") in STANDARD_FILTER_LANGS:
            # pygeoapi knows only its legacy names; the parser above tells the languages apart
            args = [(k, v) for k, v in request.args.items(multi=True) if k != "filter-lang"]
            request.__dict__["args"] = ImmutableMultiDict(args)


def attributes(node: Any) -> set[str]:
    """Every property name a filter refers to."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, ast.Attribute):
            found.add(value.name)
        elif isinstance(value, ast.Node):
            for child in value.get_sub_nodes():
                walk(child)
        elif isinstance(value, list | tuple):
            for child in value:
                walk(child)

    walk(node)
    return found


def is_condition(node: Any) -> bool:
    """Whether ``node`` is true or false of a feature (pygeofilter also parses a bare value,
    property or arithmetic as a filter, which SQL cannot use as a WHERE clause)."""
    if isinstance(node, ast.Combination):
        return is_condition(node.lhs) and is_condition(node.rhs)
    if isinstance(node, ast.Not):
        return is_condition(node.sub_node)
    return isinstance(node, ast.Predicate)


def to_sql(filterq: ast.Node, columns: dict[str, sa.Column]) -> sa.ColumnElement[bool]:  # type: ignore[type-arg]
    """``filterq`` as a SQL condition on ``columns`` (values bound, never inlined)."""
    from pygeofilter.backends.sqlalchemy import to_filter

    if not is_condition(filterq):
        raise ProviderInvalidQueryError(
            user_msg=f"the filter is not a condition: {filterq!r}; expected a comparison or "
            "predicate such as name_vi = 'Cúc Phương', combined with AND, OR and NOT"
        )
    unknown = attributes(filterq) - set(columns)
    if unknown:
        raise ProviderInvalidQueryError(
            user_msg=f"the filter names unknown properties: {', '.join(sorted(unknown))}; "
            f"queryables: {', '.join(sorted(columns))}"
        )
    try:
        return to_filter(filterq, columns)
    except Exception as exc:  # noqa: BLE001 (unsupported functions and operators)
        raise ProviderInvalidQueryError(user_msg=f"the filter cannot be applied: {exc}") from None
