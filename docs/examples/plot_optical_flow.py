"""
=======================================
Onset-apex optical flow and strain
=======================================

:func:`~skmer.preprocessing.optical_flow` computes dense flow between two frames
(TV-L1, Farnebäck or DIS, all from OpenCV);
:func:`~skmer.preprocessing.optical_strain` derives the optical strain, the
magnitude of the symmetric flow gradient, which highlights where the skin
stretches.  :class:`~skmer.preprocessing.FlowExtractor` turns every clip into a
fixed-size ``(u, v, strain)`` image, the input of STSTNet-style networks.
"""

import matplotlib.pyplot as plt
import numpy as np

from skmer.datasets import make_micro_expressions
from skmer.preprocessing import FlowExtractor, optical_flow, optical_strain

X, y, groups = make_micro_expressions(
    n_clips=3, n_subjects=1, frame_shape=(96, 96), amplitude=1.5, random_state=2
)

# %%
# The flow field of one clip per class, drawn over the apex frame, and its strain.

fig, axes = plt.subplots(2, 3, figsize=(8.4, 5.8))
step = 6
for j, label in enumerate(["negative", "positive", "surprise"]):
    clip = X[int(np.flatnonzero(y == label)[0])]
    onset, apex = clip.frames[clip.onset], clip.frames[clip.apex]
    flow = optical_flow(onset, apex, method="tvl1")
    strain = optical_strain(flow)
    rows, cols = np.mgrid[step // 2:96:step, step // 2:96:step]
    u, v = flow[rows, cols, 0], flow[rows, cols, 1]
    axes[0, j].imshow(apex, cmap="gray")
    axes[0, j].quiver(cols, rows, u, v, np.hypot(u, v), cmap="autumn",
                      angles="xy", scale_units="xy", scale=0.25, width=0.006)
    axes[0, j].set_title(f"{label}: flow (x4)", fontsize=9)
    axes[1, j].imshow(strain, cmap="magma")
    axes[1, j].set_title(f"optical strain (max {strain.max():.2f})", fontsize=9)
for ax in axes.ravel():
    ax.set_axis_off()
fig.tight_layout()

# %%
# The estimator: every clip becomes a ``(3, 28, 28)`` image of ``u``, ``v`` and the
# strain, each channel min-max scaled like the MEGC2019 flow images.

flows = FlowExtractor(method="tvl1", strain=True, output_size=(28, 28),
                      scale="minmax").fit_transform(X)
print("flow images:", flows.shape, flows.dtype)
fig, axes = plt.subplots(1, 3, figsize=(6.6, 2.4))
for ax, channel, name in zip(axes, flows[0], ["u", "v", "strain"]):
    ax.imshow(channel, cmap="gray")
    ax.set_title(f"{name} ({y[0]})", fontsize=9)
    ax.set_axis_off()
fig.tight_layout()
plt.show()
