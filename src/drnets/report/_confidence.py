"""The report's views of how sure the answer is: confidence and unexplained-signal maps, the
reliability diagram (with a truth), unknown-phase candidates, and the point viewer's lines."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ..core import Solution
from ..core.constants import CONFIDENCE_PRESENCE, CONFIDENT
from . import _html as H
from . import _static as S

#: Alternatives shown per point in the viewer.
VIEWER_ALTERNATIVES = 3


def point_lines(solution: Solution, i: int) -> list[str]:
    """The viewer's lines for point i: its best sets with probabilities, its unexplained peaks."""
    lines = []
    alts = solution.alternatives
    if alts is not None:
        sets = alts.at(i)[:VIEWER_ALTERNATIVES]
        if sets:
            text = ", ".join(f"{'+'.join(solution.labels[k] for k in s) or '(none)'} {p:.2f}" for s, p in sets)
            lines.append(f"alternatives: {text}")
    u = solution.unexplained
    if u is not None:
        pk = u.peaks_at(i)
        if pk.size:
            flag = " (flagged)" if u.flag[i] else ""
            lines.append(f"unexplained peaks{flag}: " + ", ".join(f"{q:.2f}" for q in pk[:8, 0]))
    return lines


def reliability_figure(path: Path, table: dict[str, Any]) -> Path:
    """The reliability diagram: observed frequency against predicted probability, per bin."""
    fig = Figure(figsize=(4.6, 4.2), dpi=100)
    ax = fig.add_subplot(111)
    ax.plot([0, 1], [0, 1], color="#999", lw=1, ls="--", label="perfect calibration")
    mp, fr, cnt = (np.asarray(table[k], dtype=float) for k in ("mean_prob", "frequency", "count"))
    ok = cnt > 0
    ax.plot(mp[ok], fr[ok], "o-", color="#1f77b4", label=f"this answer (ECE {table['ece']:.3f})")
    for x, y, c in zip(mp[ok], fr[ok], cnt[ok]):
        ax.annotate(str(int(c)), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7, color="#555")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted probability of presence")
    ax.set_ylabel("observed frequency in the truth")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    return path


def confidence_section(
    out: Path,
    solution: Solution,
    elements: Any,
    comp: np.ndarray,
    truth: np.ndarray | None = None,
) -> tuple[str, dict[str, Path]] | None:
    """The report's confidence section (HTML) and its PNGs; None where the answer has no probabilities.

    ``truth`` (N, P) are true fractions aligned with the solution's labels, for the reliability diagram.
    """
    from ..evaluate import reliability

    alts, u = solution.alternatives, solution.unexplained
    if alts is None and u is None and solution.probabilities is None:
        return None
    png: dict[str, Path] = {}
    body = []
    maps = []
    if alts is not None:
        maps.append(("probability of the chosen phase set", np.nan_to_num(alts.chosen), "viridis", 1.0))
    if u is not None:
        maps.append(("unexplained signal (strongest unexplained peak / strongest peak)", u.score, "magma_r", None))
    n = comp.shape[0]
    for name, values, cmap, top in maps:
        key = "confidence_map" if "chosen" in name else "unexplained_map"
        png[key] = S.value_maps(
            out / f"{key}.png",
            elements,
            comp,
            np.asarray(values, dtype=float)[:, None],
            [name],
            [0],
            present=np.ones((n, 1), dtype=bool),
            what=name,
            cmap=cmap,
            vmin=0.0,
            vmax=top if top is not None else max(float(np.max(values, initial=0.0)), 1e-3),
        )
        body.append(H.png_tag(png[key], name, f"{key}-png"))
    rows = []
    if alts is not None:
        chosen = np.asarray(alts.chosen, dtype=float)
        rows.append([f"points whose chosen set has probability < {CONFIDENT:g}", int((~(chosen >= CONFIDENT)).sum())])
        rows.append(["mean probability of the chosen set", float(np.nanmean(chosen)) if chosen.size else "–"])
    if u is not None:
        rows.append(["points flagged for unexplained signal", int(u.flag.sum())])
        rows.append(["unexplained peaks", int(u.peaks.shape[0])])
    body.insert(0, H.table(rows))
    if truth is not None and solution.probabilities is not None:
        level = float((solution.metadata or {}).get("parameters", {}).get("presence_level", CONFIDENCE_PRESENCE))
        table = reliability(solution.probabilities, np.asarray(truth) >= level)
        png["reliability"] = reliability_figure(out / "reliability.png", table)
        body.append(
            "<div style='max-width:480px'>"
            + H.png_tag(png["reliability"], "reliability diagram", "reliability-png")
            + "</div>"
            + f"<p class=muted>expected calibration error {table['ece']:.4f} over {table['pairs']} (point, phase) "
            f"pairs, presence at {level:g}</p>"
        )
    if u is not None and u.candidates:
        cand_rows = []
        for k, c in enumerate(u.candidates, start=1):
            m = c.get("matches") or []
            cand_rows.append(
                [
                    k,
                    len(c["points"]),
                    ", ".join(f"{v:.2f}" for v in c["peaks"]),
                    ", ".join(f"{html.escape(d['label'])} ({d['score']:.2f})" for d in m[:3]) or "–",
                ]
            )
        body.append(
            "<h3>unknown-phase candidates</h3>"
            + H.table(cand_rows, ["#", "points", "peaks (Q, nm⁻¹)", "best matching structures"])
        )
    return "\n".join(body), png
