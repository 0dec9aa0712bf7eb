"""The HTML report: self-contained, escaped, and rendered by a real headless
browser (Debian's chromium and chromium-driver, driven by selenium): no console
error, no network request, every chart visible, hostile text shown as text.

The browser tests skip when chromium, chromedriver or selenium is missing,
except in CI (``CI`` set), where that is a failure. A screenshot of each page
is kept under ``test-artifacts/``.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from analyzer import forking, html_report
from analyzer.analysis import Analysis
from analyzer.cli import cli
from analyzer.config import load_config
from analyzer.html_report import render_report
from analyzer.importer import import_paths
from analyzer.report import Summary, summarize
from analyzer.store import Store
from tests.builders import write_maildir
from tests.conftest import (
    ROOT,
    SAMPLE_MAILBOX,
    another_thread,
    record_forks,
    single_threaded,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = ROOT / "test-artifacts"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
HOSTILE_CONFIG = """
[me]
addresses = ["julie.moreau@exemple-perso.fr"]

[[counterpart]]
name = "France Travail"
kind = "agency"
domains = ["francetravail.fr"]
"""


def hostile_messages() -> dict[str, bytes]:
    """A question with a hostile subject and a hostile attachment name, and an
    answer from a sender whose display name is markup."""
    question = (
        "From: Julie Moreau <julie.moreau@exemple-perso.fr>\n"
        f'To: "{IMG}" <conseiller@francetravail.fr>\n'
        f"Subject: {SCRIPT}\n"
        "Date: Mon, 04 Mar 2024 10:00:00 +0100\n"
        "Message-ID: <hostile-1@exemple-perso.fr>\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n'
        "--b\nContent-Type: text/html; charset=utf-8\n\n"
        f"<p>Bonjour {SCRIPT}</p>\n"
        "--b\nContent-Type: application/octet-stream\n"
        'Content-Disposition: attachment; filename="../../etc/passwd"\n\n'
        "root:x:0:0\n--b--\n"
    )
    answer = (
        f'From: "{IMG}" <conseiller@francetravail.fr>\n'
        "To: julie.moreau@exemple-perso.fr\n"
        f"Subject: RE: {SCRIPT}\n"
        "Date: Tue, 12 Mar 2024 15:00:00 +0100\n"
        "Message-ID: <hostile-2@francetravail.fr>\n"
        "In-Reply-To: <hostile-1@exemple-perso.fr>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/html; charset=utf-8\n\n"
        f"<p>Merci de répondre sous 48 heures.</p>{IMG}\n"
    )
    return {"1709542800.M1P1.x:2,S": question.encode(),
            "1710252000.M2P2.x:2,S": answer.encode()}


def hostile_mailbox(root: Path) -> Path:
    mailbox = root / "hostile"
    write_maildir(mailbox, hostile_messages())
    (mailbox / "analyzer.toml").write_text(HOSTILE_CONFIG, "utf-8")
    return mailbox


def _summary(mailbox: Path, store: Path, as_of: datetime) -> Summary:
    config = load_config(mailbox / "analyzer.toml")
    with Store.open(store) as opened:
        import_paths(opened, [mailbox], config)
    with Analysis.open(store, config) as analysis:
        return summarize(analysis.messages(), config, as_of=as_of, links=analysis.links())


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The report of the sample mailbox in both languages, and of the hostile mailbox."""
    root = tmp_path_factory.mktemp("html")
    sample = _summary(SAMPLE_MAILBOX, root / "sample.sqlite",
                      datetime(2024, 3, 1, tzinfo=UTC))
    hostile = _summary(hostile_mailbox(root), root / "hostile.sqlite",
                       datetime(2024, 3, 20, tzinfo=UTC))
    out = {}
    for name, summary, lang in (("sample_fr", sample, "fr"), ("sample_en", sample, "en"),
                                ("hostile_fr", hostile, "fr")):
        path = root / f"report_{name}.html"
        path.write_text(render_report(summary, lang, title=name), "utf-8")
        out[name] = path
    return out


# --- the file itself ------------------------------------------------------------

def test_page_is_self_contained(pages: dict[str, Path]) -> None:
    for path in pages.values():
        text = path.read_text("utf-8")
        # url(#…) are the SVG's own clip paths, inside the page.
        assert not re.search(r"https?:|//[a-z]|<script|<link|<img|<iframe|@import|url\((?!#)",
                             text, re.I), path.name
        assert "Content-Security-Policy" in text


def test_page_holds_every_part(pages: dict[str, Path]) -> None:
    text = pages["sample_fr"].read_text("utf-8")
    assert text.startswith('<!DOCTYPE html>\n<html lang="fr">')
    for ident in ("chart-distribution", "chart-asymmetry", "chart-trend"):
        assert f'id="{ident}"' in text
    assert text.count('class="chart timeline"') == 3
    assert text.count('<section class="case"') == 3
    assert "Pourquoi ces messages forment un seul dossier" in text
    assert "cite le numéro d&#39;un ticket précédent" in text or "ticket" in text
    assert "break-before: page" in text
    assert "×284" in text and "19/02/2020" in text
    english = pages["sample_en"].read_text("utf-8")
    assert '<html lang="en">' in english and "2020-02-19" in english
    assert "Why these messages are one case" in english


def test_hostile_content_is_escaped(pages: dict[str, Path]) -> None:
    text = pages["hostile_fr"].read_text("utf-8")
    assert "<script" not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    # No message body is shown at all, let alone its HTML.
    assert "Bonjour" not in text and "Merci de répondre" not in text


