"""Extract-then-generate, step 2: sample K candidate instructions for each output.

Reads `output` (and `context`, shown to the generator when `use_context` and the level is not `passage`).
Writes `candidates: list[str]` and `input` (the context the instruction refers to, or ""). The prompt is
the flipped template `hf_david/prompts/instruction_generation.yaml` (or a YAML file of your own): for an
untrained instruct model it carries few-shot demonstrations; a generator trained by
`hf-david train-generator` gets the same user turn without them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from hf_david.artifacts import GENERATOR_TASK, TRAINING_MANIFEST
from hf_david.models import DEFAULT_MODEL, load_model, resolve_model
from hf_david.models.sampling import PrefixCache, sample
from hf_david.prompts import INSTRUCTION_GENERATION, PromptTemplate, load_prompt
from hf_david.stages.base import Transform, derive_seed, live_rows, with_rejects

_PREFIX = re.compile(r"^(?:#+\s*)?(?:instruction|question|task)\s*:\s*", re.IGNORECASE)
_META = re.compile(
    r"^(?:(?:this|the|that) (?:response|instruction|answer|passage|text|sentence|question)\b|i'?m sorry|"
    r"the correct answer|here is|sure\b)",
    re.IGNORECASE,
)
# How instructions open (Dolly, SuperNI): a question word or an imperative verb. Declarative candidates
# ("In Python, X is Y.") are restatements of the output, not instructions, unless they end with "?".
_OPENERS = frozenset(
    (
        "what how why who whom whose when where which is are was were do does did can could should would will "
        "list name describe explain write give summarize summarise tell provide compare identify extract find "
        "define classify rewrite translate create generate suggest show make please answer state outline "
        "according based using given brainstorm categorize choose discuss imagine"
    ).split()
)
_STOP = re.compile(r"\n\s*\n|<\|im_end\|>|<\|im_start\|>|\n(?:Response|Passage|Instruction)\s*:", re.IGNORECASE)


@dataclass
class GenerateConfig:
    model: str = DEFAULT_MODEL
    revision: str | None = None
    dtype: str = "float32"
    prompt: str = INSTRUCTION_GENERATION
    few_shot: bool | None = None  # None: few-shot unless the model is a trained hf-david generator
    use_context: bool = False  # show the passage to the generator and keep it as `input`
    shape_check: bool = True  # keep only candidates shaped like English instructions (see clean_candidate)
    k: int = 4
    max_new_tokens: int = 48
    temperature: float = 0.9
    top_p: float = 0.95
    batch_size: int = 4  # rows per generate() call; each row expands to k sequences
    seed: int = 0

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k must be >= 1, got {self.k}")


def is_trained_generator(model: str) -> bool:
    """True for a model directory written by `hf-david train-generator`."""
    manifest = Path(resolve_model(model)) / TRAINING_MANIFEST
    return manifest.is_file() and json.loads(manifest.read_text()).get("task") == GENERATOR_TASK


def _ngrams(text: str, n: int = 4) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def clean_candidate(text: str, output: str, demos: tuple[str, ...] = (), shape_check: bool = True) -> str | None:
    """Strip, cut at the first blank line or end marker, and drop empty or degenerate candidates.

    Degenerate: fewer than 2 words, not shaped like an instruction (with `shape_check`, English: no
    question mark and no question word or imperative verb first), a copy of (or contained in) the output,
    a repetition loop, commentary about the response rather than an instruction, or text lifted from the
    few-shot demonstrations.
    """
    text = _STOP.split(text, maxsplit=1)[0].strip().strip('"').strip()
    text = _PREFIX.sub("", text).strip()
    words = text.split()
    if len(words) < 2 or len(text) > 400 or _META.match(text):
        return None
    if shape_check and not text.endswith("?") and words[0].lower().strip(",:") not in _OPENERS:
        return None
    if text.lower() in output.lower() or output.lower() in text.lower():
        return None
    if len(words) >= 8 and len(set(words)) < 0.4 * len(words):
        return None
    grams = _ngrams(text)
    if any(text.lower() == d.lower() or grams & _ngrams(d) for d in demos):
        return None
    return text


class GenerateInstructions(Transform):
    """Outputs in, `candidates` (up to K sampled instructions) out."""

    stage = "generate"

    def __init__(self, config: GenerateConfig | None = None) -> None:
        super().__init__(config or GenerateConfig())
        self._prefix_cache = PrefixCache()

    def apply(self, batch: dict[str, list]) -> dict[str, list]:
        cfg = self.config
        if "output" not in batch:
            raise KeyError(f"column 'output' not found; columns are {sorted(batch)}")
        n = len(batch["output"])
        contexts = batch.get("context") or [""] * n
        levels = batch.get("level") or [""] * n
        inputs = ["" for _ in range(n)]
        candidates: list[list[str]] = [[] for _ in range(n)]
        reasons: dict[int, str] = {}
        rows = []
        for i in live_rows(batch):
            output = batch["output"][i]
            if not isinstance(output, str) or not output.strip():
                reasons[i] = "output is empty or not a string"
                continue
            if cfg.use_context and levels[i] != "passage" and isinstance(contexts[i], str):
                inputs[i] = contexts[i]
            rows.append(i)
        prompt = load_prompt(cfg.prompt)
        demos = tuple(text for d in prompt.demonstrations for text in (d["instruction"], d["output"]))
        for i, texts in self._sample(prompt, {i: (batch["output"][i], inputs[i]) for i in rows}).items():
            kept = list(
                dict.fromkeys(c for t in texts if (c := clean_candidate(t, batch["output"][i], demos, cfg.shape_check)))
            )
            candidates[i] = kept
            if not kept:
                reasons[i] = "no usable candidate after cleaning"
        return with_rejects({**batch, "input": inputs, "candidates": candidates}, self.stage, reasons)

    def _sample(self, prompt: PromptTemplate, queries: dict[int, tuple[str, str]]) -> dict[int, list[str]]:
        """K sampled completions per query, in length-sorted batches seeded from their content."""
        cfg = self.config
        model, tokenizer = load_model(cfg.model, cfg.revision, cfg.dtype)
        few_shot = cfg.few_shot if cfg.few_shot is not None else not is_trained_generator(cfg.model)
        prompts = {
            i: list(
                tokenizer.apply_chat_template(
                    prompt.messages(out, ctx, few_shot=few_shot), add_generation_prompt=True, return_dict=True
                )["input_ids"]
            )
            for i, (out, ctx) in queries.items()
        }
        order = sorted(prompts, key=lambda i: len(prompts[i]))
        results: dict[int, list[str]] = {}
        for start in range(0, len(order), cfg.batch_size):
            chunk = order[start : start + cfg.batch_size]
            torch.manual_seed(derive_seed(cfg.seed, *(queries[i] for i in chunk)))
            new = sample(
                model,
                [prompts[i] for i in chunk],
                cfg.k,
                tokenizer.pad_token_id,
                self._prefix_cache,
                do_sample=True,
                temperature=cfg.temperature,
                top_p=cfg.top_p,
                max_new_tokens=cfg.max_new_tokens,
            )
            self.stats.tokens += int((new != tokenizer.pad_token_id).sum())
            texts = tokenizer.batch_decode(new, skip_special_tokens=True)
            for j, i in enumerate(chunk):
                results[i] = texts[j * cfg.k : (j + 1) * cfg.k]
        return results
