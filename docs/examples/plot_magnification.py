"""
===================================
Eulerian motion magnification
===================================

Micro-expressions move the face by a pixel or less.
:class:`~skmer.preprocessing.Magnifier` amplifies that motion before the flow or
the features are computed: ``mode="temporal"`` band-passes every pixel over time
and adds the amplified band back (Wu et al. 2012); ``mode="two-frame"`` keeps the
onset and the apex frame and amplifies their difference, level by level of a
Laplacian pyramid (:func:`~skmer.preprocessing.magnify_pair`).

The motion is amplified, not just the contrast: the optical flow measured between
the magnified frames grows with ``alpha``.
"""

import matplotlib.pyplot as plt
import numpy as np

from skmer.datasets import make_micro_expressions
from skmer.preprocessing import Magnifier, optical_flow

X, y, groups = make_micro_expressions(
    n_clips=3, n_subjects=1, frame_shape=(96, 96), n_frames=12, amplitude=0.6,
    random_state=1,
)
clip = X[int(np.flatnonzero(y == "positive")[0])]
print(f"clip {clip.id} ({clip.label}), onset {clip.onset}, apex {clip.apex}")

# %%
# A frame before and after magnification.  ``mode="two-frame"`` returns clips of
# two frames (onset, apex); the metadata follows (``apex`` is now 1).

alphas = [0, 5, 10, 20]
fig, axes = plt.subplots(2, len(alphas), figsize=(8.4, 4.6))
for j, alpha in enumerate(alphas):
    pair = Magnifier(alpha=alpha, mode="two-frame").fit_transform([clip])[0]
    onset, apex = np.asarray(pair, dtype=float)
    flow = optical_flow(onset, apex, method="farneback")
    peak = np.linalg.norm(flow, axis=-1).max()
    axes[0, j].imshow(apex, cmap="gray", vmin=0, vmax=255)
    axes[0, j].set_title("apex, original" if alpha == 0 else f"apex, alpha={alpha}",
                         fontsize=9)
    axes[1, j].imshow(apex - onset, cmap="RdBu_r", vmin=-60, vmax=60)
    axes[1, j].set_title(f"apex - onset\npeak flow {peak:.2f} px", fontsize=9)
for ax in axes.ravel():
    ax.set_axis_off()
fig.tight_layout()

# %%
# ``mode="temporal"`` keeps every frame: here the mean absolute difference from
# the onset frame over time, before and after magnification of the band
# 0.4-3 Hz at the clip's 30 frames per second.

magnified = Magnifier(alpha=10, mode="temporal").fit_transform([clip])[0]
fig, ax = plt.subplots(figsize=(6, 2.6))
for frames, name in [(clip, "original"), (magnified, "alpha = 10")]:
    f = np.asarray(frames, dtype=float)
    ax.plot(np.abs(f - f[clip.onset]).mean(axis=(1, 2)), marker="o", label=name)
ax.axvline(clip.apex, color="gray", ls=":", label="apex")
ax.set_xlabel("frame")
ax.set_ylabel("mean |frame - onset|")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
