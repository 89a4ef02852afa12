"""K-fold cross-validation with Casey's thecannon (PyPI ``annieslasso`` 0.2.96), run in its own
numpy<2 environment (``/work/peers/annieslasso/bin/python``) by benchmarks/cannon_cv_apogee.py.

    <peer python> benchmarks/peers/annieslasso_cv.py IN.npz OUT.npz

IN holds ``labels`` (n, L), ``flux``, ``ivar`` (n, p), ``fold`` (n,) and ``label_names``; OUT gets
``inferred`` (n, L) (held-out labels from the model that did not see the star), ``train_s`` and
``test_s`` (wall seconds summed over folds). Quadratic ``PolynomialVectorizer``, one thread,
default optimiser settings (what a user of the package gets).
"""

import logging
import sys
import time

import numpy as np


def main(src, dst):
    import thecannon as tc

    logging.getLogger("thecannon").setLevel(logging.WARNING)
    d = np.load(src, allow_pickle=False)
    labels, flux, ivar, fold = d["labels"], d["flux"], d["ivar"], d["fold"]
    names = [str(n) for n in d["label_names"]]
    inferred = np.full(labels.shape, np.nan)
    t_train = t_test = 0.0
    for k in np.unique(fold):
        held = fold == k
        model = tc.CannonModel(labels[~held], flux[~held], ivar[~held],
                               tc.vectorizer.PolynomialVectorizer(names, 2))
        t0 = time.perf_counter()
        model.train(threads=1)
        t1 = time.perf_counter()
        lab, _cov, _meta = model.test(flux[held], ivar[held], threads=1)
        t2 = time.perf_counter()
        inferred[held] = lab
        t_train += t1 - t0
        t_test += t2 - t1
    np.savez(dst, inferred=inferred, train_s=t_train, test_s=t_test)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
