"""
==============================================
Face detection, 68 landmarks and aligned crops
==============================================

:func:`~skmer.preprocessing.detect_face` (dlib's HOG detector) finds the face,
:func:`~skmer.preprocessing.face_landmarks` places the 68 iBUG points, and
:func:`~skmer.preprocessing.crop_face` warps every frame of a clip with one
similarity transform that puts the eyes at fixed places
(:func:`~skmer.preprocessing.face_alignment`).
:class:`~skmer.preprocessing.FaceCropper` does the same for every clip of a
dataset, inside a Pipeline.

The image is ``skimage.data.astronaut()`` (public domain).
"""

import matplotlib.pyplot as plt
import numpy as np
from skimage.data import astronaut

from skmer.preprocessing import FaceCropper, crop_face, detect_face, face_landmarks

image = astronaut()
box = detect_face(image)
landmarks = face_landmarks(image, box)
print("face box (left, top, right, bottom):", np.round(box, 1))
print("landmarks:", landmarks.shape)

# %%
# The crop of a (here: one-frame) clip, with its landmarks mapped into the crop.

crop = crop_face(image[None], landmarks=landmarks, output_size=(128, 128),
                 color="rgb")
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(7.5, 3.9),
                               gridspec_kw={"width_ratios": [1.5, 1]})
ax0.imshow(image)
left, top, right, bottom = box
ax0.add_patch(plt.Rectangle((left, top), right - left, bottom - top, fill=False,
                            color="yellow", lw=1.5))
ax0.plot(landmarks[:, 0], landmarks[:, 1], ".", color="cyan", ms=3)
ax0.set_title("detected face and 68 landmarks")
ax1.imshow(crop.frames[0])
ax1.plot(crop.landmarks[:, 0], crop.landmarks[:, 1], ".", color="cyan", ms=4)
ax1.set_title("aligned 128 x 128 crop")
for ax in (ax0, ax1):
    ax.set_axis_off()
fig.tight_layout()

# %%
# The estimator: a clip of three frames, cropped to 96 x 96 grey frames; the output
# clips keep their metadata.

from skmer.datasets import Clip  # noqa: E402

clip = Clip(np.stack([image] * 3), onset=0, apex=1, offset=2, fps=30.0, id="astro")
cropped = FaceCropper(output_size=(96, 96)).fit_transform([clip])
print(cropped[0].shape, cropped[0].dtype, "apex:", cropped[0].apex)
plt.show()
