"""The report's plots, each drawn with matplotlib from release tables and returned as
inline SVG text (no file, no network needed to view it)."""

import io

import matplotlib

matplotlib.use("Agg")  # no screen: render to files only

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

RESPONSE_COLOURS = {"CR": "#1a9850", "PR": "#66bd63", "MR": "#a6d96a", "SD": "#fee08b",
                    "PD": "#d73027", "NE": "#999999", "MISSING": "#dddddd"}
CLASS_COLOURS = {"improved": "#1a9850", "unchanged": "#cccccc", "worsened": "#d73027",
                 "hidden": "#ffffff"}
PHASE_COLOURS = {"regular": "#2166ac", "salvage": "#f4a582"}
AT_RISK_MONTHS = [0, 12, 24, 36, 48, 60]


def _svg(figure: plt.Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog: the SVG is inlined in HTML


def at_risk(curve: pd.DataFrame, months: float) -> int:
    """Episodes still at risk at ``months``: those at risk at the first time at or after it
    (after the last time, none)."""
    later = curve[curve["months"] >= months]
    return int(later["at_risk"].iloc[0]) if len(later) else 0


def kaplan_meier(curves: pd.DataFrame, endpoints: list[str]) -> str:
    """One panel per endpoint: a step curve with its 95 % band per phase, and the numbers
    at risk below."""
    figure, axes = plt.subplots(1, len(endpoints), figsize=(5 * len(endpoints), 4.6),
                                squeeze=False)
    for axis, endpoint in zip(axes[0], endpoints, strict=True):
        lines = []
        for phase, colour in PHASE_COLOURS.items():
            curve = curves[(curves["endpoint"] == endpoint) & (curves["stratum"] == phase)]
            if curve.empty:
                continue
            axis.step(curve["months"], curve["survival"], where="post", color=colour,
                      label=phase)
            axis.fill_between(curve["months"], curve["ci_lower"], curve["ci_upper"],
                              step="post", color=colour, alpha=0.2)
            lines.append((phase, [at_risk(curve, m) for m in AT_RISK_MONTHS]))
        axis.set(title=endpoint, xlabel="months since C1D1", ylabel="probability",
                 ylim=(0, 1.02), xlim=(0, max(AT_RISK_MONTHS)))
        if lines:
            axis.legend(loc="upper right")
        else:  # a registry with no episode yet: an empty panel that says why
            axis.text(0.5, 0.5, "no episodes", transform=axis.transAxes, ha="center")
        rows = "\n".join(f"{phase:>8}  " + " ".join(f"{n:>5}" for n in counts)
                         for phase, counts in lines)
        header = "at risk   " + " ".join(f"{m:>5}" for m in AT_RISK_MONTHS)
        axis.text(0, -0.32, f"{header}\n{rows}", transform=axis.transAxes, family="monospace",
                  fontsize=8, va="top")
    return _svg(figure)


def waterfall(best: pd.DataFrame, limits: tuple[float, float]) -> str:
    """Best % change of the sum of diameters per episode, sorted, coloured by best
    response; dashed lines at the criterion's MR and PR limits."""
    data = best.dropna(subset=["best_percent_change_from_baseline"]).sort_values(
        "best_percent_change_from_baseline", ascending=False)
    figure, axis = plt.subplots(figsize=(10, 4))
    colours = [RESPONSE_COLOURS.get(r, "#999999") for r in data["best_response"]]
    polygons, faces = _bar_runs(data["best_percent_change_from_baseline"].to_numpy(float),
                                colours)
    axis.add_collection(PolyCollection(polygons, facecolors=faces, linewidths=0))
    axis.autoscale_view()
    for limit in limits:
        axis.axhline(limit, color="black", linestyle="--", linewidth=0.8)
    axis.set(xlabel="episodes", ylabel="best % change in SLD", xticks=[])
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in RESPONSE_COLOURS.values()]
    axis.legend(handles, RESPONSE_COLOURS.keys(), ncol=7, loc="upper right", fontsize=8)
    return _svg(figure)


def _bar_runs(heights: np.ndarray, colours: list[str]) -> tuple[list[np.ndarray], list[str]]:
    """Bars of width 1 centred on 0, 1, 2, … as one step outline per run of neighbouring
    bars of one colour: the picture of a bar per episode, but a few SVG paths instead of
    one artist per episode (tens of thousands in a registry, slow and megabytes large)."""
    starts = [i for i in range(len(colours)) if i == 0 or colours[i] != colours[i - 1]]
    polygons = []
    ends = [*starts[1:], len(colours)] if starts else []
    for start, end in zip(starts, ends, strict=True):
        bars = np.arange(start, end)
        xs = np.concatenate([[start - 0.5], np.column_stack([bars - 0.5, bars + 0.5]).ravel(),
                             [end - 0.5]])
        ys = np.concatenate([[0.0], np.repeat(heights[start:end], 2), [0.0]])
        polygons.append(np.column_stack([xs, ys]))
    return polygons, [colours[start] for start in starts]


def swimmer(lanes: pd.DataFrame) -> str:
    """One lane per patient: episodes as bars from their C1D1, follow-up as a thin line to
    the OS end, first progression (×) and death (■) marked."""
    figure, axis = plt.subplots(figsize=(10, max(3, 0.22 * lanes["lane"].nunique())))
    for row in lanes.itertuples():
        axis.hlines(row.lane, row.start_months, row.follow_up_months, color="#bbbbbb",
                    linewidth=1)
        axis.barh(row.lane, row.treatment_months, left=row.start_months, height=0.6,
                  color=PHASE_COLOURS.get(row.phase, "#999999"))
        if pd.notna(row.progression_months):
            axis.plot(row.progression_months, row.lane, marker="x", color="black")
        if row.died:
            axis.plot(row.follow_up_months, row.lane, marker="s", color="#d73027")
    axis.set(xlabel="months since first C1D1", yticks=[], ylabel="patients")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in PHASE_COLOURS.values()]
    axis.legend(handles, PHASE_COLOURS.keys(), loc="lower right", fontsize=8)
    return _svg(figure)


def qol_change_bars(distribution: pd.DataFrame) -> str:
    """Per scale, the shares improved / unchanged / worsened among patients impaired at
    baseline; hidden (small) cells are left white and labelled."""
    data = distribution.pivot(index="scale", columns="classification", values="share")
    figure, axis = plt.subplots(figsize=(8, 0.35 * len(data) + 1))
    left = pd.Series(0.0, index=data.index)
    for kind in ("improved", "unchanged", "worsened"):
        share = data.get(kind, pd.Series(0.0, index=data.index)).fillna(0.0)
        axis.barh(data.index, share, left=left, color=CLASS_COLOURS[kind], label=kind)
        left += share
    axis.barh(data.index, 1 - left, left=left, color=CLASS_COLOURS["hidden"],
              edgecolor="#999999", hatch="//", label="hidden (small counts)")
    axis.set(xlim=(0, 1), xlabel="share of patients impaired at baseline")
    axis.legend(loc="lower right", fontsize=8)
    return _svg(figure)
