"""
===========================================================
Test-fold epoch selection inflates scores
===========================================================

Several published micro-expression results train a network for N epochs in every
leave-one-subject-out fold and report, for each held-out subject, the epoch that
scored best **on that subject**.  The test labels then choose the model, and the
score goes up even when there is nothing to learn.

Here a linear model is trained epoch by epoch (``SGDClassifier.partial_fit``) on
onset-apex optical flow of synthetic micro-expressions, in a 16-fold LOSO (four
clips per subject), twice: with the true labels, and with shuffled labels (no signal
at all, chance UF1 is about 1/3). The honest number is the pooled UF1 of one *fixed*
epoch, chosen before looking at the test folds; the leaky number picks the best
epoch per test subject. skmer's networks train for a fixed number of epochs (or stop
early on an inner split of the training subjects) and never look at the test fold.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import LeaveOneGroupOut
from sklearn.preprocessing import StandardScaler

from skmer.datasets import make_micro_expressions
from skmer.metrics import uf1_score
from skmer.preprocessing import FlowExtractor

X, y, groups = make_micro_expressions(
    n_clips=64, n_subjects=16, amplitude=0.2, noise=6.0, random_state=0
)
# The flow extractor learns nothing, so computing it once outside the folds is the
# same as computing it inside every fold.
flows = FlowExtractor(method="farneback", output_size=(16, 16)).fit_transform(X)
features = flows.reshape(len(flows), -1)
n_epochs = 20


def epoch_predictions(labels):
    """Out-of-fold predictions after every epoch, shape (n_epochs, n_samples)."""
    out = np.empty((n_epochs, len(labels)), dtype=labels.dtype)
    for train, test in LeaveOneGroupOut().split(features, labels, groups):
        scaler = StandardScaler().fit(features[train])
        x_train, x_test = scaler.transform(features[train]), scaler.transform(
            features[test])
        model = SGDClassifier(loss="log_loss", alpha=1e-3, learning_rate="constant",
                              eta0=0.1, random_state=0)
        for epoch in range(n_epochs):
            model.partial_fit(x_train, labels[train], classes=np.unique(labels))
            out[epoch, test] = model.predict(x_test)
    return out


def leaky_best_epoch(predictions, labels):
    """Pick, for every test subject, the epoch with the best accuracy on it."""
    chosen = np.empty_like(labels)
    for subject in np.unique(groups):
        idx = groups == subject
        accuracy = (predictions[:, idx] == labels[idx]).mean(axis=1)
        chosen[idx] = predictions[int(np.argmax(accuracy)), idx]
    return chosen


# %%
# With the true labels, and with three random permutations of them (averaged):

rng = np.random.default_rng(0)
conditions = [("true labels", [y]),
              ("shuffled labels (no signal), mean of 3",
               [rng.permutation(y) for _ in range(3)])]
fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.4), sharey=True)
for ax, (name, label_sets) in zip(axes, conditions):
    honest, leaky = [], []
    for labels in label_sets:
        predictions = epoch_predictions(labels)
        honest.append([uf1_score(labels, p) for p in predictions])
        leaky.append(uf1_score(labels, leaky_best_epoch(predictions, labels)))
    honest, leaky = np.mean(honest, axis=0), np.mean(leaky)
    print(f"{name}: fixed last epoch UF1 {honest[-1]:.3f}, "
          f"best epoch per test subject UF1 {leaky:.3f}")
    ax.plot(np.arange(1, n_epochs + 1), honest, "o-", ms=3,
            label="fixed epoch (honest)")
    ax.axhline(leaky, color="tab:red", ls="--", label="best epoch per test subject")
    ax.axhline(1 / 3, color="gray", lw=0.8, ls=":", label="chance")
    ax.set_title(name, fontsize=10)
    ax.set_xlabel("epoch")
axes[0].set_ylabel("pooled UF1")
axes[0].legend(fontsize=8, loc="lower right")
fig.tight_layout()
plt.show()
