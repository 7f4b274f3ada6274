"""skmer: scikit-learn compatible facial micro-expression recognition.

Subpackages
-----------
datasets
    The data contract (:class:`~skmer.datasets.Clip`,
    :class:`~skmer.datasets.ClipSequence`), corpus loaders and synthetic data.
preprocessing
    Face cropping, key frames, temporal resampling, magnification, optical flow.
features
    Hand-crafted features: LBP-TOP and Bi-WOOF (kernels, estimators, SVM pipelines).
metrics
    UF1 / UAR on pooled predictions.
model_selection
    Honest leave-one-subject-out evaluation.
recipes
    Fixed, honest recipes for standard benchmarks (MEGC2019 composite).
models
    Networks (torch modules and skorch classifiers); imports torch lazily.
io
    Saving and loading fitted models (:func:`~skmer.io.save_model`).
spotting
    Micro-expression intervals in long videos (LBP feature difference, MDMD flow).
predict
    The micro-expression of a user's own video with a saved model.
plotting
    Confusion matrices, flow fields and prediction pictures.
"""

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
