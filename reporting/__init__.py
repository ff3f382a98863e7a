"""Rendering shared by the project's reports: Jinja2 templates, escaping, figures.

- `reporting.render`: the template environment (HTML autoescaped, Markdown cells escaped), the
  Content-Security-Policy every HTML page carries, PNG data URIs;
- `reporting.blocks`: the plain data a report is made of (tables, text, figures);
- `reporting.figures`: matplotlib figures with byte-identical PNG output;
- `reporting/templates/`: the pages (curation report, eval report, model card).
"""
