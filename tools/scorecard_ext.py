"""Sphinx extension: the book's claims scorecard, built from the code and ``results/`` at build time.

``scorecard.md`` holds only the directive ``{claims-scorecard}``; every row
(claim, paper, chapter, verdicts) comes from
``pruning_utils.claims.stored_verdicts``, the function behind
``python -m pruning_utils claims``, evaluated on the JSON files that
``python -m pruning_utils reproduce`` wrote. Nothing on the page is typed in.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


class ClaimsScorecard(SphinxDirective):
    """``.. claims-scorecard::``: one table per paper, one row per claim."""

    has_content = False

    def run(self):
        from pruning_utils.claims import stored_verdicts
        from pruning_utils.experiments import NOTEBOOKS

        results = Path(self.env.srcdir) / "results"
        for f in sorted(results.glob("*/*.json")):
            self.env.note_dependency(str(f))
        rows = stored_verdicts(results)
        by_paper = {}
        for row in rows:
            by_paper.setdefault(row["claim"].paper, []).append(row)
        held = sum(1 for r in rows if r["verdicts"].get("default", {}).get("word") == "holds")
        stored = sum(1 for r in rows if "default" in r["verdicts"])
        fragile = sum(1 for r in rows if r["verdicts"].get("default", {}).get("word") == "not robust")
        lines = [f"{len(rows)} claims from {len(by_paper)} papers; at the default profile, {stored} have a stored "
                 f"result, {held} of those hold and {fragile} are not robust (a verdict counts only where every "
                 f"seed clears its threshold by more than the seeds' spread).", ""]
        for paper, items in by_paper.items():
            lines += [f".. rubric:: :cite:t:`{paper}`", "", ".. list-table::", "   :header-rows: 1",
                      "   :widths: 18 50 12 10 10", "", "   * - claim", "     - statement", "     - chapter",
                      "     - default (CPU scale)", "     - paper scale"]
            for r in items:
                c, v = r["claim"], r["verdicts"]
                default = v["default"]["word"] if "default" in v else "no stored result"
                paper_scale = "; ".join(f"{p}: {x['word']} ({x['device']})" for p, x in v.items() if p != "default")
                lines += [f"   * - ``{c.id}``", f"     - {_cell(c.statement)}",
                          f"     - :doc:`{_short(NOTEBOOKS[r['chapter']])} </chapters/{NOTEBOOKS[r['chapter']]}>`",
                          f"     - {default}",
                          f"     - {paper_scale or 'not run yet'}"]
            lines.append("")
        container = nodes.container(classes=["claims-scorecard"])
        self.state.nested_parse(StringList(lines, source="claims-scorecard"), self.content_offset, container)
        return [container]


def _short(stem: str) -> str:
    """A chapter's link text in the table: its number and file name ("04 pruning at init"), not its long title."""
    return stem.replace("_", " ")


def setup(app):
    app.add_directive("claims-scorecard", ClaimsScorecard)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
