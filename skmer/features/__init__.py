"""Hand-crafted micro-expression features: LBP-TOP and Bi-WOOF.

Pure kernels (:func:`lbp_top`, :func:`bi_woof`) work on one clip or flow field;
:class:`LBPTOP` and :class:`BiWOOF` are thin estimators around them, and
:func:`make_lbptop_pipeline` / :func:`make_biwoof_pipeline` add standardisation and
a linear SVM.
"""

from skmer.features._biwoof import BiWOOF
from skmer.features._kernels import (
    bi_woof,
    block_edges,
    lbp_top,
    lbp_top_codes,
    n_uniform_bins,
    uniform_mapping,
)
from skmer.features._lbptop import LBPTOP
from skmer.features._pipelines import make_biwoof_pipeline, make_lbptop_pipeline

__all__ = [
    "BiWOOF",
    "LBPTOP",
    "bi_woof",
    "block_edges",
    "lbp_top",
    "lbp_top_codes",
    "make_biwoof_pipeline",
    "make_lbptop_pipeline",
    "n_uniform_bins",
    "uniform_mapping",
]
