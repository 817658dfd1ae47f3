"""Per-page text quality against papermage's reference extraction of 2304.02623v1.pdf: word F1 (bag of
words, case-folded, NFKC, hyphenation at line ends joined) and word order (difflib's ratio over the
word sequences), for each system's page texts in `DIR/<system>/2304.02623v1.<page>.txt`."""

import collections
import difflib
import json
import re
import sys
import unicodedata


def words(text):
    text = unicodedata.normalize("NFKC", text).replace("-\n", "")
    return re.findall(r"\w+", text.lower())


def f1(found, expected):
    common = sum((collections.Counter(found) & collections.Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(found), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def main():
    reference_path, folder, systems = sys.argv[1], sys.argv[2], sys.argv[3:]
    reference = json.load(open(reference_path))
    symbols = reference["symbols"]
    pages = [symbols[p["spans"][0][0]:p["spans"][0][1]] for p in reference["entities"]["pages"]]
    for system in systems:
        scores, orders = [], []
        for i, expected in enumerate(pages):
            found = open(f"{folder}/{system}/2304.02623v1.{i + 1:03}.txt").read()
            scores.append(f1(words(found), words(expected)))
            orders.append(difflib.SequenceMatcher(None, words(found), words(expected), autojunk=False).ratio())
        print(json.dumps({"system": system, "word_f1": [round(s, 3) for s in scores], "mean_f1": round(sum(scores) / len(scores), 3),
                          "order": [round(s, 3) for s in orders], "mean_order": round(sum(orders) / len(orders), 3)}))


if __name__ == "__main__":
    main()
