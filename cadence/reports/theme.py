"""The page's look: one palette, one type scale, the CSS of pages and charts, and the small script that
checks the page once drawn (every chart has marks, no two chart labels overlap, no tile text overflows)
and records the result on <body> (data-rendered="ok", data-label-overlaps, ...): what the browser test reads.
No web font, no external URL: the system sans-serif stack, so the file works offline."""

FONT = '"Inter", "Segoe UI", Roboto, "Helvetica Neue", Arial, "DejaVu Sans", "Liberation Sans", sans-serif'

INK, MUTED, FAINT, GRID, LINE, BG = "#1f2937", "#5b6472", "#9aa3ae", "#e8ebef", "#d9dde3", "#f5f6f8"
BLUE, BLUE_LIGHT, SLATE, PURPLE, TEAL, TREND = "#2563eb", "#bfd3fb", "#94a3b8", "#7c3aed", "#0f766e", "#111827"
LIGHTS = {
    "green": ("#166534", "#dcfce7"),
    "amber": ("#92400e", "#fef3c7"),
    "red": ("#991b1b", "#fee2e2"),
    "grey": ("#374151", "#eceef1"),
}
SEVERITY = {"critical": "red", "high": "amber", "medium": "grey", "low": "grey"}

CSS = f"""
*{{box-sizing:border-box}}
html{{scroll-behavior:smooth;scroll-padding-top:56px}}
body{{margin:0;background:{BG};color:{INK};font:14px/1.45 {FONT};font-variant-numeric:tabular-nums}}
a{{color:{BLUE};text-decoration:none}} a:hover{{text-decoration:underline}}
header.top{{background:#111827;color:#fff;padding:14px 32px 12px;display:flex;align-items:baseline;gap:18px}}
header.top h1{{font-size:20px;margin:0;font-weight:650;letter-spacing:.2px}}
header.top .month{{font-size:20px;color:#c7d2fe;font-weight:600}}
header.top .meta{{margin-left:auto;font-size:12.5px;color:#cbd5e1;text-align:right}}
.sources{{background:#fef3c7;color:#78350f;border-bottom:1px solid #fcd34d;padding:7px 32px;font-size:13px}}
nav.levels{{position:sticky;top:0;z-index:5;background:#fff;border-bottom:1px solid {LINE};padding:0 32px;
  display:flex;gap:4px;flex-wrap:wrap}}
nav.levels a{{display:inline-block;padding:9px 12px;color:{MUTED};font-size:13px;font-weight:600;
  border-bottom:2px solid transparent}}
nav.levels a.level{{color:{INK}}} nav.levels a:hover{{border-bottom-color:{BLUE};text-decoration:none}}
main{{padding:14px 32px 40px;max-width:1440px;margin:0 auto}}
section{{margin:0 0 26px}}
h2{{font-size:17px;margin:4px 0 10px;font-weight:650}} h2 .lvl{{color:{BLUE};font-weight:700;margin-right:6px}}
h3{{font-size:14px;margin:0 0 6px;font-weight:650}}
.sub{{color:{MUTED};font-size:12.5px}}
.card{{background:#fff;border:1px solid {LINE};border-radius:8px;padding:12px 14px;overflow-x:auto}}
.tiles{{display:grid;grid-template-columns:repeat(8,minmax(0,1fr));gap:10px;margin-bottom:12px}}
.tile{{background:#fff;border:1px solid {LINE};border-radius:8px;padding:9px 11px 8px;overflow:hidden;min-width:0}}
.tile .k{{font-size:11.5px;color:{MUTED};font-weight:600;white-space:nowrap;overflow:hidden}}
.tile .v{{font-size:24px;font-weight:650;line-height:1.25;white-space:nowrap;overflow:hidden}}
.tile .v small{{font-size:13px;font-weight:500;color:{MUTED};margin-left:3px}}
.tile .s{{font-size:11.5px;color:{MUTED};white-space:nowrap;overflow:hidden}}
.tile .d{{font-size:11.5px;white-space:nowrap;overflow:hidden;margin-top:2px}}
.d.good{{color:#15803d}} .d.bad{{color:#b91c1c}} .d.flat{{color:{MUTED}}}
.row{{display:grid;gap:12px;align-items:stretch}}
.row.c4{{grid-template-columns:repeat(4,minmax(0,1fr))}}
.row.c3{{grid-template-columns:repeat(3,minmax(0,1fr))}}
.row.c2{{grid-template-columns:repeat(2,minmax(0,1fr))}}
.chart-card h3{{margin-bottom:2px}} .chart-card .sub{{margin-bottom:6px;min-height:36px}}
svg.chart{{display:block;max-width:100%;height:auto}}
.chip{{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;font-weight:650;white-space:nowrap}}
{"".join(f".chip.{k}{{color:{fg};background:{bg}}}" for k, (fg, bg) in LIGHTS.items())}
.lights{{display:grid;grid-template-columns:70px repeat(3,minmax(0,1fr));gap:4px;font-size:12px}}
.lights .hd{{color:{MUTED};font-weight:600;text-align:center;padding:2px}}
.lights .rh{{color:{MUTED};font-weight:600;display:flex;align-items:center}}
.lights a.cell{{display:block;border-radius:6px;padding:3px 4px;text-align:center;color:{INK};line-height:1.3;
  white-space:nowrap;font-size:11.5px}}
{"".join(f".lights a.cell.{k}{{background:{bg};border:1px solid {fg}33}}" for k, (fg, bg) in LIGHTS.items())}
.lights .cell b{{font-size:12px}}
table.tbl{{border-collapse:collapse;width:100%;font-size:12.5px;background:#fff}}
.tbl th{{text-align:left;color:{MUTED};font-weight:600;border-bottom:1px solid {LINE};padding:5px 7px;
  white-space:nowrap}}
.tbl td{{border-bottom:1px solid {GRID};padding:5px 7px;vertical-align:top}}
.tbl td.n,.tbl th.n{{text-align:right;white-space:nowrap}}
.seg{{display:grid;grid-template-columns:300px repeat(3,minmax(0,1fr));gap:12px;align-items:start;margin-bottom:12px}}
.seg .facts{{font-size:12.5px}} .seg .facts .kv dd{{text-align:right}}
.kv{{display:grid;grid-template-columns:auto 1fr;gap:3px 12px;margin:8px 0;font-size:12.5px}}
.kv dt{{color:{MUTED}}} .kv dd{{margin:0}}
ul.th{{margin:2px 0 0;padding-left:16px}} .tbl.grid td,.tbl.grid th{{padding:3px 4px;font-size:11.5px}}
.tbl.grid th.grp,.tbl.grid td.grp{{border-left:2px solid {LINE}}} .tbl.grid th.grp{{text-align:center}}
.tbl.grid td.zero{{color:{FAINT}}} .tbl td.nw{{white-space:nowrap}}
.reason{{font-size:12.5px;margin-top:4px}}
.decision{{font-size:12.5px;margin-top:4px}}
ul.summary{{margin:4px 0 0;padding-left:18px;font-size:14px;line-height:1.55}}
.mini .mt{{font-size:12.5px;font-weight:650}}
.mini .mc{{font-size:12px;color:{MUTED};margin-bottom:4px;min-height:34px}}
.status{{display:flex;flex-direction:column;gap:6px;font-size:12.5px;margin-top:10px}}
.status div{{display:flex;justify-content:space-between;gap:8px}}
.legend{{font-size:12px;color:{MUTED};margin:2px 0 8px}}
.legend i{{display:inline-block;width:10px;height:10px;border-radius:50%;margin:0 4px 0 10px;vertical-align:-1px}}
.legend i.line{{border-radius:0;height:2px;width:14px;vertical-align:3px}}
.na{{color:{MUTED};font-style:italic}}
.glossary dt{{font-weight:650;margin-top:6px}} .glossary dd{{margin:0 0 2px;color:#374151}}
footer{{color:{MUTED};font-size:12px;padding:0 32px 24px;max-width:1440px;margin:0 auto}}
@media print{{nav.levels{{display:none}} body{{background:#fff}}}}
/* charts */
svg .grid{{stroke:{GRID};stroke-width:1}} svg .axis{{stroke:{FAINT};stroke-width:1}}
svg text{{font-family:{FONT};fill:{INK}}}
svg text.tick{{fill:{MUTED}}} svg text.axis-title{{fill:{MUTED};font-weight:600}}
svg text.lab{{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}}
svg text.q{{fill:{MUTED};font-weight:600;paint-order:stroke;stroke:#fff;stroke-width:3px}}
svg text.trend{{fill:{TREND};font-weight:600;paint-order:stroke;stroke:#fff;stroke-width:3px}}
svg .pt-not{{fill:{SLATE};fill-opacity:.32}} svg .pt-conv{{fill:{BLUE};fill-opacity:.5}}
svg .trend{{stroke:{TREND};stroke-width:2}} svg .mean{{stroke:{MUTED};stroke-width:1.2;stroke-dasharray:5 4}}
svg .target{{stroke:{TEAL};stroke-width:1.5;stroke-dasharray:2 3}} svg text.target{{fill:{TEAL};stroke:none}}
svg .ci{{stroke:{BLUE};stroke-opacity:.45;stroke-width:1.5}} svg .bin{{fill:{BLUE};fill-opacity:.75}}
svg .shape{{fill:none;stroke:{PURPLE};stroke-width:2}} svg .zero{{stroke:{FAINT};stroke-width:1}}
svg .bar{{fill:{BLUE};fill-opacity:.8}} svg .bar-bg{{fill:{GRID}}}
svg .unit{{fill:{SLATE};fill-opacity:.55}}
svg .unit.q1{{fill:#16a34a;fill-opacity:.7}} svg .unit.q3{{fill:#dc2626;fill-opacity:.7}}
svg .est{{fill:{BLUE}}} svg .bound{{stroke:{MUTED};stroke-dasharray:3 3}}
"""

