"""Peer for hypatia-embed-bench: the same GGUF embedded through llama-cpp-python's embedding API
(`Llama.embed`, what its server's /v1/embeddings runs), with the same threads and batch size.

Prints one JSON object with passages/s (median over the repeats) and writes the last repeat's
vectors (L2-normalised, as Hypatia's are) for the agreement check.
Usage: embed_peer.py MODEL THREADS BATCH_TOKENS REPEATS TEXTS_JSON VECTORS_OUT
"""
import json
import statistics
import sys
import time

from llama_cpp import LLAMA_POOLING_TYPE_UNSPECIFIED, Llama


def main():
    model, threads, batch, repeats, texts_file, vectors_file = sys.argv[1:7]
    threads, batch, repeats = int(threads), int(batch), int(repeats)
    texts = json.load(open(texts_file, encoding="utf-8"))
    llm = Llama(model_path=model, embedding=True, n_ctx=batch, n_batch=batch, n_ubatch=batch,
                n_threads=threads, n_threads_batch=threads, pooling_type=LLAMA_POOLING_TYPE_UNSPECIFIED,
                verbose=False)
    llm.embed(texts[:64], normalize=True)
    rates, vectors = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        vectors = llm.embed(texts, normalize=True)
        rates.append(len(texts) / (time.perf_counter() - start))
        print(f"llama-cpp-python: {rates[-1]:.1f} passages/s", file=sys.stderr)
    json.dump(vectors, open(vectors_file, "w"))
    print(json.dumps({"peer": "llama-cpp-python", "passages_per_second": statistics.median(rates),
                      "runs": rates}))


if __name__ == "__main__":
    main()
