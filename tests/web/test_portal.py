"""The portal in a real browser: Debian's chromium, driven by Playwright, against the app served
over HTTP. It waits for the tiles to render, checks that a layer draws pixels where its features
are, searches a reserve without diacritics, opens its species, switches language, follows the
permalink, and works on a phone-sized screen. Screenshots are kept in tests/artifacts/portal."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image

from vbis_geo.settings import PROJECT_DIR

pytestmark = pytest.mark.db

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = PROJECT_DIR / "tests" / "artifacts" / "portal"


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--use-gl=angle",
                "--use-angle=swiftshader",
                "--enable-unsafe-swiftshader",
            ],
        )
        yield launched
        launched.close()


def open_portal(browser, live_server, path="/", **context):  # type: ignore[no-untyped-def]
    context.setdefault("locale", "vi-VN")  # the portal speaks the browser's language
    page = browser.new_context(**context).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(live_server + path)
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    page.wait_for_function("map.loaded() && map.areTilesLoaded()", timeout=60_000)
    return page, errors


def shot(page, name: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png = page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def pixel_of(page, lon: float, lat: float) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """The page pixel of a point of the map."""
    point = page.evaluate(
        f"(() => {{ const p = map.project([{lon}, {lat}]); "
        "const r = map.getContainer().getBoundingClientRect(); "
        "return [Math.round(p.x + r.left), Math.round(p.y + r.top)]; })()"
    )
    return int(point[0]), int(point[1])


def test_the_map_draws_a_layer_where_its_features_are(browser, live_server, engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        lon, lat = conn.execute(
            sa.text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM "
                "protected_areas WHERE code = 'PA-PHONG-NHA-KE-BANG') s"
            )
        ).one()
    page, errors = open_portal(
        browser, live_server, "/#map=8/17.55/106.2", viewport={"width": 1280, "height": 800}
    )
    x, y = pixel_of(page, lon, lat)
    shown = shot(page, "protected-area-shown")
    page.uncheck("#layer-protected_areas")
    page.wait_for_function("map.loaded() && map.areTilesLoaded()")
    page.wait_for_timeout(300)
    hidden = shot(page, "protected-area-hidden")
    window = (slice(y - 3, y + 4), slice(x - 3, x + 4))
    # the protected area's fill changes the pixels at its interior, and only the layer does
    assert np.abs(shown[window] - hidden[window]).sum(axis=-1).mean() > 20
    # the provinces are drawn too: land is not the sea's background colour
    sea = np.array([0xDF, 0xEE, 0xF5])
    assert np.abs(hidden[window] - sea).sum(axis=-1).mean() > 10
    assert "layers=" in page.evaluate("window.location.hash")
    assert not errors, errors


def test_search_a_reserve_and_see_its_species(browser, live_server, client) -> None:  # type: ignore[no-untyped-def]
    page, errors = open_portal(browser, live_server, viewport={"width": 1280, "height": 800})
    page.fill("#search", "cuc phuong")
    page.wait_for_selector(".result-area[data-code='PA-CUC-PHUONG']")
    page.click(".result-area[data-code='PA-CUC-PHUONG']")
    page.wait_for_selector("#species-list li")
    assert page.inner_text("#species-area") == "Vườn quốc gia Cúc Phương"
    expected = client.get("/api/protected-areas/PA-CUC-PHUONG/species").json["species"]
    assert page.locator("#species-list li").count() == min(len(expected), 200)
    assert expected[0]["scientific_name"] in page.inner_text("#species-list")
    shot(page, "cuc-phuong-species")
    # the permalink holds the reserve and the view: opened anew, it shows them again
    link = page.get_attribute("#permalink", "href")
    assert "pa=PA-CUC-PHUONG" in link and "map=" in link
    again, more_errors = open_portal(
        browser, live_server, link[len(live_server) :], viewport={"width": 1280, "height": 800}
    )
    again.wait_for_selector("#species-list li")
    assert again.inner_text("#species-area") == "Vườn quốc gia Cúc Phương"
    assert not errors and not more_errors, errors + more_errors


def test_switching_language_and_clicking_the_map(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    page, errors = open_portal(
        browser, live_server, "/#map=9/20.29/105.62", viewport={"width": 1280, "height": 800}
    )
    assert page.inner_text("#layers-section h2") == "Lớp bản đồ"
    page.click("#lang")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.inner_text("#layers-section h2") == "Layers"
    assert "Protected areas" in page.inner_text("#layer-list")
    x, y = pixel_of(page, 105.62, 20.29)  # inside Cúc Phương
    page.mouse.click(x, y)
    page.wait_for_selector("#here-section:not([hidden]) p")
    assert "Cuc Phuong" in page.inner_text("#here")  # its English name
    # the features under the click, with their attributes (from the tiles)
    page.wait_for_selector("#info-section:not([hidden]) .feature")
    info = page.inner_text("#info")
    assert "Cuc Phuong National Park" in info and "PA-CUC-PHUONG" in info
    # the reserve clicked on the map: its species
    page.wait_for_selector("#species-list li")
    assert page.inner_text("#species-area") == "Cuc Phuong National Park"
    assert "pa=PA-CUC-PHUONG" in page.evaluate("window.location.hash")
    shot(page, "english-whats-here")
    assert not errors, errors


def test_a_phone_sized_screen(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    page, errors = open_portal(
        browser,
        live_server,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    box = page.locator("#map").bounding_box()
    assert box["width"] == pytest.approx(390, abs=2)  # the map takes the whole width
    panel = page.locator("#panel").bounding_box()
    assert panel["y"] >= 844 - 2  # the panel waits below the screen
    page.click("#panel-toggle")
    page.wait_for_timeout(400)
    panel = page.locator("#panel").bounding_box()
    assert 844 * 0.5 < panel["y"] < 844  # a sheet over the bottom of the map
    assert page.locator("#layer-list input").count() >= 3
    shot(page, "phone")
    assert not errors, errors


def test_an_editor_logs_in(browser, live_server, make_account) -> None:  # type: ignore[no-untyped-def]
    from vbis_geo.auth.store import Grant

    make_account(
        "portal_editor",
        role="provincial_editor",
        display_name="Biên tập viên Hà Nội",
        password="correct horse battery",
        grants=[Grant("province", "VN-HN")],
    )
    page, errors = open_portal(browser, live_server, viewport={"width": 1280, "height": 800})
    page.click("#login-open")
    page.fill("input[name=username]", "portal_editor")
    page.fill("input[name=password]", "wrong password")
    page.click("#login-submit")
    page.wait_for_function("document.getElementById('login-error').textContent.length > 0")
    assert page.inner_text("#login-error") == "Đăng nhập không thành công"
    page.fill("input[name=password]", "correct horse battery")
    page.click("#login-submit")
    page.wait_for_selector("#who:not([hidden])")
    assert page.inner_text("#who") == "Biên tập viên Hà Nội"
    page.click("#logout")
    page.wait_for_selector("#login-open:not([hidden])")
    # the failed attempt is the one error the page saw: the server's 401
    assert [e for e in errors if "401" not in e] == [], errors


def test_a_species_distribution_and_the_richness_choropleth(browser, live_server, engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        taxon_id, name_vi = conn.execute(
            sa.text(
                "SELECT t.id, t.vernacular_name_vi FROM taxa t "
                "JOIN occurrences o ON o.taxon_id = t.id "
                "WHERE t.vernacular_name_vi ~ '[ăâđêôơưàáạảãèéẹẻẽìíịỉĩòóọỏõùúụủũỳýỵỷỹ]' "
                "GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1"
            )
        ).one()
    from vbis_geo.names import fold_diacritics

    page, errors = open_portal(browser, live_server, viewport={"width": 1280, "height": 800})
    page.fill("#search", fold_diacritics(name_vi).lower())
    page.wait_for_selector(f".result-taxon[data-taxon='{taxon_id}']")
    page.click(f".result-taxon[data-taxon='{taxon_id}']")
    page.wait_for_selector("#taxon-section:not([hidden]) h3 i")
    page.wait_for_function("map.getSource('taxon') && map.isSourceLoaded('taxon')")
    drawn = page.evaluate("map.queryRenderedFeatures({layers: ['taxon-points']}).length")
    assert drawn > 0
    assert f"taxon={taxon_id}" in page.evaluate("window.location.hash")
    shot(page, "taxon-distribution")
    # the richness choropleth: switched on, it colours the provinces (the land's pixels change)
    box = page.locator("#map").bounding_box()
    area = (
        slice(int(box["y"]), int(box["y"] + box["height"])),
        slice(int(box["x"]), int(box["x"] + box["width"])),
    )
    before = shot(page, "richness-off")[area]
    page.check("#layer-__richness")
    page.wait_for_function("map.loaded() && map.areTilesLoaded()")
    page.wait_for_timeout(300)
    after = shot(page, "richness-on")[area]
    land = np.abs(before - [0xF4, 0xF1, 0xEA]).sum(axis=-1) < 6  # the base map's land colour
    changed = np.abs(after - before).sum(axis=-1) > 30
    assert land.sum() > 1000 and changed[land].mean() > 0.8
    assert "richness=1" in page.evaluate("window.location.hash")
    assert not errors, errors
