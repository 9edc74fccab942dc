"""Sphinx extension: the book's claims scorecard, built from the code and ``results/`` at build time.

``scorecard.md`` holds only the directive ``{claims-scorecard}``; every row
(claim, paper, chapter, verdicts) comes from
``pruning_utils.experiments.stored_verdicts``, the function behind
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
    """``.. claims-scorecard::``: one table per paper, one row per claim; a column for the default profile, one
    for ``full`` (the whole of Fashion-MNIST), one for every other stored profile."""

    has_content = False

    def run(self):
        from pruning_utils.experiments import NOTEBOOKS, headline, shown, stored_verdicts

        results = Path(self.env.srcdir) / "results"
        for f in sorted(results.glob("*/*.json")) + sorted(results.glob("*/confirm/*.json")):
            self.env.note_dependency(str(f))
        rows = stored_verdicts(results)
        by_paper = {}
        for row in rows:
            by_paper.setdefault(row["claim"].paper, []).append(row)
        h = headline(rows)
        ev, checks = h["evidence"], h["checks"]
        n_ev = sum(ev.values())
        lines = [f"{h['claims']} claims from {len(by_paper)} papers: {n_ev} evidence claims and "
                 f"{sum(checks.values())} checks with a stored default result"
                 f"{', ' + str(h['no stored result']) + ' without' if h['no stored result'] else ''}.", "",
                 "**Confirmed** (the verdict this book reports: the default profile run again after its claims "
                 "were frozen, on seeds no exploration used, seeds added look by look until each claim is "
                 "decided), evidence claims per paper:", ""]
        for paper, counts in h["confirmed"].items():
            lines.append(f"- :cite:t:`{paper}`: " + ", ".join(f"{_label(k)} {n}" for k, n in counts.items() if n))
        lines += ["", f"Exploration, at the default profile (the runs the claims were shaped on): "
                      f"{ev['holds']} hold against their control, "
                      f"{ev['does not hold']} do not hold, {ev['not discriminating']} are not discriminating (their "
                      f"control passes too), {ev['holds, no control']} hold with no control computed yet, and "
                      f"{ev['not robust']} are not robust (a verdict counts only where every seed clears its "
                      f"threshold by more than the seeds' spread, the control's too). Checks, true by construction "
                      f"and never counted as evidence: "
                      f"{', '.join(f'{n} {w}' for w, n in sorted(checks.items())) or 'none'}.", ""]
        for paper, items in by_paper.items():
            lines += [f".. rubric:: :cite:t:`{paper}`", "", ".. list-table::", "   :header-rows: 1",
                      "   :widths: 14 32 12 9 9 8 8 8", "", "   * - claim", "     - statement",
                      "     - kind and control", "     - chapter", "     - confirmed (default)",
                      "     - exploration: default (CPU scale)", "     - exploration: full (all of Fashion-MNIST)",
                      "     - other stored profiles"]
            for r in items:
                c, v, cf = r["claim"], r["verdicts"], r["confirmations"]
                confirmed = shown(cf["default"]) if "default" in cf else "not confirmed yet"
                default = shown(v["default"]) if "default" in v else "no stored result"
                full = f"{shown(v['full'])} ({v['full']['device']})" if "full" in v else "not run yet"
                others = "; ".join(f"{p}: {shown(x)} ({x['device']})" for p, x in v.items()
                                   if p not in ("default", "full"))
                others = "; ".join(x for x in [others] + [f"confirmed {p}: {shown(x)} ({x['device']})"
                                                          for p, x in cf.items() if p != "default"] if x)
                lines += [f"   * - ``{c.id}``", f"     - {_cell(c.statement)}", f"     - {_cell(c.kind_text)}",
                          f"     - :doc:`{_short(NOTEBOOKS[r['chapter']])} </chapters/{NOTEBOOKS[r['chapter']]}>`",
                          f"     - {_cell(confirmed)}", f"     - {_cell(default)}", f"     - {_cell(full)}",
                          f"     - {_cell(others) or 'none stored'}"]
            lines.append("")
        container = nodes.container(classes=["claims-scorecard"])
        self.state.nested_parse(StringList(lines, source="claims-scorecard"), self.content_offset, container)
        return [container]


def _label(key: str) -> str:
    """The headline's words for a count of :func:`pruning_utils.experiments.headline`'s ``confirmed``."""
    return {"reproduces": "reproduce (hold against their control)", "does not": "do not hold",
            "edited": "confirmed by a claim edited since (need a new confirmation)"}.get(key, key)


def _short(stem: str) -> str:
    """A chapter's link text in the table: its number and file name ("04 pruning at init"), not its long title."""
    return stem.replace("_", " ")


def setup(app):
    app.add_directive("claims-scorecard", ClaimsScorecard)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
