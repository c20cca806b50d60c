"""Times Python sacrebleu on the same How2Sign input as bench/metrics.ts; prints one JSON object.

Called by bench/metrics.ts --python <interpreter with sacrebleu installed>; the median of `runs` runs per metric.
"""
import json
import sys
import time

import sacrebleu

path, runs = sys.argv[1], int(sys.argv[2])
with open(path, encoding="utf-8") as f:
    refs = [json.loads(line)["text"] for line in f if line.strip()]
hyps = refs[1:] + refs[:1]


def median_seconds(fn):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        score = fn()
        times.append(time.perf_counter() - start)
    return score, sorted(times)[len(times) // 2]


bleu, bleu_s = median_seconds(lambda: sacrebleu.corpus_bleu(hyps, [refs]).score)
chrf, chrf_s = median_seconds(lambda: sacrebleu.corpus_chrf(hyps, [refs]).score)
print(json.dumps({"version": sacrebleu.__version__, "bleu": [bleu, bleu_s], "chrf": [chrf, chrf_s]}))
