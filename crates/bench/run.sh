#!/usr/bin/env bash
# Runs hypatia-bench and its peer (bm25s) on the same corpora, one after the
# other in one run, and leaves the figures in target/bench-results/.
# Needs ../shared; installs the peer from PyPI. Run on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
scifact=${SCIFACT:-../shared/eval-data/scifact-beir}
sizes=${SIZES:-5183,200000}
out=target/bench-results
mkdir -p "$out"
python3 -m pip install -q bm25s==0.3.16 PyStemmer==3.1.0 numpy scipy
cargo build --release -p hypatia-bench -p hypatia
{ nproc; grep -m1 'model name' /proc/cpuinfo; free -g | sed -n 2p; } > "$out/machine.txt"
target/release/hypatia-bench --scifact "$scifact" --sizes "$sizes" --json "$out/hypatia.json" | tee "$out/hypatia.txt"
corpora=()
for size in ${sizes//,/ }; do
  if [ "$size" = 5183 ]; then corpora+=("$scifact/corpus.jsonl"); else corpora+=(target/bench-corpora/scifact-synthetic-$size-seed42.jsonl); fi
done
python3 crates/bench/peer/bm25s_peer.py "$scifact" "${corpora[@]}" | tee "$out/bm25s.jsonl"
target/release/hypatia eval retrieval --beir "$scifact" --json | tee "$out/hypatia-eval.json"
