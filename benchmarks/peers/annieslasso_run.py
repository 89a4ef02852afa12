"""Run Casey's thecannon (PyPI ``annieslasso``) on data from an .npz; write timings to JSON.

Executed by ``benchmarks/cannon_train.py`` with the peer's own interpreter (numpy < 2):

    /work/peers/annieslasso/bin/python benchmarks/peers/annieslasso_run.py IN.npz OUT.json

IN.npz holds ``labels``, ``flux``, ``ivar`` (training), ``test_flux``, ``test_ivar`` and
``label_names``. Its train() and test() (one process, the default mapper; numpy's BLAS threads use
all cores) are timed with wall-clock and process CPU time; the test labels and the peak RSS (VmHWM)
are written out.
"""

import json
import logging
import resource
import sys
import time

import numpy as np


def peak_rss_gb():
    """VmHWM of this process (ru_maxrss would include the parent's RSS at fork)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main(inp, out):
    import thecannon as tc

    logging.getLogger("thecannon").setLevel(logging.WARNING)
    d = np.load(inp)
    names = [str(n) for n in d["label_names"]]
    vec = tc.vectorizer.PolynomialVectorizer(names, 2)
    model = tc.CannonModel(d["labels"], d["flux"], d["ivar"], vec)
    t0, c0 = time.perf_counter(), time.process_time()
    model.train()
    t_train, c_train = time.perf_counter() - t0, time.process_time() - c0
    tf, tiv = d["test_flux"], d["test_ivar"]
    t0, c0 = time.perf_counter(), time.process_time()
    labels, _, _ = model.test(tf, tiv)
    t_test, c_test = time.perf_counter() - t0, time.process_time() - c0
    res = {
        "package": "annieslasso " + getattr(tc, "__version__", "?"),
        "numpy": np.__version__,
        "train_s": t_train, "train_cpu_s": c_train,
        "test_s": t_test, "test_cpu_s": c_test, "n_test": int(tf.shape[0]),
        "test_labels": np.asarray(labels, dtype=float).tolist(),
        "s2": np.asarray(model.s2, dtype=float).tolist(),
        "peak_rss_gb": peak_rss_gb(),
    }
    with open(out, "w") as fh:
        json.dump(res, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
