"""Small HTML builders (escaped text, tables, chips, cards); no template engine needed for one page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from cadence.reports import fmt

Column = tuple[str, Callable[[dict], Any], str]  # header, cell value (text or Raw), "n" for numbers


class Raw(str):
    """Already-HTML text: not escaped again."""


def esc(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    return escape(fmt.DASH if fmt.missing(value) else str(value))


def chip(text: str, tone: str) -> Raw:
    return Raw(f'<span class="chip {escape(tone)}">{escape(text)}</span>')


def light_chip(light: Any) -> Raw:
    light = "grey" if fmt.missing(light) else str(light)
    return chip(light, light if light in ("green", "amber", "red") else "grey")


def table(rows: Sequence[dict], columns: Sequence[Column], empty: str = "none this month") -> Raw:
    if not rows:
        return Raw(f'<p class="na">{escape(empty)}</p>')
    head = "".join(f'<th class="{cls}">{escape(h)}</th>' for h, _, cls in columns)
    body = "".join(
        "<tr>" + "".join(f'<td class="{cls}">{esc(get(r))}</td>' for _, get, cls in columns) + "</tr>" for r in rows
    )
    return Raw(f'<table class="tbl"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')


def card(title: str, body: str, sub: str = "", cls: str = "", ident: str = "") -> Raw:
    ident_attr = f' id="{escape(ident)}"' if ident else ""
    sub_html = f'<div class="sub">{esc(sub)}</div>' if sub else ""
    return Raw(f'<div class="card {cls}"{ident_attr}><h3>{esc(title)}</h3>{sub_html}{body}</div>')


def section(ident: str, title: str, body: str, level: str = "", sub: str = "") -> Raw:
    lvl = f'<span class="lvl">{escape(level)}</span>' if level else ""
    sub_html = f'<p class="sub">{esc(sub)}</p>' if sub else ""
    return Raw(f'<section id="{escape(ident)}"><h2>{lvl}{escape(title)}</h2>{sub_html}{body}</section>')


def not_available(what: str, why: str = "") -> Raw:
    return Raw(f'<p class="na">{escape(what)}: not available{escape(" (" + why + ")") if why else ""}.</p>')


def dl(items: Sequence[tuple[str, Any]]) -> Raw:
    return Raw('<dl class="kv">' + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items) + "</dl>")
