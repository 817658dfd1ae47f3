"""The peers of Hypatia's PDF reader on the same files, one run: poppler's `pdftotext` (one process
per file, as a tool calls it; pages split at form feeds) and PyMuPDF (in process, `page.get_text()`).
Each file is read `--repeat` times; the time is the total. Page texts of the first pass go to
`--pages DIR/<system>/<name>.<page>.txt` for `pdf_quality.py`. Prints one JSON line per system."""

import argparse
import json
import os
import subprocess
import time

import pymupdf


def pdftotext(paths, repeat, out):
    pages = 0
    started = time.perf_counter()
    for round_ in range(repeat):
        for path in paths:
            text = subprocess.run(["pdftotext", "-enc", "UTF-8", path, "-"], check=True, capture_output=True).stdout.decode()
            texts = text.split("\f")
            if texts and texts[-1].strip() == "":
                texts = texts[:-1]
            if round_ == 0:
                pages += len(texts)
                write(out, "pdftotext", path, texts)
    return pages, time.perf_counter() - started


def pymupdf_text(paths, repeat, out):
    pages = 0
    started = time.perf_counter()
    for round_ in range(repeat):
        for path in paths:
            with pymupdf.open(path) as document:
                texts = [page.get_text() for page in document]
            if round_ == 0:
                pages += len(texts)
                write(out, "pymupdf", path, texts)
    return pages, time.perf_counter() - started


def write(out, system, path, texts):
    if not out:
        return
    folder = os.path.join(out, system)
    os.makedirs(folder, exist_ok=True)
    stem = os.path.splitext(os.path.basename(path))[0]
    for i, text in enumerate(texts):
        with open(os.path.join(folder, f"{stem}.{i + 1:03}.txt"), "w") as f:
            f.write(text)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pages")
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    for name, run in (("pdftotext", pdftotext), ("pymupdf", pymupdf_text)):
        pages, seconds = run(args.paths, args.repeat, args.pages)
        print(json.dumps({"system": name, "files": len(args.paths), "pages": pages, "repeat": args.repeat,
                          "seconds": seconds, "pages_per_second": pages * args.repeat / seconds}))


if __name__ == "__main__":
    main()
