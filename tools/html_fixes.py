"""Sphinx extension: small fixes so the built pages load without a console error.

* jupyter-book 1 registers sphinx-thebe's inline configuration script twice
  (``const THEBE_JS_URL = ...`` declared twice is a SyntaxError in the
  browser): each page's scripts are de-duplicated.
"""

from __future__ import annotations


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    seen, kept = set(), []
    for script in context.get("script_files", []):
        # an inline script's filename is None or "" depending on who added it
        name = getattr(script, "filename", script) or ""
        key = (str(name), tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())))
        if key in seen:
            continue
        seen.add(key)
        kept.append(script)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
