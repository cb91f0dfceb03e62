"""
The peer of `npm run bench`'s refresh: what a monitoring notebook over an inference table does
with pandas and scipy (Databricks' starter notebook for inference tables does the same steps):
parse each captured request and response, explode them into one row per prediction, then for
every hourly and daily window the profile of each feature (count, nulls, mean, std, min, max,
quartiles, distinct) and its drift from the baseline (KS with its p-value, Wasserstein, PSI,
Jensen-Shannon), and chi-squared on the predicted classes. One core, as a notebook runs.

Usage: /usr/bin/python3 bench/peer/notebook.py PAYLOAD.csv BASELINE.csv
(Debian has no pyarrow: the bench exports the payload files to CSV first.) Prints one JSON line:
seconds, rows, windows, peak RSS.
"""
import csv
import io
import json
import resource
import sys
import time

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']


def rows_of(fmt, request, response):
    """The rows of one request in its input format, and its predictions."""
    predictions = json.loads(response)
    predictions = predictions['predictions'] if isinstance(predictions, dict) else predictions
    if fmt == 'csv':
        # The csv module, not pandas.read_csv: a frame per three-line body costs a millisecond.
        header, *lines = [line for line in csv.reader(io.StringIO(request)) if line]
        at = [header.index(f) for f in FEATURES]
        return [[float(line[i]) for i in at] for line in lines], predictions
    body = json.loads(request)
    if fmt == 'dataframe_split':
        split = body['dataframe_split']
        at = [split['columns'].index(f) for f in FEATURES]
        return [[row[i] for i in at] for row in split['data']], predictions
    if fmt == 'inputs' and isinstance(body['inputs'], dict):
        columns = [body['inputs'][f] for f in FEATURES]
        return [list(r) for r in zip(*columns)], predictions
    records = body[fmt]
    if records and isinstance(records[0], dict):
        return [[r.get(f) for f in FEATURES] for r in records], predictions
    return records, predictions


def psi(expected, actual, edges):
    e = np.histogram(expected, edges)[0] / max(len(expected), 1)
    a = np.histogram(actual, edges)[0] / max(len(actual), 1)
    e, a = np.clip(e, 1e-6, None), np.clip(a, 1e-6, None)
    return float(np.sum((a - e) * np.log(a / e)))


def main(payload_csv, baseline_csv):
    started = time.perf_counter()
    payload = pd.read_csv(payload_csv, dtype={'request': str, 'response': str, 'request_format': str})
    payload = payload[(payload.status_code >= 200) & (payload.status_code < 300)]
    out_ts, out_rows, out_pred = [], [], []
    for ts, fmt, request, response in zip(payload.timestamp_ms, payload.request_format, payload.request, payload.response):
        rows, predictions = rows_of(fmt, request, response)
        out_rows.extend(rows)
        out_pred.extend(predictions)
        out_ts.extend([ts] * len(rows))
    frame = pd.DataFrame(out_rows, columns=FEATURES, dtype=float)
    frame['prediction'] = out_pred
    frame['timestamp'] = pd.to_datetime(np.asarray(out_ts, dtype='int64'), unit='ms')
    baseline = pd.read_csv(baseline_csv)
    edges = {f: np.unique(np.quantile(baseline[f], np.linspace(0, 1, 11))) for f in FEATURES}
    classes = sorted(set(baseline.prediction))
    base_counts = baseline.prediction.value_counts().reindex(classes, fill_value=0).to_numpy()
    results = []
    for freq in ['h', 'D']:
        for window, rows in frame.groupby(frame.timestamp.dt.floor(freq)):
            for f in FEATURES:
                values = rows[f].dropna().to_numpy()
                profile = {
                    'count': len(rows), 'nulls': int(rows[f].isna().sum()), 'mean': float(values.mean()), 'std': float(values.std(ddof=1)),
                    'min': float(values.min()), 'max': float(values.max()), 'quartiles': np.quantile(values, [0.25, 0.5, 0.75]).tolist(),
                    'distinct': int(len(np.unique(values))),
                }
                ks = stats.ks_2samp(values, baseline[f].to_numpy())
                e = np.histogram(baseline[f], edges[f])[0]
                a = np.histogram(values, edges[f])[0]
                results.append((window, f, profile, ks.statistic, ks.pvalue, stats.wasserstein_distance(values, baseline[f]), psi(baseline[f], values, edges[f]), jensenshannon(e, a)))
            counts = rows.prediction.value_counts().reindex(classes, fill_value=0).to_numpy()
            results.append((window, 'prediction', stats.chi2_contingency(np.vstack([counts, base_counts]) + 1)[1]))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({'seconds': seconds, 'rows': len(frame), 'windows': len(results), 'peakMiB': peak}))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