#: Runs once the page is parsed; writes its findings on <body> for the browser test (and for humans).
CHECK_JS = """
(function () {
  function overlap(a, b) { return a.left < b.right - 0.5 && b.left < a.right - 0.5 &&
                                  a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5; }
  function check() {
    var charts = document.querySelectorAll('svg[data-chart]'), drawn = 0, overlaps = [], empty = [];
    charts.forEach(function (svg) {
      var r = svg.getBoundingClientRect();
      var marks = svg.querySelectorAll('circle,line,path,rect,polyline,polygon').length;
      if (r.width > 0 && r.height > 0 && marks > 0) { drawn++; } else { empty.push(svg.dataset.chart); }
      var texts = Array.prototype.slice.call(svg.querySelectorAll('text')).filter(function (t) {
        return t.textContent.trim() !== ''; });
      var boxes = texts.map(function (t) { return t.getBoundingClientRect(); });
      for (var i = 0; i < boxes.length; i++) { for (var j = i + 1; j < boxes.length; j++) {
        if (overlap(boxes[i], boxes[j])) { overlaps.push(svg.dataset.chart + ': ' + texts[i].textContent +
                                                         ' / ' + texts[j].textContent); } } }
    });
    var overflow = [];
    document.querySelectorAll('.tile .k, .tile .v, .tile .s, .tile .d, .lights .cell, .card')
      .forEach(function (el) {
      if (el.scrollWidth > el.clientWidth + 1) { overflow.push(el.textContent.trim().slice(0, 60)); } });
    var b = document.body;
    b.dataset.charts = charts.length; b.dataset.chartsDrawn = drawn;
    b.dataset.emptyCharts = empty.join(' ; ');
    b.dataset.labelOverlaps = overlaps.length; b.dataset.overlapDetail = overlaps.slice(0, 8).join(' ; ');
    b.dataset.tileOverflow = overflow.length; b.dataset.overflowDetail = overflow.slice(0, 8).join(' ; ');
    b.dataset.pageHeight = document.documentElement.scrollHeight;
    b.dataset.rendered = (charts.length > 0 && drawn === charts.length) ? 'ok' : 'incomplete';
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', check); }
  else { check(); }
})();
"""
