"""
===========================================================
Predicting the micro-expressions of a long video: the steps
===========================================================

What ``skmer predict VIDEO --model FILE`` does with a video nobody annotated,
step by step through the Python API (:mod:`skmer.predict`):
:func:`~skmer.predict.predict_long_video` follows the face, spots the intervals
of facial movement with :class:`~skmer.spotting.MicroExpressionSpotter`, and
classifies the onset -> apex pair of every interval;
:func:`~skmer.plotting.plot_long_prediction` draws the timeline and the main
interval, :func:`~skmer.predict.predict_video` handles one clip whose onset and
apex are known.

The face is ``skimage.data.astronaut()`` (public domain), made into a 4 s video
at 30 fps with a little sensor noise, three known micro-movements
(:func:`~skmer.spotting.inject_micro_movements`: smooth local warps of the brow,
eye or mouth regions) and, at 3.2 s, the head sliding sideways by 3 pixels in
a quarter of a second.  The model is a *demo* model trained on synthetic faces
(what the docs build can train in seconds): its answers mean nothing on a real
face, and the prediction says so.  The guide :doc:`/your_own_video` trains a real one.
"""

import tempfile
from pathlib import Path

import cv2
import matplotlib.pyplot as plt
import numpy as np
from skimage.color import rgb2gray
from skimage.data import astronaut

from skmer.datasets import make_micro_expressions
from skmer.plotting import plot_long_prediction, plot_timeline
from skmer.predict import make_predict_pipeline, predict_long_video
from skmer.spotting import inject_micro_movements

fps = 30.0
face = (rgb2gray(astronaut())[10:266, 90:346] * 255).astype(np.float64)
rng = np.random.default_rng(0)
frames = []
for t in range(120):
    shift = 3.0 * min(1.0, max(0.0, (t - 96) / 8.0))  # the head slides at 3.2 s
    moved = cv2.warpAffine(face, np.float32([[1, 0, shift], [0, 1, 0]]),
                           face.shape[::-1], borderMode=cv2.BORDER_REPLICATE)
    frames.append(np.clip(moved + rng.normal(0, 1.0, face.shape), 0, 255))
video = np.stack(frames).astype(np.uint8)
video, truth = inject_micro_movements(video, fps=fps, n=3, amplitude=(1.0, 1.5),
                                      random_state=2)
for m in truth:
    print(f"injected: frames {m.onset}-{m.apex}-{m.offset} ({m.region}, "
          f"{m.amplitude:.2f} px)")

# %%
# The video goes to disk as a user's file would (lossless), and a demo model is
# trained on synthetic clips: onset->apex TV-L1 flow in the composite format
# (28x28, u, v, strain, min-max scaled) -> an RBF SVM.

folder = Path(tempfile.mkdtemp()) / "astronaut_video"
folder.mkdir()
for i, frame in enumerate(video):
    cv2.imwrite(str(folder / f"frame{i:04d}.png"), frame)

X, y, _ = make_micro_expressions(n_clips=30, n_subjects=3, frame_shape=(64, 64),
                                 random_state=0)
model = make_predict_pipeline("svm", random_state=0).fit(X, y)
metadata = {"frame_shape": [64, 64], "trained_on": "synthetic (30 clips, seed 0)"}

# %%
# Spotting and classifying.  A folder of frames has no frame rate: it is given.

result = predict_long_video(model, folder, fps=fps, metadata=metadata)
for i, iv in enumerate(result.intervals, 1):
    t = iv.times()
    print(f"{i}: frames {iv.onset}-{iv.apex}-{iv.offset} "
          f"({t['onset']:.2f}-{t['offset']:.2f} s), {iv.kind}, head motion "
          f"{iv.head_motion:.2f} px, predicted {iv.label} "
          f"{max(iv.proba):.2f}")
for warning in result.warnings:
    print("warning:", warning)

# %%
# The picture ``skmer predict`` writes: the spotter's motion score over time with
# its threshold, every interval shaded (orange: micro, grey: macro, hatched: head
# motion) and labelled, and the onset, apex, flow and probabilities of the
# strongest micro interval without head motion.  The warning about the demo model
# is in red under the title.

fig = plot_long_prediction(result)

# %%
# The timeline alone, on axes of your own.

fig, ax = plt.subplots(figsize=(8, 2.6))
plot_timeline(result, ax=ax)
for m in truth:  # the injected ground truth, for comparison
    ax.axvspan(m.onset / fps, (m.offset + 1) / fps, ymax=0.05, color="tab:green")
ax.set_title("spotted intervals (shaded) and the injected ones (green ticks)",
             fontsize=9)
fig.tight_layout()
plt.show()
