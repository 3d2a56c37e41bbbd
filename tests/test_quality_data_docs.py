"""GE's Data Docs render on a machine without internet: every script, style sheet, font and image a page
loads is a file of the site (the vendored copies are the exact files GE's templates ask for), and a real
headless Chromium whose every network address is unresolvable runs the pages' scripts without an error."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import duckdb
import great_expectations
import pytest

from cadence.contract import SOURCES
from cadence.generator import generate
from cadence.ingest import load_source_month
from cadence.mapping import load_mapping
from cadence.settings import CONFIG_DIR
from quality import data_docs
from quality.suites import suite
from quality.validate import validate

MONTH = "2026-10"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
GE_TEMPLATES = Path(great_expectations.__file__).parent / "render" / "view"
# what a page loads: the src/href of a script, link or img tag, and url(...) in CSS (not <a href>: a link
# a reader may follow is no load)
LOAD = re.compile(r"""<(?:script|link|img)\b[^>]*?\b(?:src|href)="([^"#][^"]*)"|url\(\s*['"]?([^'")]+)""", re.I)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("docs")
    generate(root / "landing", [MONTH], leads_per_month=200, seed=11, defects=True)
    db = root / "w.duckdb"
    con = duckdb.connect(str(db))
    mappings = load_mapping(CONFIG_DIR / "sources.yml")
    for source in SOURCES:
        load_source_month(con, source, MONTH, root / "landing", mappings)
    con.close()
    outcome = validate(suite("raw.crm__leads"), MONTH, db, report_dir=root / "reports")
    assert not outcome.success  # a failing suite: the page shows failed checks and their samples
    return root / "reports" / "data_docs"


def _loads(path: Path) -> list[str]:
    return [a or b for a, b in LOAD.findall(path.read_text(encoding="utf-8")) if not (a or b).startswith("data:")]


def test_every_asset_a_page_loads_is_a_file_of_the_site(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 2  # the index and the suite's validation page
    for path in [*pages, *site.glob("static/styles/*.css"), *site.glob("static/vendor/**/*.css")]:
        loads = _loads(path)
        assert not [u for u in loads if re.match(r"(https?:)?//", u)], path
        for url in loads:
            file = path.parent / unquote(url.split("?")[0])
            if file.suffix == ".ttf":  # Font Awesome's fallback after woff2, which every current browser reads
                file = file.with_suffix(".woff2")
            assert file.is_file(), (path, url)
    index = _loads(site / "index.html")
    assert {u.split("/")[-1] for u in index} >= {"bootstrap.min.css", "jquery.min.js", "bootstrap-table.min.js",
                                                  "all.min.css", "logo-long.png"}


def test_the_table_covers_every_address_ge_templates_load():
    """A GE upgrade that loads one more file from a CDN fails here, not on a user's offline machine."""
    found = set()
    for path in [*GE_TEMPLATES.glob("templates/*.j2"), *GE_TEMPLATES.glob("static/styles/*.css")]:
        text = path.read_text()
        found |= {u for u in _loads(path) if u.startswith("http")}
        # the navbar's logo: `{% set static_images_dir = "https://..." %}` then `static_images_dir + "logo.png"`
        for base in re.findall(r'static_images_dir = "(https?://[^"]+)"', text):
            found |= {base + name for name in re.findall(r'static_images_dir \+ "([^"]+)"', text)}
    assert found
    assert found == set(data_docs.CDN) | set(data_docs.GE_IMAGES) | set(data_docs.VEGA)


def test_vendored_files_are_the_ones_ge_pins_by_hash():
    """GE's template pins Bootstrap's and Popper's scripts by hash (SRI): the shipped copies have that hash."""
    template = (GE_TEMPLATES / "templates" / "js_script_imports.j2").read_text()
    pinned = re.findall(r'src="([^"]+)" integrity="sha384-([^"]+)"', template)
    assert len(pinned) == 2
    for url, digest in pinned:
        shipped = (data_docs.ASSETS_DIR / data_docs.CDN[url]).read_bytes()
        assert base64.b64encode(hashlib.sha384(shipped).digest()).decode() == digest, url
    for folder in data_docs.ASSETS_DIR.iterdir():
        if folder.is_dir() and not folder.name.startswith("popper"):  # Popper's licence is in its file's header
            assert list(folder.glob("LICENSE*")), folder


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (CI installs Debian's `chromium`)")
def test_pages_run_in_chromium_with_no_network(site, tmp_path):
    for page in [site / "index.html", *site.glob("validations/**/*.html")]:
        done = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
             "--disable-background-networking", "--disable-component-update", f"--user-data-dir={tmp_path}",
             "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",  # no network at all
             "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
            capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr[-2000:]
        console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
        assert console == [], console  # GE's CDN pages: "Uncaught ReferenceError: $ is not defined"
        assert 'class="bootstrap-table bootstrap4"' in done.stdout, page  # jQuery + bootstrap-table ran
