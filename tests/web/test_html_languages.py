"""pygeoapi's HTML pages in Vietnamese and English: the pages' own words (the templates'
``{% trans %}`` strings, ogc_config/locale/) and the collections' titles (layers/*.yml)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from vbis_geo.publish.locale import (
    LOCALE_DIR,
    SOURCE_LANGUAGE,
    TEMPLATE_PATH,
    catalogue_paths,
    compile_catalogues,
    extract_messages,
    read_catalogue,
)

#: the collection's title in the breadcrumbs (its items' names are Vietnamese in both languages)
PA_VI = '/protected_areas">Khu bảo tồn thiên nhiên</a>'
PA_EN = '/protected_areas">Protected areas</a>'
#: page -> (words of the Vietnamese page, the same words on the English page)
PAGES = {
    "/ogc/": (
        ["Xem các tập dữ liệu của dịch vụ này", "Hệ thống thông tin đa dạng sinh học quốc gia"],
        ["View the collections in this service", "Vietnam National Biodiversity Information"],
    ),
    "/ogc/collections": (
        ["Các tập dữ liệu của dịch vụ này", "Khu bảo tồn thiên nhiên", "Lớp phủ mặt đất"],
        ["Data collections in this service", "Protected areas", "Land cover"],
    ),
    "/ogc/collections/protected_areas": (
        ['Duyệt các đối tượng của "Khu bảo tồn thiên nhiên"', "Xem thuộc tính truy vấn"],
        ['Browse through the items of "Protected areas"', "Display Queryables of"],
    ),
    "/ogc/collections/protected_areas/items": (
        ["Các đối tượng trong tập dữ liệu này", PA_VI, "(mặc định)"],
        ["Items in this collection", PA_EN, "(default)"],
    ),
    "/ogc/collections/protected_areas/items/1": (
        ["<th>Thuộc tính</th>", "<th>Giá trị</th>", PA_VI],
        ["<th>Property</th>", "<th>Value</th>", PA_EN],
    ),
    "/ogc/collections/protected_areas/queryables": (
        ["Thuộc tính truy vấn", PA_VI],
        ["Queryables", PA_EN],
    ),
    # (the tiles page's title is English whatever the language: pygeoapi 0.21 translates it
    # into its system locale)
    "/ogc/collections/protected_areas/tiles": (
        [">Ô lưới bản đồ</a>", "Hệ ô lưới bản đồ"],
        [">Tiles</a>", "Tile Matrix Set"],
    ),
    "/ogc/collections/datasets/items": (
        ["Danh mục bộ dữ liệu", "Các đối tượng trong tập dữ liệu này"],
        ["Dataset catalogue", "Items in this collection"],
    ),
    "/ogc/collections/landcover": (
        ["Lớp phủ mặt đất", "Liên kết"],
        ["Land cover", "Links"],
    ),
}


def _page(client, path: str, query: str = "", **headers: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"{path}?f=html{query}", headers=headers)
    assert response.status_code == 200, path
    assert response.mimetype == "text/html", path
    return str(response.get_data(as_text=True))


@pytest.mark.db
@pytest.mark.parametrize("path", sorted(PAGES))
def test_page_in_vietnamese_and_english(client, path: str) -> None:  # type: ignore[no-untyped-def]
    vi_words, en_words = PAGES[path]
    vi = _page(client, path, "&lang=vi")
    en = _page(client, path, "&lang=en")
    for vi_word, en_word in zip(vi_words, en_words, strict=True):
        assert vi_word in vi and en_word not in vi, (path, vi_word)
        assert en_word in en and vi_word not in en, (path, en_word)
    assert '<html lang="vi" dir="ltr"' in vi
    assert '<html lang="en" dir="ltr"' in en


@pytest.mark.db
def test_language_is_chosen_by_parameter_header_or_default(client) -> None:  # type: ignore[no-untyped-def]
    path = "/ogc/collections"
    vietnamese = "Các tập dữ liệu của dịch vụ này"
    english = "Data collections in this service"
    for query, headers in [
        ("&lang=vi", {}),
        ("&lang=vi-VN", {}),
        ("", {"Accept-Language": "vi"}),
        ("", {"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"}),
        ("", {}),  # the first of server.languages, vi-VN, is the default
        ("", {"Accept-Language": "fr"}),  # a language the server lacks: the default
    ]:
        response = client.get(f"{path}?f=html{query}", headers=headers)
        assert vietnamese in response.get_data(as_text=True), (query, headers)
        assert response.headers["Content-Language"] == "vi-VN", (query, headers)
    for query, headers in [
        ("&lang=en", {}),
        ("&lang=en-US", {}),
        ("", {"Accept-Language": "en-US,en;q=0.9"}),
        ("&lang=en", {"Accept-Language": "vi"}),  # the parameter wins
    ]:
        response = client.get(f"{path}?f=html{query}", headers=headers)
        assert english in response.get_data(as_text=True), (query, headers)
        assert response.headers["Content-Language"] == "en-US", (query, headers)


@pytest.mark.db
def test_catalogues_are_compiled_where_the_config_points(app, test_settings) -> None:  # type: ignore[no-untyped-def]
    from pygeoapi.flask_app import CONFIG

    locale_dir = Path(CONFIG["server"]["locale_dir"])
    assert locale_dir == test_settings.var_dir / "ogc" / "locale"
    assert (locale_dir / "vi" / "LC_MESSAGES" / "messages.mo").is_file()


# -- the catalogues themselves (no database) ------------------------------------------------
def _ids(catalog) -> set[str]:  # type: ignore[no-untyped-def]
    return {str(message.id) for message in catalog if message.id}


def _translation(catalog, msgid: str) -> str:  # type: ignore[no-untyped-def]
    message = catalog.get(msgid)
    assert message is not None, msgid
    return str(message.string)


def test_template_catalogue_is_up_to_date_with_installed_pygeoapi() -> None:
    from babel.messages.pofile import read_po

    with TEMPLATE_PATH.open("rb") as fh:
        checked_in = read_po(fh)
    missing = _ids(extract_messages()) - _ids(checked_in)
    gone = _ids(checked_in) - _ids(extract_messages())
    assert not missing and not gone, (
        f"{TEMPLATE_PATH} is stale (new: {sorted(missing)}, gone: {sorted(gone)}): run "
        "`python -m vbis_geo.publish.locale`, then translate the new messages"
    )


def test_every_message_has_a_vietnamese_translation() -> None:
    from babel.messages.pofile import read_po

    with TEMPLATE_PATH.open("rb") as fh:
        template = read_po(fh)
    vi = read_catalogue("vi")
    assert _ids(vi) == _ids(template)  # none missing, none obsolete
    for message in template:
        if not message.id:
            continue
        translated = vi.get(message.id)
        assert translated is not None and translated.string, message.id
        assert not translated.fuzzy, message.id
        text, msgid = str(translated.string), str(message.id)
        assert text == unicodedata.normalize("NFC", text), msgid
        # spaces around the message kept ("Powered by " is followed by a link)
        assert text[-1:].isspace() == msgid[-1:].isspace(), msgid
        assert text[:1].isspace() == msgid[:1].isspace(), msgid
        assert text.count("%(") == msgid.count("%("), msgid  # placeholders kept
    assert _translation(vi, "Collections") == "Tập dữ liệu"
    assert _translation(vi, "text_direction") == "ltr"


def test_catalogue_languages_are_the_servers() -> None:
    assert set(catalogue_paths()) == {"vi", SOURCE_LANGUAGE}
    assert _translation(read_catalogue(SOURCE_LANGUAGE), "text_direction") == "ltr"


def test_compiled_catalogues_load_for_the_request_locales(tmp_path: Path) -> None:
    from babel import Locale
    from babel.support import Translations

    out = compile_catalogues(tmp_path / "locale")
    first = (out / "vi" / "LC_MESSAGES" / "messages.mo").stat().st_mtime_ns
    compile_catalogues(tmp_path / "locale", LOCALE_DIR)  # unchanged: not rewritten
    assert (out / "vi" / "LC_MESSAGES" / "messages.mo").stat().st_mtime_ns == first
    # pygeoapi loads with the request's babel Locale, e.g. vi_VN, which finds vi/
    vi = Translations.load(str(out), [Locale("vi", "VN")])
    assert vi.gettext("Data collections in this service") == "Các tập dữ liệu của dịch vụ này"
    en = Translations.load(str(out), [Locale("en", "US")])
    assert en.gettext("Data collections in this service") == "Data collections in this service"
    assert en.gettext("text_direction") == "ltr"
