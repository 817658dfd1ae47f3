"""Quantizes a GGUF with llama.cpp's own quantizer (through llama-cpp-python), so the engine can be
measured on the kind of file users run (Q4_0/Q8_0), not only on the F32 files the project generates.
Usage: quantize.py INPUT OUTPUT TYPE (q4_0 or q8_0)"""
import sys

import llama_cpp

TYPES = {"q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0, "q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0}

source, target, kind = sys.argv[1:4]
params = llama_cpp.llama_model_quantize_default_params()
params.ftype = TYPES[kind]
params.nthread = 2
status = llama_cpp.llama_model_quantize(source.encode(), target.encode(), params)
sys.exit(status)
