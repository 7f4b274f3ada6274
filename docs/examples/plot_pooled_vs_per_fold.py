"""
======================================================
Pooled scores versus per-fold averages
======================================================

MEGC defines UF1 and UAR on the **pooled** out-of-fold predictions of all
leave-one-subject-out folds.  ``cross_val_score(..., scoring="f1_macro")`` instead
computes one macro F1 per fold and averages them.  Most LOSO folds hold one to a
few samples of one or two classes, so a per-fold macro F1 mostly measures which
classes happen to be absent, and its average is not the MEGC score.

This example simulates LOSO predictions with a known per-sample accuracy on a
composite-like design (68 subjects with 1 to 15 samples, imbalanced classes) and
compares the two numbers.  No model is trained: the point is the arithmetic.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import f1_score

from skmer.metrics import uar_score, uf1_score

rng = np.random.default_rng(0)
n_subjects, classes, priors = 68, np.arange(3), np.array([0.55, 0.25, 0.20])
fold_sizes = rng.integers(1, 16, size=n_subjects) // rng.integers(1, 4, n_subjects)
fold_sizes = np.maximum(fold_sizes, 1)
folds = np.repeat(np.arange(n_subjects), fold_sizes)
print(f"{len(folds)} samples in {n_subjects} folds; median fold size "
      f"{np.median(fold_sizes):.0f}")


def simulate(accuracy, majority=0.0):
    """Labels and predictions of a classifier right with probability ``accuracy``.

    A fraction ``majority`` of the predictions is replaced by the majority class
    (a classifier biased towards it, as imbalanced training makes them).
    """
    y_true = rng.choice(classes, size=len(folds), p=priors)
    wrong = rng.random(len(folds)) > accuracy
    y_pred = y_true.copy()
    y_pred[wrong] = (y_true[wrong] + rng.integers(1, 3, wrong.sum())) % 3
    y_pred[rng.random(len(folds)) < majority] = 0
    return y_true, y_pred


def macro_f1(y_true, y_pred):
    """sklearn's ``f1_score(average="macro", zero_division=0)``, fast."""
    labels = np.union1d(y_true, y_pred)
    tp = np.array([np.sum((y_true == c) & (y_pred == c)) for c in labels])
    denominator = np.array([np.sum(y_true == c) + np.sum(y_pred == c) for c in labels])
    return np.mean(2 * tp / denominator)


y_true, y_pred = simulate(0.7)
assert np.isclose(macro_f1(y_true, y_pred), f1_score(y_true, y_pred, average="macro"))

# %%
# One simulated evaluation: the pooled scores and the per-fold average.

per_fold = [macro_f1(y_true[folds == k], y_pred[folds == k])
            for k in range(n_subjects)]
print(f"pooled UF1 {uf1_score(y_true, y_pred):.3f}, "
      f"pooled UAR {uar_score(y_true, y_pred):.3f}, "
      f"mean per-fold macro F1 {np.mean(per_fold):.3f}")

# %%
# Over classifiers of increasing accuracy (left), and over classifiers of accuracy
# 0.7 increasingly biased towards the majority class (right), 40 simulations
# each.  The per-fold average is off in either direction: below the pooled UF1 for
# an unbiased classifier (a fold of one or two samples rarely scores its absent
# classes well), above it for a classifier that predicts the majority class (a
# fold that holds only that class scores a perfect 1).  How far depends on the
# fold sizes, not on the classifier -- two papers with different subject splits
# are not comparable this way.


def both_scores(accuracy, majority=0.0, n_runs=40):
    pooled, averaged = [], []
    for _ in range(n_runs):
        y_true, y_pred = simulate(accuracy, majority)
        pooled.append(uf1_score(y_true, y_pred))
        averaged.append(np.mean([macro_f1(y_true[folds == k], y_pred[folds == k])
                                 for k in range(n_subjects)]))
    return np.mean(pooled), np.mean(averaged)


accuracies = np.linspace(0.35, 0.95, 7)
by_accuracy = np.array([both_scores(a) for a in accuracies])
biases = np.linspace(0, 1, 6)
by_bias = np.array([both_scores(0.7, b) for b in biases])

fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.3))
axes[0].hist(fold_sizes, bins=np.arange(0.5, fold_sizes.max() + 1.5), color="gray")
axes[0].set_xlabel("samples in the held-out subject")
axes[0].set_ylabel("folds")
for ax, x, scores, xlabel in [
        (axes[1], accuracies, by_accuracy, "per-sample accuracy"),
        (axes[2], biases, by_bias, "fraction predicted as the majority class")]:
    ax.plot(x, scores[:, 0], "o-", label="pooled UF1 (MEGC, skmer)")
    ax.plot(x, scores[:, 1], "s--", label="mean per-fold macro F1")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("score")
    ax.set_ylim(0, 1)
axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()
