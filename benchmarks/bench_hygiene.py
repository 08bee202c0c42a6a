"""Measurements behind the hygiene checks (docs/hygiene.md): their cost, the MinHash threshold, the language
detector, and the precision of the grounding flag.

- `cost`: runs the default `hf-david generate` job (or reads a finished one, `--job OUT`) and prints the
  seconds of the hygiene stages (language, decontaminate, grounding, dedup, and the dedup pass over all
  shards), first-use loading included, against the job's wall time (or, with `--job`, its stage total).
  A job made before the checks existed gets them run here, cold, on its passages and rows.
- `threshold`: near-duplicate recall and false positives of each MinHash threshold. Near copies are real
  rows with a share of their words replaced; distinct pairs are all pairs of the real rows.
- `detector`: accuracy and time of py3langid and (if installed) lingua on the man-page fixture (French,
  German, Spanish and untranslated English paragraphs, labelled by hand) and 300 English passages.
- `grounding`: precision and recall of `unsupported_terms` against the hand labels in
  docs/data/grounding_labels.jsonl (flags recomputed with today's code).

Usage: .venv/bin/python benchmarks/bench_hygiene.py {cost,threshold,detector,grounding} [--job OUT]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import tempfile
import time
from pathlib import Path

from dataset_scripts.corpus import python_docs_paragraphs

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
LABELS = ROOT / "docs" / "data" / "grounding_labels.jsonl"
HYGIENE = ("language", "decontaminate", "grounding", "dedup", "dedup (all shards)")


def _checks_on(out: Path, passages: int) -> dict[str, float]:
    """Seconds of each check, run cold in this process on the passages and rows of a job made before the
    checks existed (first use loads py3langid, datasketch and the benchmark n-grams, as in a job)."""
    from hf_david.stages import PipelineConfig
    from hf_david.stages.decontaminate import Decontaminate
    from hf_david.stages.dedup import Dedup
    from hf_david.stages.grounding import Grounding
    from hf_david.stages.language import DetectLanguage

    config = PipelineConfig(id_column="id")
    texts = list(itertools.islice(python_docs_paragraphs(), passages))
    rows = [json.loads(line) for line in (out / "train.jsonl").open()]
    batch = {key: [row[key] for row in rows] for key in rows[0]}
    seconds = {}
    for name, stage, data in (
        ("language", DetectLanguage(config), {"text": [t["text"] for t in texts], "id": [t["id"] for t in texts]}),
        ("decontaminate", Decontaminate(config), batch),
        ("grounding", Grounding(config), batch),
        ("dedup", Dedup(config), batch),
        ("dedup (all shards)", Dedup(config), batch),
    ):
        stage(data)
        seconds[name] = stage.pop_stats().seconds
    return seconds


def cost(job: str | None) -> None:
    from hf_david.job import MANIFEST, Job, JobConfig

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(job) if job else Path(tmp) / "job"
        start = time.perf_counter()
        if not job:
            Job(JobConfig(), out).run()
        wall = time.perf_counter() - start
        manifest = json.loads((out / MANIFEST).read_text())
        stats = {name: s["seconds"] for name, s in manifest["stats"].items()}
        if not any(name in stats for name in HYGIENE):
            stats |= _checks_on(out, manifest["counts"]["passages"])
    total = wall if not job else sum(stats.values())
    for name, seconds in stats.items():
        print(f"{name:20s} {seconds:8.2f} s")
    checks = sum(stats[name] for name in HYGIENE if name in stats)
    basis = "wall" if not job else "stage total"
    print(f"hygiene checks: {checks:.2f} s of {total:.1f} s ({basis}): {checks / total:.1%}")


def _rows() -> list[dict]:
    wiki = [json.loads(line) for line in (FIXTURES / "wikitext2_test_paragraphs_head40.jsonl").open()]
    docs = list(itertools.islice(python_docs_paragraphs(), 60))
    texts = [r["text"] for r in wiki + docs if len(r["text"].split()) >= 30]
    return [{"instruction": f"Explain this passage, part {i}.", "input": "", "output": t} for i, t in enumerate(texts)]


def threshold(job: str | None) -> None:
    from hf_david.stages.dedup import FIELDS, Dedup, DedupConfig

    rows, rng = _rows(), random.Random(0)
    for shingle in (3, 5):
        print(f"word {shingle}-gram shingles: near copies found, by share of words replaced and threshold")
        for rate in (0.02, 0.05, 0.1, 0.2):
            edited = []
            for row in rows:
                words = row["output"].split()
                for i in rng.sample(range(len(words)), max(1, int(rate * len(words)))):
                    words[i] = rng.choice(["alpha", "beta", "gamma", "delta", "omega"])
                edited.append({**row, "output": " ".join(words)})
            line = [f"  {rate:4.0%}:"]
            for value in (0.5, 0.6, 0.7, 0.8):
                config = DedupConfig(dedup_threshold=value, dedup_shingle=shingle)
                pairs = [Dedup(config)({f: [a[f], b[f]] for f in FIELDS}) for a, b in zip(rows, edited, strict=True)]
                line.append(
                    f"t={value}: {sum(out['reject_reason'][1] == 'near_duplicate' for out in pairs)}/{len(rows)}"
                )
            print("  ".join(line))
        real = [json.loads(line) for line in (Path(job) / "train.jsonl").open()] if job else []
        for name, distinct in (("distinct passages", rows), ("rows of the job (all levels)", real)):
            if distinct:
                batch = {f: [r.get(f) for r in distinct] for f in (*FIELDS, "source_id", "level")}
                flagged = [
                    sum(map(bool, Dedup(DedupConfig(dedup_threshold=v, dedup_shingle=shingle))(batch)["reject_reason"]))
                    for v in (0.5, 0.6, 0.7, 0.8)
                ]
                print(f"  {name} ({len(distinct)}), removed at t=0.5/0.6/0.7/0.8: {flagged}")


def detector() -> None:
    def per_passage(start: float) -> float:
        return 1e3 * (time.perf_counter() - start) / len(samples)

    rows = [json.loads(line) for line in (FIXTURES / "manpages_grep_fr_de_es.jsonl").open(encoding="utf-8")]
    english = [r["text"] for r in itertools.islice(python_docs_paragraphs(), 300)]
    samples = [(r["text"], r["language"]) for r in rows] + [(t, "en") for t in english]
    from hf_david.stages.language import detect_language  # torch and transformers come with it: not timed

    start = time.perf_counter()
    detect_language("warm up")
    load = time.perf_counter() - start
    start = time.perf_counter()
    right = sum(detect_language(text)[0] == lang for text, lang in samples)
    print(f"py3langid: {right}/{len(samples)} right, load {load:.2f} s, {per_passage(start):.2f} ms/passage")
    try:
        from lingua import LanguageDetectorBuilder
    except ImportError:
        print("lingua: not installed (pip install lingua-language-detector to compare)")
        return
    start = time.perf_counter()
    lingua = LanguageDetectorBuilder.from_all_languages().build()
    lingua.detect_language_of("warm up")
    load = time.perf_counter() - start
    start = time.perf_counter()
    found = [lingua.detect_language_of(text) for text, _ in samples]
    right = sum(
        f is not None and f.iso_code_639_1.name.lower() == lang for f, (_, lang) in zip(found, samples, strict=True)
    )
    print(f"lingua:    {right}/{len(samples)} right, load {load:.2f} s, {per_passage(start):.2f} ms/passage")


def grounding() -> None:
    from hf_david.stages.grounding import Grounding

    stage = Grounding()
    rows = [json.loads(line) for line in LABELS.open(encoding="utf-8")]
    tp = fp = fn = 0
    for row in rows:
        source = " ".join(row[c] for c in ("output", "input", "context"))
        flagged = bool(stage.unsupported(row["instruction"], source, row.get("language") or "en"))
        tp += flagged and row["unsupported"]
        fp += flagged and not row["unsupported"]
        fn += not flagged and row["unsupported"]
    print(f"{len(rows)} labelled rows, {tp + fp} flagged, {tp + fn} labelled unsupported")
    print(f"precision {tp / max(tp + fp, 1):.2f} ({tp}/{tp + fp}), recall {tp / max(tp + fn, 1):.2f} ({tp}/{tp + fn})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("measure", choices=("cost", "threshold", "detector", "grounding"))
    parser.add_argument("--job", help="cost: a finished job folder to read instead of running the default job")
    args = parser.parse_args()
    {
        "cost": lambda: cost(args.job),
        "threshold": lambda: threshold(args.job),
        "detector": detector,
        "grounding": grounding,
    }[args.measure]()


if __name__ == "__main__":
    main()