def test_case_page_only(pages: dict[str, Path], tmp_path: Path) -> None:
    summary = _summary(SAMPLE_MAILBOX, tmp_path / "s.sqlite", datetime(2024, 3, 1, tzinfo=UTC))
    page = render_report(summary, "fr", title="x", case_ids=["C-8ea5c4a0"])
    assert page.count('<section class="case"') == 1
    assert "chart-distribution" not in page


def test_timelines_drawn_on_two_cores_give_the_same_page(
        pages: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = _summary(SAMPLE_MAILBOX, tmp_path / "s.sqlite", datetime(2024, 3, 1, tzinfo=UTC))
    monkeypatch.setattr(html_report, "PARALLEL_TIMELINES", 1)
    forked = record_forks(monkeypatch, forking)
    with single_threaded():
        page = render_report(summary, "fr", title="sample_fr")
    assert forked == ["fork"]
    assert forking._shared is None
    assert page == pages["sample_fr"].read_text("utf-8")
    # Beside another thread (a notebook kernel's), nothing is forked.
    with another_thread():
        assert render_report(summary, "fr", title="sample_fr") == page
    assert forked == ["fork"]


def test_cli_writes_the_html_report(tmp_path: Path) -> None:
    out = tmp_path / "rapport.html"
    result = CliRunner().invoke(cli, [
        "--lang", "fr", "--store", str(tmp_path / "s.sqlite"), "report", str(SAMPLE_MAILBOX),
        "--as-of", "2024-03-01", "--html", str(out)], env={"ANALYZER_CONFIG": None})
    assert result.exit_code == 0
    text = out.read_text("utf-8")
    assert text.count("<svg ") == 6


# --- in a real browser -----------------------------------------------------------

def _need_browser() -> Any:
    problem = None
    try:
        from selenium import webdriver
    except ImportError:
        problem = "selenium is not installed (pip install '.[test]')"
    if problem is None and not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        problem = "Debian's chromium and chromium-driver are not installed " \
                  "(bash scripts/install-test-deps.sh)"
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    return webdriver


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    webdriver = _need_browser()
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="analyzer-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1200,900",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _open(driver: Any, path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Load ``path``; return the console entries and the URLs requested meanwhile."""
    driver.get_log("browser")
    driver.get_log("performance")  # drop what the browser did before this page
    driver.get(path.as_uri())
    driver.execute_script("return document.readyState")
    requests = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] != "Network.requestWillBeSent":
            continue
        params = message["params"]
        url = params["request"]["url"]
        # The browser's own new-tab page loads chrome:// resources in the
        # background; every request this page causes names it as its document,
        # and nothing at all may go to the network.
        assert not url.startswith(("http:", "https:", "ws:", "wss:", "ftp:")), url
        if params.get("documentURL") == path.as_uri():
            requests.append(url)
    return driver.get_log("browser"), requests


def _not_blank(png: bytes) -> bool:
    from matplotlib.image import imread

    pixels = imread(io.BytesIO(png))[..., :3]
    # Some pixels must differ from white, and not all be one colour.
    return bool((pixels < 0.9).any(axis=-1).mean() > 0.005 and pixels.std() > 0.01)


def _screenshot(driver: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(1200, min(height + 120, 16000))
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1200, 900)
    return path


@pytest.mark.parametrize("name", ["sample_fr", "sample_en"])
def test_browser_shows_the_report(browser: Any, pages: dict[str, Path], name: str) -> None:
    from selenium.webdriver.common.by import By

    console, requests = _open(browser, pages[name])
    assert console == []
    assert requests == [pages[name].as_uri()]
    charts = browser.find_elements(By.CSS_SELECTOR, "figure.chart svg")
    assert len(charts) == 6
    for chart in charts:
        browser.execute_script("arguments[0].scrollIntoView()", chart)
        assert chart.is_displayed()
        assert chart.size["width"] > 300 and chart.size["height"] > 100
        assert _not_blank(chart.screenshot_as_png)
    assert _screenshot(browser, f"report_{name}").stat().st_size > 10000


def test_browser_prints_each_case_on_its_own_pages(browser: Any,
                                                  pages: dict[str, Path]) -> None:
    import base64

    _open(browser, pages["sample_fr"])
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        breaks = browser.execute_script(
            "return [...document.querySelectorAll('section.case')]"
            ".map(s => getComputedStyle(s).breakBefore)")
        pdf = base64.b64decode(browser.execute_cdp_cmd("Page.printToPDF", {})["data"])
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert breaks == ["page", "page", "page"]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report_sample_fr.pdf").write_bytes(pdf)
    # The overview, then at least a page per case.
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 4


def test_browser_shows_hostile_content_as_text(browser: Any, pages: dict[str, Path]) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    console, requests = _open(browser, pages["hostile_fr"])
    assert console == []
    assert requests == [pages["hostile_fr"].as_uri()]
    with pytest.raises(NoAlertPresentException):
        _ = browser.switch_to.alert.text
    body = browser.find_element(By.TAG_NAME, "body").text
    assert SCRIPT in body and IMG in body
    assert browser.find_elements(By.CSS_SELECTOR, "img, script, iframe") == []
    cells = browser.find_elements(By.CSS_SELECTOR, "td.subject-cell")
    assert SCRIPT in [c.text for c in cells]
    _screenshot(browser, "report_hostile_fr")


def test_docstring_examples() -> None:
    import doctest

    import analyzer.html_report

    # CI runs plain pytest, without --doctest-modules.
    assert doctest.testmod(analyzer.html_report).failed == 0
