"""The month's human-readable outputs: the one-page dashboard (HTML), the audit note (Markdown + HTML)
and the audit workbook (Excel). Data is gathered by SQL into small frames (gather, queries), rendered by
pure functions (svg, charts, dashboard sections, note, workbook) and written by build."""
