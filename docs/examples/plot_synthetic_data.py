"""
=========================================
The synthetic micro-expressions
=========================================

:func:`~skmer.datasets.make_micro_expressions` warps one real face
(``skimage.data.astronaut()``) into many "subjects" and plays, in every clip, a
small action-unit-like deformation whose place and direction depend on the class.
Subjects differ far more than classes do in a single frame; the motion between the
onset and the apex frame is what tells the classes apart -- the situation of real
micro-expression corpora, at the size of a test.
"""

import matplotlib.pyplot as plt
import numpy as np

from skmer.datasets import make_micro_expressions

X, y, groups = make_micro_expressions(
    n_clips=9, n_subjects=3, frame_shape=(64, 64), amplitude=1.5, random_state=0
)
print(f"{len(X)} clips of shape {X[0].shape}, classes {sorted(set(y.tolist()))}")
clip = X[0]
print(f"clip {clip.id}: subject {clip.subject}, label {clip.label}, "
      f"onset {clip.onset}, apex {clip.apex}, offset {clip.offset}, fps {clip.fps}")

# %%
# One clip per class: the onset frame, the apex frame and their difference
# (amplified for display).  The expression is a sub-pixel to one-pixel motion:
# invisible in a single frame, plain in the difference.

fig, axes = plt.subplots(3, 3, figsize=(6.6, 6.6))
for row, label in enumerate(["negative", "positive", "surprise"]):
    clip = X[int(np.flatnonzero(y == label)[0])]
    frames = np.asarray(clip, dtype=float)
    onset, apex = frames[clip.onset], frames[clip.apex]
    axes[row, 0].imshow(onset, cmap="gray", vmin=0, vmax=255)
    axes[row, 1].imshow(apex, cmap="gray", vmin=0, vmax=255)
    axes[row, 2].imshow(apex - onset, cmap="RdBu_r", vmin=-40, vmax=40)
    axes[row, 0].set_ylabel(f"{label}\n{clip.subject}")
for ax, title in zip(axes[0], ["onset", "apex", "apex - onset"]):
    ax.set_title(title)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()

# %%
# The temporal profile: the mean absolute difference from the onset frame rises
# to the apex and falls back by the offset.

fig, ax = plt.subplots(figsize=(6, 2.6))
for clip, label in zip(X[:3], y[:3]):
    frames = np.asarray(clip, dtype=float)
    energy = np.abs(frames - frames[clip.onset]).mean(axis=(1, 2))
    ax.plot(energy, marker="o", label=f"{label} (apex {clip.apex})")
    ax.axvline(clip.apex, color=ax.lines[-1].get_color(), ls=":")
ax.set_xlabel("frame")
ax.set_ylabel("mean |frame - onset|")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
