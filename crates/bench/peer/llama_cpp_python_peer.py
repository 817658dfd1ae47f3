"""Peer for hypatia-llm-bench: the same GGUF through llama-cpp-python (llama.cpp's C API driven from
Python, as its own server does), on the same thread count, prompt and token counts.

Prints one JSON object: prompt-processing and decode tokens/s, the median over the repeats.
Usage: llama_cpp_python_peer.py MODEL THREADS PROMPT_FILE GEN_TOKENS REPEATS [FLASH_ATTN on|off]
"""
import json
import statistics
import sys
import time

from llama_cpp import Llama


def main():
    model, threads, prompt_file, gen_tokens, repeats = sys.argv[1:6]
    threads, gen_tokens, repeats = int(threads), int(gen_tokens), int(repeats)
    flash_attn = len(sys.argv) > 6 and sys.argv[6] == "on"
    prompt = open(prompt_file, encoding="utf-8").read()
    llm = Llama(model_path=model, n_ctx=4096, n_threads=threads, n_threads_batch=threads,
                n_batch=512, n_ubatch=512, flash_attn=flash_attn, verbose=False, seed=1)
    tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
    prompt_rates, decode_rates, generated = [], [], []
    for _ in range(repeats):
        llm.reset()
        start = time.perf_counter()
        llm.eval(tokens)
        token = llm.sample(top_k=40, top_p=0.95, min_p=0.0, temp=0.8)
        first = time.perf_counter()
        produced = 1
        for _ in range(gen_tokens - 1):
            if llm.token_eos() == token:
                break
            llm.eval([token])
            token = llm.sample(top_k=40, top_p=0.95, min_p=0.0, temp=0.8)
            produced += 1
        end = time.perf_counter()
        prompt_rates.append(len(tokens) / (first - start))
        if produced > 1:
            decode_rates.append((produced - 1) / (end - first))
        generated.append(produced)
    print(json.dumps({
        "peer": "llama-cpp-python",
        "prompt_tokens": len(tokens),
        "generated_tokens": generated,
        "prompt_tokens_per_second": statistics.median(prompt_rates),
        "decode_tokens_per_second": statistics.median(decode_rates) if decode_rates else 0.0,
    }))


if __name__ == "__main__":
    main()
