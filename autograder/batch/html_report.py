"""``report.html``: one self-contained page about the whole batch, for the instructor.

Figures are matplotlib PNGs embedded as base64, so the page can be mailed or archived alone.
Everything that comes from students (names, messages, code) is HTML-escaped.
"""

from __future__ import annotations

import base64
import io
import statistics
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder.batch import similarity
from autograder.batch.records import Record, write_atomic
from autograder.spec import Assignment

if TYPE_CHECKING:
    from autograder.batch.runner import BatchSummary

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.6em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0} td,th{padding:.25em .6em;border:1px solid #ddd}
th{background:#f4f4f4;text-align:left} td.n{text-align:right;font-variant-numeric:tabular-nums}
.figs{display:flex;flex-wrap:wrap;gap:1em} .figs img{max-width:540px;border:1px solid #eee}
.flag{color:#b00;font-weight:bold} .muted{color:#777} details{margin:.6em 0}
table.diff{font-family:monospace;font-size:11px;border:none}
table.diff td{border:none;padding:0 .3em}
.diff_header{background:#eee;color:#888} td.diff_header{text-align:right}
.diff_add{background:#cfc} .diff_chg{background:#ffa} .diff_sub{background:#fbb}
.diff_next{display:none}
"""


def write_report(path: Path, summary: BatchSummary, assignment: Assignment,
                 threshold: float) -> None:
    records = summary.records
    graded = [r for r in records if r.result]
    body = [f"<h1>{escape(assignment.title)}: batch report</h1>",
            _overview(summary, graded), *_scores(graded), *_components(graded),
            *_failures(graded), *_mnist(graded), *_slowest(graded), *_problems(records),
            *_similarity(summary, threshold)]
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
            f"{escape(assignment.name)}: batch report</title><style>{STYLE}</style></head>"
            f"<body>{''.join(body)}</body></html>\n")
    write_atomic(path, page)


# --- sections --------------------------------------------------------------------------------


def _overview(summary: BatchSummary, graded: list[Record]) -> str:
    statuses = Counter(r.status for r in summary.records)
    students = sum(len(r.students) for r in summary.records)
    scores = [r.score for r in graded]
    max_score = graded[0].result["max_score"] if graded else 0
    rows = [("submissions", len(summary.records)), ("students", students),
            ("graded in this run", summary.graded), ("reused from earlier runs", summary.reused),
            *((f"status {s}", n) for s, n in sorted(statuses.items()))]
    if scores:
        rows += [("mean score", f"{statistics.mean(scores):.1f} / {max_score:g}"),
                 ("median score", f"{statistics.median(scores):g} / {max_score:g}")]
    when = datetime.now().strftime("%Y-%m-%d %H:%M")
    return (f"<p class='muted'>generated {when}; {summary.seconds:.0f} s</p>"
            + _table(["", ""], rows))


def _scores(graded: list[Record]) -> Iterator[str]:
    if not graded:
        return
    yield "<h2>Scores</h2>"
    max_score = graded[0].result["max_score"]
    with _figure(7, 3.2) as (fig, ax):
        ax.hist([r.score for r in graded], bins=min(30, max(10, len(graded) // 5)),
                range=(0, max_score), color="#4a7ab5", edgecolor="white")
        ax.set(xlabel=f"total score (out of {max_score:g})", ylabel="submissions",
               title=f"Score distribution ({len(graded)} graded submissions)")
    yield _figs(fig.data)


def _components(graded: list[Record]) -> Iterator[str]:
    if not graded:
        return
    names = [c["name"] for c in graded[0].result["components"]]
    full, points = Counter(), Counter()
    for record in graded:
        for comp in record.result["components"]:
            full[comp["name"]] += comp["score"] == comp["max_score"]
            points[comp["name"]] += comp["score"] / comp["max_score"] if comp["max_score"] else 1
    n = len(graded)
    yield "<h2>Components</h2>"
    with _figure(7, 0.28 * len(names) + 1.2) as (fig, ax):
        rates = [100 * full[c] / n for c in names]
        ax.barh(names[::-1], rates[::-1], color="#5a9e6f")
        ax.set(xlim=(0, 100), xlabel="% of graded submissions with full marks",
               title="Pass rate per component")
    rows = [(c, f"{100 * full[c] / n:.0f}%", f"{100 * points[c] / n:.0f}%") for c in names]
    yield _figs(fig.data) + _table(["component", "full marks", "mean points"], rows)


def _failures(graded: list[Record]) -> Iterator[str]:
    """Counted per submission: one student's 90 'missing' checks are one missing file."""
    causes: Counter[str] = Counter()
    checks: Counter[tuple[str, str]] = Counter()
    example: dict[tuple[str, str], str] = {}
    for record in graded:
        failed = list(_failed_checks(record))
        causes.update({cause or "wrong_answer" for _, _, cause in failed})
        checks.update({(comp, check["name"]) for comp, check, _ in failed})
        for comp, check, _ in failed:
            example.setdefault((comp, check["name"]), check["message"])
    if not causes:
        return
    yield "<h2>Most frequent failures</h2>"
    top = causes.most_common(12)
    with _figure(7, 0.3 * len(top) + 1.2) as (fig, ax):
        ax.barh([c for c, _ in top][::-1], [n for _, n in top][::-1], color="#c0504d")
        ax.set(xlabel="submissions with at least one check failing for this cause",
               title="Failure causes")
    rows = [(comp, name, n, _short(example[(comp, name)], 160))
            for (comp, name), n in checks.most_common(15)]
    yield _figs(fig.data) + _table(["component", "check", "submissions failing it",
                                    "example message"], rows)


def _failed_checks(record: Record) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    for comp in record.result["components"]:
        for check in comp["checks"]:
            if not check["passed"]:
                yield comp["name"], check, check.get("cause")


def _mnist(graded: list[Record]) -> Iterator[str]:
    runs = [(r, c) for r in graded for c in r.result["components"]
            if c["name"] == "MNIST" and "accuracy" in c]
    if not runs:
        return
    threshold = runs[0][1]["threshold"]
    accuracies = [100 * c["accuracy"] for _, c in runs]
    yield "<h2>MNIST accuracy</h2>"
    low = max(0.0, 100 * threshold - 10)  # the interesting range is just around the bar
    with _figure(7, 3.2) as (fig, ax):
        ax.hist([max(a, low) for a in accuracies], bins=40, range=(low, 100),
                color="#8064a2", edgecolor="white")
        ax.axvline(100 * threshold, color="k", linestyle="--",
                   label=f"threshold {threshold:.0%}")
        ax.set(xlabel=f"test accuracy (%); below {low:g}% counted at {low:g}%",
               ylabel="submissions", title="Accuracy of the students' own networks")
        ax.legend(loc="upper left")
    passed = sum(c["accuracy"] >= threshold for _, c in runs)
    yield _figs(fig.data) + f"<p>{passed} of {len(runs)} reach the threshold.</p>"


def _slowest(graded: list[Record]) -> Iterator[str]:
    slow = sorted(graded, key=lambda r: -r.seconds)[:10]
    if not slow:
        return
    yield "<h2>Slowest submissions</h2>"
    with _figure(7, 0.3 * len(slow) + 1.2) as (fig, ax):
        ax.barh([r.key for r in slow][::-1], [r.seconds for r in slow][::-1], color="#4bacc6")
        ax.set(xlabel="grading time (s)", title="Slowest submissions")
    rows = [(r.key, f"{r.seconds:.1f}", r.status, _short(r.message, 120)) for r in slow]
    yield _figs(fig.data) + _table(["submission", "seconds", "status", "message"], rows)


def _problems(records: list[Record]) -> Iterator[str]:
    bad = [r for r in records if r.status != "ok"]
    if bad:
        yield "<h2>Submissions that need a look</h2>"
        yield _table(["submission", "students", "status", "message"],
                     [(r.source, ", ".join(s.name or s.id for s in r.students), r.status,
                       _short(r.message, 200)) for r in bad])


def _similarity(summary: BatchSummary, threshold: float) -> Iterator[str]:
    yield "<h2>Similar submissions</h2>"
    pairs = summary.pairs
    flagged = [p for p in pairs if p.jaccard >= threshold]
    yield (f"<p>{len(flagged)} pair(s) at or above the threshold (Jaccard {threshold:g}) "
           f"among {len(summary.codes)} readable submissions. Identifiers, comments, "
           "docstrings and layout are ignored, and so is the template's code. A high score is "
           "a reason to look, not a verdict.</p>")
    shown = flagged + [p for p in pairs if p.jaccard < threshold][:5]
    if not shown:
        return
    rows = [(i, p.a, p.b, f"{p.jaccard:.2f}", f"{p.containment:.2f}", p.shared,
             "flagged" if p.jaccard >= threshold else "") for i, p in enumerate(shown, 1)]
    yield _table(["rank", "submission", "submission", "Jaccard", "containment",
                  "shared fingerprints", ""], rows)
    for i, pair in enumerate(flagged[:20], 1):
        table = similarity.side_by_side(summary.codes[pair.a], summary.codes[pair.b],
                                        summary.template, escape(pair.a), escape(pair.b))
        yield (f"<details{' open' if i == 1 else ''}><summary class='flag'>#{i} "
               f"{escape(pair.a)} / {escape(pair.b)}: Jaccard {pair.jaccard:.2f}</summary>"
               f"<p class='muted'>The students' own lines (template lines left out), side "
               f"by side; plain lines are identical, coloured ones differ.</p>{table}"
               f"</details>")


# --- helpers ---------------------------------------------------------------------------------


class _Png:
    data = ""


@contextmanager
def _figure(width: float, height: float) -> Iterator[tuple[_Png, Any]]:
    """A figure rendered to a base64 PNG on exit (no pyplot: no global state, no GUI)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=90)
    out = _Png()
    yield out, fig.subplots()
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    out.data = base64.b64encode(buffer.getvalue()).decode("ascii")


def _figs(*pngs: str) -> str:
    return "<div class='figs'>" + "".join(
        f"<img alt='figure' src='data:image/png;base64,{p}'>" for p in pngs) + "</div>"


def _table(header: list[str], rows: list[tuple[Any, ...]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    numeric = isinstance(value, int | float) or (isinstance(value, str) and _numeric(value))
    return f"<td{' class=n' if numeric else ''}>{escape(str(value))}</td>"


def _numeric(text: str) -> bool:
    return bool(text) and text.rstrip("%").replace(".", "", 1).replace(" / ", "").isdigit()


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
