"""
====================================
LBP-TOP histograms
====================================

LBP-TOP (Zhao & Pietikäinen 2007) codes every voxel of a clip with local binary
patterns on three orthogonal planes: XY (appearance), XT and YT (horizontal and
vertical motion).  :func:`~skmer.features.lbp_top` counts the uniform codes (59
bins for 8 neighbours) per block and per plane; :class:`~skmer.features.LBPTOP`
does it for every clip and feeds a classifier.
"""

import matplotlib.pyplot as plt
import numpy as np

from skmer.datasets import make_micro_expressions
from skmer.features import LBPTOP, lbp_top, lbp_top_codes

X, y, groups = make_micro_expressions(
    n_clips=3, n_subjects=1, frame_shape=(64, 64), n_frames=12, random_state=0
)
clip = X[0]

# %%
# The codes of the three planes for the middle frame of the clip.

codes, margins = lbp_top_codes(clip)
print({plane: c.shape for plane, c in codes.items()}, "margins", margins)
fig, axes = plt.subplots(1, 4, figsize=(8.4, 2.4))
axes[0].imshow(clip.frames[len(clip.frames) // 2], cmap="gray")
axes[0].set_title("frame", fontsize=9)
for ax, plane in zip(axes[1:], ["XY", "XT", "YT"]):
    c = codes[plane.lower()]
    ax.imshow(c[len(c) // 2], cmap="nipy_spectral")
    ax.set_title(f"{plane} codes", fontsize=9)
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()

# %%
# One histogram per plane over the whole face (a 1 x 1 block grid): 3 x 59 bins,
# each plane normalised to sum 1.  The last bin collects the non-uniform codes.

hist = lbp_top(clip, n_blocks=1).reshape(3, -1)
fig, axes = plt.subplots(3, 1, figsize=(7, 4.6), sharex=True)
for ax, h, plane in zip(axes, hist, ["XY", "XT", "YT"]):
    ax.bar(np.arange(h.size), h, width=0.8)
    ax.set_ylabel(plane)
axes[-1].set_xlabel("uniform LBP bin")
fig.suptitle("LBP-TOP histogram of one clip", fontsize=10)
fig.tight_layout()

# %%
# The estimator gives 5 x 5 blocks x 3 planes x 59 bins = 4425 features per clip,
# with feature names.

lbptop = LBPTOP().fit(X)
features = lbptop.transform(X)
print(features.shape, lbptop.get_feature_names_out()[:3])
plt.show()
