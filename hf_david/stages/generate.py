"""Extract-then-generate, step 2: sample K candidate instructions for each output.

Reads `output`, `context` and `level` (the context is shown to the generator for `keywords` rows, and for
every level but `passage` with `use_context`). Writes `candidates: list[str]` (cleaned, up to K), `input`
(the context the instruction refers to, or "") and the reject columns. The prompt is the flipped template
`prompts/instruction_generation.yaml` (or a YAML file of your own): an untrained instruct model gets its
few-shot demonstrations, a generator trained by `hf-david train-generator` the same user turn without them.
"""

from __future__ import annotations

from dataclasses import dataclass

from transformers.hf_argparser import HfArg

from hf_david.models import DEFAULT_MODEL, GENERATOR_MODEL, Sampling, is_trained_generator, load_tokenizer
from hf_david.prompts import INSTRUCTION_GENERATION, PromptTemplate, load_prompt
from hf_david.stages.base import ModelSettings, Stage, derive_seed, live_rows, require_columns, with_rejects
from hf_david.stages.candidates import clean_candidate
from hf_david.stages.rejects import Reason


@dataclass
class GenerateConfig(ModelSettings):
    """Sampling settings. `generator` overrides `model` for this stage; with the embedded default model it is
    the shipped trained generator (resolved here, so the manifest and the config hash name it)."""

    generator: str | None = HfArg(
        default=None,
        help=f"instruction generator; unset: the shipped trained generator {GENERATOR_MODEL} when --model is the "
        f"embedded default, else --model ({DEFAULT_MODEL} here: the untrained model with few-shot demonstrations)",
    )
    prompt: str = HfArg(default=INSTRUCTION_GENERATION, help="a shipped prompt name or a .yaml path")
    few_shot: bool | None = HfArg(
        default=None, help="show the prompt's demonstrations; unset: yes, unless the model is a trained generator"
    )
    use_context: bool = HfArg(default=False, help="show the passage to the generator and keep it as `input`")
    keywords_with_passage: bool = HfArg(
        default=True,
        help="`keywords` rows always show their passage as `input`, so the instruction can ask for its key phrases",
    )
    shape_check: bool = HfArg(
        default=True, help="keep only candidates shaped like English instructions (question word, imperative, '?')"
    )
    k: int = HfArg(default=4, help="candidate instructions sampled per output")
    max_new_tokens: int = HfArg(default=48, help="tokens per candidate")
    temperature: float = HfArg(default=0.9, help="sampling temperature")
    top_p: float = HfArg(default=0.95, help="nucleus sampling threshold")
    generate_batch_size: int = HfArg(
        default=32, help="rows per engine call (length-sorted); each row expands to k sequences"
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.generator is None and self.model == DEFAULT_MODEL:
            self.generator = GENERATOR_MODEL  # the paper's method: a generator trained on flipped seed pairs
        if self.k < 1:
            raise ValueError(f"k must be >= 1, got {self.k}")

    @property
    def generator_model(self) -> str:
        return self.generator or self.model


class GenerateInstructions(Stage):
    """Outputs in, `candidates` (up to K sampled instructions) out."""

    name = "generate"
    config_class = GenerateConfig

    def apply(self, batch: dict[str, list]) -> dict[str, list]:
        cfg = self.config
        require_columns(batch, "output")
        n = len(batch["output"])
        languages = batch.get("language") or [""] * n  # the shape check is English only for "en"/""
        contexts = batch.get("context") or [""] * n
        levels = batch.get("level") or [""] * n
        inputs, candidates = [""] * n, [[] for _ in range(n)]
        rejects: dict[int, tuple[Reason, str]] = {}
        rows = []
        for i in live_rows(batch):
            output = batch["output"][i]
            if not isinstance(output, str) or not output.strip():
                rejects[i] = (Reason.OUTPUT_EMPTY, "output is empty or not a string")
                continue
            keywords = cfg.keywords_with_passage and levels[i] == "keywords"
            if (keywords or (cfg.use_context and levels[i] != "passage")) and isinstance(contexts[i], str):
                inputs[i] = contexts[i]
            rows.append(i)
        prompt = load_prompt(cfg.prompt)
        demos = tuple(text for d in prompt.demonstrations for text in (d["instruction"], d["output"]))
        for i, texts in self._sample(prompt, {i: (batch["output"][i], inputs[i]) for i in rows}).items():
            cleaned = (clean_candidate(t, batch["output"][i], demos, cfg.shape_check, languages[i]) for t in texts)
            candidates[i] = list(dict.fromkeys(c for c in cleaned if c))
            if not candidates[i]:
                rejects[i] = (Reason.NO_USABLE_CANDIDATE, f"none of {len(texts)} sampled candidates survived cleaning")
        return with_rejects({**batch, "input": inputs, "candidates": candidates}, self.name, rejects)

    def _sample(self, prompt: PromptTemplate, queries: dict[int, tuple[str, str]]) -> dict[int, list[str]]:
        """K sampled completions per query, in length-sorted engine calls; each row seeded from its content."""
        cfg = self.config
        engine = cfg.engine_for(cfg.generator_model)
        tokenizer = load_tokenizer(cfg.generator_model, cfg.revision)
        few_shot = cfg.few_shot if cfg.few_shot is not None else not is_trained_generator(cfg.generator_model)
        prompts = {
            i: list(
                tokenizer.apply_chat_template(
                    prompt.messages(few_shot=few_shot, output=out, context=ctx),
                    add_generation_prompt=True,
                    return_dict=True,
                )["input_ids"]
            )
            for i, (out, ctx) in queries.items()
        }
        sampling = Sampling(cfg.k, cfg.max_new_tokens, True, cfg.temperature, cfg.top_p)
        order = sorted(prompts, key=lambda i: len(prompts[i]))
        results: dict[int, list[str]] = {}
        for start in range(0, len(order), cfg.generate_batch_size):
            chunk = order[start : start + cfg.generate_batch_size]
            seeds = [derive_seed(cfg.seed, *queries[i]) for i in chunk]
            new = engine.sample([prompts[i] for i in chunk], sampling, seeds)
            for i, ids in zip(chunk, new, strict=True):
                self.stats.tokens += sum(map(len, ids))
                results[i] = tokenizer.batch_decode(ids, skip_special_tokens=True)
        return results
