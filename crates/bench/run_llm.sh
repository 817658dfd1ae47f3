#!/usr/bin/env bash
# Measures the in-process llama.cpp engine (hypatia-llm-bench) and its peer, llama-cpp-python, on the
# same generated GGUF files, thread count and prompt, one after the other in one run. Figures go to
# target/bench-results/llm-*. Run on an idle machine (llama.cpp threads busy-wait).
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=${THREADS:-2}
out=target/bench-results
mkdir -p "$out"
python3 -c "import llama_cpp" 2>/dev/null || python3 -m pip install -q 'llama-cpp-python==0.3.36'
cargo build --release -p hypatia-bench --bin hypatia-llm-bench
{ nproc; grep -m1 'model name' /proc/cpuinfo; free -g | sed -n 2p; python3 -c "import llama_cpp; print('llama-cpp-python', llama_cpp.__version__)"; } > "$out/llm-machine.txt"
for size in ${SIZES:-tiny small}; do
  target/release/hypatia-llm-bench --size "$size" --threads "$threads" \
    --prompt-out "$out/llm-prompt-$size.txt" --json "$out/llm-$size.json" | tee "$out/llm-$size.txt"
  python3 crates/bench/peer/llama_cpp_python_peer.py "target/bench-models/$size-42.gguf" "$threads" \
    "$out/llm-prompt-$size.txt" 128 5 | tee "$out/llm-peer-$size.json"
done
