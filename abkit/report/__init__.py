"""Reports: the Report object and its renderings (JSON, text, Markdown, HTML)."""
