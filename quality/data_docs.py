"""GE's Data Docs that render without the network.

GE 1.24.1's page templates load Bootstrap, jQuery, Popper, bootstrap-table, bootstrap-datepicker, a dark
theme and Font Awesome from CDNs, and its logo from a web bucket: opened on a machine without internet, a
page was unstyled, its icons missing and its tables dead. GE has no setting for local assets (its custom
views directory is searched after its own templates, so a template cannot be replaced), so after each site
build :func:`make_offline` copies the same files, shipped in ``quality/data_docs_assets/`` (taken from their
npm packages, each with its licence; README there), into the site's ``static/vendor/`` and points every page
at them. The Vega scripts are only used by chart blocks, which none of Cadence's suites renders: a page
without a chart drops them; a page with one keeps them and is reported (vendor Vega then).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).with_name("data_docs_assets")
VENDOR = ("static", "vendor")

#: every CDN address GE 1.24.1's templates load -> the same file, shipped under ASSETS_DIR
CDN = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap-4.3.1/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap-4.3.1/js/bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js-1.12.9/umd/popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table-1.19.1/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "bootstrap-table-1.19.1/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table-1.19.1/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table-1.19.0/extensions/filter-control/bootstrap-table-filter-control.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table-1.19.0/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker-1.9.0/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker-1.9.0/js/bootstrap-datepicker.min.js",
    # GE links the unminified build; the minified one of the same release has the same rules
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "bootstrap-dark-1.1.0/css/bootstrap-prefers-dark.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "fontawesome-free-6.6.0/css/all.min.css",
}

#: GE's logos from its web bucket -> GE's own copy, which the site build puts in static/images
GE_IMAGES = {
    "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png": "logo-long.png",
    "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png": "logo-long.png",
}

#: loaded by every page, used only by chart blocks (``vegaEmbed(...)``)
VEGA = ("https://cdn.jsdelivr.net/npm/vega@5", "https://cdn.jsdelivr.net/npm/vega-lite@5",
        "https://cdn.jsdelivr.net/npm/vega-embed@6")

_TAG = re.compile(r"<(?:script|link|img)\b[^>]*>", re.I)
_ATTR = re.compile(r'\b(src|href)="(https?://[^"]*|(?:\./|(?:\.\./)*)static/[^"]*)"', re.I)
_STATIC = re.compile(r"(?:\./|(?:\.\./)*)static/(.*)")
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(https?://[^'")]*)\1\s*\)""", re.I)
_SRI = re.compile(r'\s+(?:integrity|crossorigin)="[^"]*"', re.I)  # checks a CDN response; a local file has none
_VEGA = re.compile("|".join(rf'<script src="{re.escape(u)}"></script>\n?' for u in VEGA))


def make_offline(site: Path) -> list[str]:
    """Ship the vendored assets into ``site`` and rewrite its pages and styles to load them; returns the
    asset addresses still pointing at the internet, as ``"<file>: <url>"`` (none with GE 1.24.1's pages)."""
    site = Path(site)
    shutil.copytree(ASSETS_DIR, site.joinpath(*VENDOR), dirs_exist_ok=True)
    left = []
    for path in sorted([*site.rglob("*.html"), *site.joinpath("static", "styles").glob("*.css")]):
        text = path.read_text(encoding="utf-8")
        new, remote = localise(text, site, path.parent)
        if new != text:
            path.write_text(new, encoding="utf-8")
        left += [f"{path.relative_to(site)}: {url}" for url in remote]
    if left:
        log.warning("Data Docs still load %d asset(s) from the internet (add them to quality/data_docs.py): %s",
                    len(left), "; ".join(left[:5]))
    return left


def localise(text: str, site: Path, folder: Path) -> tuple[str, list[str]]:
    """One page (or style sheet) in ``folder`` of ``site``: each known remote asset replaced by the relative
    path of its local copy; returns the new text and the remote asset addresses left."""
    if "vegaEmbed(" not in text:
        text = _VEGA.sub("", text)

    def local(url: str) -> str | None:
        base = url.split("?", 1)[0]
        if m := _STATIC.fullmatch(base):  # GE's own files; its favicon link on result pages is one level short
            target = site / "static" / m.group(1)
        elif base in CDN:
            target = site.joinpath(*VENDOR, CDN[base])
        elif base in GE_IMAGES:
            target = site / "static" / "images" / GE_IMAGES[base]
        else:
            return None
        return Path(os.path.relpath(target, folder)).as_posix()

    def tag(m: re.Match) -> str:
        found = _ATTR.search(m.group(0))
        path = local(found.group(2)) if found else None
        if path is None:
            return m.group(0)
        return _SRI.sub("", m.group(0).replace(found.group(0), f'{found.group(1)}="{path}"'))

    def css(m: re.Match) -> str:
        path = local(m.group(2))
        return m.group(0) if path is None else f"url('{path}')"

    text = _CSS_URL.sub(css, _TAG.sub(tag, text))
    return text, remote_assets(text)


def remote_assets(text: str) -> list[str]:
    """The http(s) addresses a page or style sheet loads (script, style sheet, image, CSS url()); links a
    reader may follow (``<a href>``) are not loads."""
    tags = [a.group(2) for t in _TAG.finditer(text) if (a := _ATTR.search(t.group(0))) and "://" in a.group(2)]
    return tags + [m.group(2) for m in _CSS_URL.finditer(text)]
