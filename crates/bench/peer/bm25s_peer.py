"""The peer for hypatia-bench: bm25s (BM25 in Python, scipy sparse matrices)
on the same corpus files and queries, timed the same way.

bm25s is the fastest pure-Python BM25 library and the kind of in-memory
index Python research assistants embed. It keeps no database and no
passages, so its ingest figure is a floor for what a store-backed tool does.

Usage: python3 bm25s_peer.py SCIFACT_DIR CORPUS.jsonl [CORPUS.jsonl ...]
Prints one JSON object per corpus.
"""

import json
import math
import statistics
import sys
import time

import bm25s
import Stemmer


def read_jsonl(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def latency(millis):
    millis = sorted(millis)
    at = lambda q: millis[round((len(millis) - 1) * q)]
    return {"p50_ms": at(0.5), "p99_ms": at(0.99), "mean_ms": statistics.fmean(millis)}


def ndcg_at_10(ranked, judged):
    dcg = sum(judged.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranked[:10]))
    ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:10]
    idcg = sum(g / math.log2(rank + 2) for rank, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def measure(scifact, corpus_path):
    stemmer = Stemmer.Stemmer("english")
    docs = read_jsonl(corpus_path)
    queries = read_jsonl(f"{scifact}/queries.jsonl")
    started = time.perf_counter()
    texts = [f"{d.get('title', '')} {d.get('text', '')}" for d in docs]
    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    ingest_seconds = time.perf_counter() - started

    def search(text, k):
        query = bm25s.tokenize(text, stopwords="en", stemmer=stemmer, show_progress=False)
        k = min(k, len(docs))
        results, _ = retriever.retrieve(query, k=k, show_progress=False)
        return results[0]

    runs = {}
    for name, k in (("search_top10", 10), ("search_top100", 100)):
        for query in queries:  # untimed warm-up pass, as in hypatia-bench
            search(query["text"], k)
        millis = []
        for query in queries:
            started = time.perf_counter()
            search(query["text"], k)
            millis.append((time.perf_counter() - started) * 1000)
        runs[name] = latency(millis)

    result = {
        "peer": f"bm25s {bm25s.__version__}",
        "documents": len(docs),
        "corpus": corpus_path,
        "ingest_seconds": ingest_seconds,
        "documents_per_second": len(docs) / ingest_seconds,
        "queries": len(queries),
        **runs,
    }
    if corpus_path.endswith("scifact-beir/corpus.jsonl"):
        qrels = {}
        with open(f"{scifact}/qrels/test.tsv", encoding="utf-8") as handle:
            next(handle)
            for line in handle:
                query, doc, grade = line.split("\t")
                qrels.setdefault(query, {})[doc] = int(grade)
        texts_by_id = {str(q["_id"]): q["text"] for q in queries}
        ids = [str(d["_id"]) for d in docs]
        scores = [ndcg_at_10([ids[i] for i in search(texts_by_id[q], 100)], judged) for q, judged in qrels.items()]
        result["scifact_test_ndcg_at_10"] = statistics.fmean(scores)
    return result


if __name__ == "__main__":
    scifact = sys.argv[1]
    for corpus in sys.argv[2:]:
        print(json.dumps(measure(scifact, corpus)), flush=True)
