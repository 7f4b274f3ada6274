"""Pictures of skmer's results: confusion matrices, flow fields, predictions, timelines.

The one home of skmer's plotting.  Every function draws with matplotlib (imported
when a function is called, so ``import skmer.plotting`` stays cheap) and never
chooses a backend: matplotlib uses ``$MPLBACKEND`` when set and falls back to the
non-interactive ``Agg`` backend on a machine without a display, so saving a figure
works in a terminal, a notebook or a batch job alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from skmer._core._utils import _plain

if TYPE_CHECKING:
    import os

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from numpy.typing import ArrayLike

    from skmer.predict import LongVideoPrediction, VideoPrediction

__all__ = ["flow_to_rgb", "plot_confusion_matrix", "plot_long_prediction",
           "plot_prediction", "plot_timeline"]


def flow_to_rgb(flow: ArrayLike, max_magnitude: float | None = None
                ) -> tuple[np.ndarray, float]:
    """Colour-code an optical flow field: hue is the direction, value the speed.

    Parameters
    ----------
    flow : array-like of shape (height, width, 2)
        Displacements ``u`` (along x, to the right) and ``v`` (along y, downwards)
        in pixels, as :func:`skmer.preprocessing.optical_flow` returns them.
    max_magnitude : float, default=None
        Speed shown at full brightness (faster pixels saturate); the 99th
        percentile of the speeds when None (1.0 for a still field).

    Returns
    -------
    rgb : ndarray of shape (height, width, 3)
        Colours in ``[0, 1]`` (hue 0 = red = motion to the right, counter-clockwise
        on screen).
    max_magnitude : float
        The speed shown at full brightness.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.plotting import flow_to_rgb
    >>> flow = np.zeros((2, 2, 2))
    >>> flow[0, 0] = (1.0, 0.0)  # one pixel moves one pixel to the right
    >>> rgb, top = flow_to_rgb(flow, max_magnitude=1.0)
    >>> rgb[0, 0].tolist(), rgb[1, 1].tolist(), top
    ([1.0, 0.0, 0.0], [0.0, 0.0, 0.0], 1.0)
    """
    from matplotlib.colors import hsv_to_rgb

    flow = np.asarray(flow, dtype=float)
    if flow.ndim != 3 or flow.shape[-1] != 2:
        raise ValueError(f"flow must have shape (height, width, 2); got "
                         f"{flow.shape}.")
    u, v = flow[..., 0], flow[..., 1]
    mag = np.hypot(u, v)
    if max_magnitude is None:
        max_magnitude = float(np.percentile(mag, 99)) or 1.0
    hsv = np.stack([(np.arctan2(-v, u) / (2 * np.pi)) % 1.0,
                    np.ones_like(u), np.clip(mag / max_magnitude, 0, 1)], axis=-1)
    return hsv_to_rgb(hsv), max_magnitude


def plot_confusion_matrix(cm: ArrayLike, labels: list | None = None, *,
                          ax: Axes | None = None, normalize: bool = True,
                          title: str | None = None) -> Axes:
    """Plot a confusion matrix, optionally row-normalised to recall.

    :meth:`skmer.model_selection.LOSOReport.plot` draws its pooled matrix with it.

    Parameters
    ----------
    cm : array-like of shape (n_classes, n_classes)
        Counts; rows are the true classes, columns the predicted ones.
    labels : list, default=None
        Class names, in the order of the rows (``0..n_classes-1`` when None).
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure when None.
    normalize : bool, default=True
        Colour and print each row divided by its total (the recall of the class),
        with the count in brackets.
    title : str, default=None
        Title of the axes.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> from skmer.plotting import plot_confusion_matrix
    >>> ax = plot_confusion_matrix([[8, 2], [1, 9]], ["negative", "positive"])
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('predicted', 'true')
    """
    import matplotlib.pyplot as plt

    cm = np.asarray(cm, dtype=float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square matrix; got shape {cm.shape}.")
    names = ([str(v) for v in labels] if labels is not None
             else [str(i) for i in range(cm.shape[0])])
    if len(names) != cm.shape[0]:
        raise ValueError(f"labels has {len(names)} names for a {cm.shape[0]}-class "
                         "confusion matrix.")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 3.8))
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            txt = f"{shown[i, j]:.2f}\n({int(cm[i, j])})" if normalize else \
                f"{int(cm[i, j])}"
            ax.text(j, i, txt, ha="center", va="center", fontsize=8,
                    color="white" if shown[i, j] > 0.6 * shown.max() else "black")
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if title is not None:
        ax.set_title(title, fontsize=10)
    ax.figure.tight_layout()
    return ax


def _draw_panels(axes, result, *, title_prefix=""):
    """Onset, apex, flow (and probabilities) panels of one prediction."""
    cmap = None if result.onset_frame.ndim == 3 else "gray"
    axes[0].imshow(result.onset_frame, cmap=cmap, vmin=0, vmax=255)
    axes[0].set_title(f"{title_prefix}onset (frame {result.onset})", fontsize=9)
    how = "given" if getattr(result, "apex_given", False) else "spotted"
    axes[1].imshow(result.apex_frame, cmap=cmap, vmin=0, vmax=255)
    axes[1].set_title(f"apex (frame {result.apex}, {how})", fontsize=9)
    rgb, max_mag = flow_to_rgb(result.flow)
    axes[2].imshow(rgb)
    h, w = result.flow.shape[:2]
    step = max(1, min(h, w) // 10)
    yy, xx = np.mgrid[step // 2:h:step, step // 2:w:step]
    axes[2].quiver(xx, yy, result.flow[yy, xx, 0], -result.flow[yy, xx, 1],
                   color="black", angles="xy", scale_units="xy",
                   scale=max_mag / step if max_mag > 0 else 1.0, width=0.006)
    head = (f"\nhead motion {result.head_motion:.1f} px"
            if getattr(result, "is_head_motion", False) else "")
    axes[2].set_title(f"TV-L1 flow onset->apex (max {max_mag:.2f} px){head}",
                      fontsize=9, color="tab:red" if head else "black")
    for ax in axes[:3]:
        ax.set_xticks([])
        ax.set_yticks([])
    probs = result.probabilities()
    if probs is not None and len(axes) > 3:
        names = [str(k) for k in probs]
        vals = list(probs.values())
        colours = ["tab:red" if k == _plain(result.label) else "tab:gray"
                   for k in probs]
        axes[3].barh(names, vals, color=colours)
        axes[3].set_xlim(0, 1)
        axes[3].invert_yaxis()
        axes[3].set_title("class probabilities", fontsize=9)
        for i, p in enumerate(vals):
            axes[3].text(min(p + 0.02, 0.8), i, f"{p:.2f}", va="center", fontsize=8)


def _label_text(result):
    text = f"predicted: {_plain(result.label)}"
    probs = result.probabilities()
    if probs is not None:
        text += f" ({probs.get(_plain(result.label), max(probs.values())):.2f})"
    return text


def _warning_lines(warnings, width=150):
    import textwrap

    return [line for w in warnings
            for line in textwrap.wrap("warning: " + w, width=width)]


def _save(fig, path, dpi):
    import matplotlib.pyplot as plt

    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi)
        plt.close(fig)
    return fig


def plot_prediction(result: VideoPrediction, path: str | os.PathLike | None = None,
                    *, dpi: int = 120) -> Figure:
    """Picture of a video prediction: onset, apex, flow, label and probabilities.

    What ``skmer predict`` writes next to its printed result for one clip.  The
    prediction's warnings (a model trained on synthetic faces, head motion) are
    written in red under the title.

    Parameters
    ----------
    result : VideoPrediction
        From :func:`skmer.predict.predict_video`.
    path : str or path-like, default=None
        Save the figure there (PNG by its extension) and close it.
    dpi : int, default=120
        Resolution of the saved file.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure (closed when ``path`` is given).
    """
    import matplotlib.pyplot as plt

    has_proba = result.probabilities() is not None
    ncols = 4 if has_proba else 3
    lines = _warning_lines(getattr(result, "warnings", []) or [], 40 * ncols)
    top = 3.4 + 0.2 * len(lines)
    fig, axes = plt.subplots(1, ncols, figsize=(3.0 * ncols, top))
    _draw_panels(axes, result)
    fig.suptitle(f"{_label_text(result)}    [{Path(result.source).name}]",
                 fontsize=11, fontweight="bold")
    if lines:
        fig.text(0.5, 1 - 0.42 / top, "\n".join(lines), ha="center", va="top",
                 fontsize=7.5, color="tab:red")
    fig.tight_layout(rect=(0, 0, 1, 1 - (0.1 + 0.17 * len(lines)) * bool(lines)
                           / top))
    return _save(fig, path, dpi)


def plot_timeline(result: LongVideoPrediction, ax: Axes | None = None) -> Axes:
    """Timeline of a long-video prediction: motion score, intervals and labels.

    The spotter's motion score of every frame over time (and its threshold,
    dotted); every spotted interval shaded (orange: micro, grey: macro, hatched:
    mostly head motion) and labelled with its number, its predicted class and
    probability; the frames where the face was lost greyed out.

    Parameters
    ----------
    result : LongVideoPrediction
        From :func:`skmer.predict.predict_long_video`.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 2.8))
    fps = float(result.fps)
    # a frame's time: from the file's timestamps where the rate varies
    at = getattr(result, "frame_time", None) or (lambda i: i / fps)
    t = np.array([at(i) for i in range(result.n_frames)])
    end = at(result.n_frames)
    scores = np.asarray(result.scores, dtype=float)
    ax.plot(t, scores, color="black", lw=1.0, label="motion score")
    top = np.nanmax(scores) if np.isfinite(scores).any() else 1.0
    top = top if top > 0 else 1.0
    for i, iv in enumerate(result.intervals, 1):
        macro = iv.kind == "macro"
        colour = "tab:gray" if macro else "tab:orange"
        ax.axvspan(at(iv.onset), at(iv.offset + 1), color=colour,
                   alpha=0.3, hatch="///" if iv.is_head_motion else None, lw=0)
        ax.axvline(at(iv.apex), color=colour, lw=0.8, ls="--")
        probs = iv.probabilities()
        p = f" {probs[_plain(iv.label)]:.2f}" if probs else ""
        flag = (" head" if iv.is_head_motion else "") + (
            " blink" if getattr(iv, "is_blink", False) else "")
        x = min(max(at(iv.apex), 0.06 * end), 0.94 * end)
        ax.text(x, top * (1.02 + 0.12 * (i % 2)),
                f"{i}: {_plain(iv.label)}{p}{flag}", ha="center", va="bottom",
                fontsize=7, color="tab:red" if not (macro or flag) else "dimgray")
    if result.face_lost_at is not None:
        ax.axvspan(at(result.face_lost_at), end,
                   facecolor="white", edgecolor="lightsteelblue", hatch="xx",
                   lw=0)
        ax.text(at(result.face_lost_at), top * 0.5, "  face lost: not analysed",
                fontsize=8, va="center", color="black",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    handles = [ax.get_lines()[0]]
    threshold = getattr(result, "threshold", None)
    if threshold is not None:
        handles.append(ax.axhline(threshold, color="tab:blue", ls=":", lw=1.0,
                                  label="threshold"))
    ax.set_xlim(0, end)
    ax.set_ylim(0, top * 1.3)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("motion score")
    from matplotlib.patches import Patch

    handles += [Patch(color="tab:orange", alpha=0.3,
                                        label="micro interval"),
               Patch(color="tab:gray", alpha=0.3, label="macro interval"),
               Patch(facecolor="white", edgecolor="black", hatch="///",
                     label="head motion")]
    ax.legend(handles=handles, fontsize=7, loc="upper center", ncols=5,
              bbox_to_anchor=(0.5, -0.3), frameon=False)
    rate = (f"{fps:.3g} fps" if getattr(result, "frame_times", None) is None
            else f"a variable rate, {fps:.3g} fps where analysed")
    ax.set_title(f"{len(result.intervals)} interval(s) spotted in {end:.1f} s "
                 f"({result.n_frames} frames at {rate})", fontsize=9)
    return ax


def plot_long_prediction(result: LongVideoPrediction,
                         path: str | os.PathLike | None = None, *,
                         dpi: int = 120) -> Figure:
    """Picture of a long-video prediction: the timeline and the main interval.

    What ``skmer predict`` writes for a long video: the timeline
    (:func:`plot_timeline`) on top; below it the onset, apex, flow and class
    probabilities of the interval with the highest spotter score among the micro
    intervals without head motion or blink (else among all intervals); the
    warnings in red.

    Parameters
    ----------
    result : LongVideoPrediction
        From :func:`skmer.predict.predict_long_video`.
    path : str or path-like, default=None
        Save the figure there (PNG) and close it.
    dpi : int, default=120
        Resolution of the saved file.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure (closed when ``path`` is given).
    """
    import matplotlib.pyplot as plt

    lines = _warning_lines(result.warnings, 190)
    shown = _main_interval(result.intervals)
    height = 3.0 + (3.2 if shown is not None else 0) + 0.2 * len(lines)
    fig = plt.figure(figsize=(12, height))
    if shown is None:
        grid = fig.add_gridspec(1, 4)
        plot_timeline(result, fig.add_subplot(grid[0, :]))
        head = "no movement spotted"
    else:
        grid = fig.add_gridspec(2, 4, height_ratios=(3.0, 3.2))
        plot_timeline(result, fig.add_subplot(grid[0, :]))
        axes = [fig.add_subplot(grid[1, j]) for j in range(4)]
        k = next(i for i, iv in enumerate(result.intervals, 1) if iv is shown)
        _draw_panels(axes, shown, title_prefix=f"interval {k}: ")
        if shown.probabilities() is None:
            axes[3].axis("off")
        head = f"interval {k} of {len(result.intervals)}: {_label_text(shown)}"
    fig.suptitle(f"{head}    [{Path(result.source).name}]", fontsize=11,
                 fontweight="bold")
    if lines:
        fig.text(0.5, 1 - 0.42 / height, "\n".join(lines), ha="center", va="top",
                 fontsize=7.5, color="tab:red")
    fig.tight_layout(rect=(0, 0, 1, 1 - (0.1 + 0.17 * len(lines)) * bool(lines)
                           / height))
    return _save(fig, path, dpi)


def _main_interval(intervals):
    if not intervals:
        return None
    clean = [iv for iv in intervals if iv.kind == "micro" and not iv.is_head_motion
             and not getattr(iv, "is_blink", False)]
    return max(clean or intervals, key=lambda iv: iv.score or 0.0)
