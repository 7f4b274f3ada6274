"""Reading order of the gallery examples (a sphinx-gallery sort key)."""

ORDER = [
    "plot_synthetic_data.py",
    "plot_face_crop.py",
    "plot_magnification.py",
    "plot_optical_flow.py",
    "plot_lbptop.py",
    "plot_loso_confusion.py",
    "plot_pooled_vs_per_fold.py",
    "plot_epoch_selection_leak.py",
]


class ExampleOrder:
    """Sort key: the examples of ``ORDER`` first, in that order, then by file name.

    Parameters
    ----------
    src_dir : str
        The gallery folder (unused; sphinx-gallery passes it).
    """

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        if filename in ORDER:
            return (ORDER.index(filename), filename)
        return (len(ORDER), filename)

    def __repr__(self):
        return f"<{type(self).__name__}>"
