"""Benchmark rows and prompts: SuperNI in Tk-Instruct's format, LongForm and the Dolly held-out proxy.

`load_benchmark(config)` reads the benchmark through `dataset_scripts` and returns the rows the runner
generates on; `render_prompts` turns each source text into the chat user turn the model sees. The
Tk-Instruct text lives in the `tk_instruct` prompt file (`hf_david/prompts/tk_instruct.yaml`); this
module only joins its parts by the collator's length rule.
"""

from __future__ import annotations

from collections.abc import Callable

from datasets import Dataset

from dataset_scripts import longform, superni
from hf_david.evaluation.config import EvalConfig
from hf_david.models import load_tokenizer
from hf_david.prompts import INSTRUCTION_FOLLOWING, TK_INSTRUCT, load_prompt

LABELS = {
    "superni": "SuperNI (NIv2 English test tasks)",
    "longform": "LongForm test set",
    "dolly-heldout": "Dolly held-out long-form responses (PROXY for LongForm, not the LongForm test set)",
}


def tk_instruct_prompt(row: dict, setting: str = "def+2pos", fits: Callable[[str], bool] | None = None) -> str:
    """The Tk-Instruct source text for one SuperNI instance (`DataCollatorForNI`, no task name).

    "def" is the definition only, "def+2pos" adds 2 positive examples; the text ends in "Now complete the
    following example - Input: ... Output: ". `fits(text)` mirrors the collator's length rule: a positive
    example is added only while the prompt still fits (Tk-Instruct checks the tokenized length against
    max_source_length). As in the collator, that check joins the examples with " " while the prompt
    itself joins them with "".
    """
    if setting not in superni.PROMPT_SETTINGS:
        raise ValueError(f"prompt setting must be one of {sorted(superni.PROMPT_SETTINGS)}, got {setting!r}")
    prompt = load_prompt(TK_INSTRUCT)
    definition = prompt.part("definition", definition=row["definition"])
    task_input = prompt.user_turn(input=row["input"])
    examples: list[str] = []
    for i, example in enumerate(row["positive_examples"][: superni.PROMPT_SETTINGS[setting]], 1):
        text = prompt.part("example", number=i, input=example["input"], output=example["output"])
        if fits is not None and not fits(definition + " ".join(examples) + text + task_input):
            break
        examples.append(text)
    return definition + "".join(examples) + task_input


def _superni(config: EvalConfig) -> Dataset:
    ds = superni.load_superni(config.data, config.max_instances)
    tokenizer = load_tokenizer(config.model, config.revision)

    def fits(text: str) -> bool:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"]) <= config.max_prompt_tokens

    return Dataset.from_dict(
        {
            "id": ds["id"],
            "source_text": [tk_instruct_prompt(r, config.prompt_setting, fits) for r in ds],
            "references": ds["references"],
            "group": ds["task_category"],
            "task_id": ds["task_name"],
        }
    )


def load_benchmark(config: EvalConfig) -> Dataset:
    """Rows with `id`, `source_text` (the prompt before the chat template: Tk-Instruct's for SuperNI, the
    follower's user turn for the long-form benchmarks), `references`, `group` (SuperNI task category or
    long-form source) and, for SuperNI, `task_id`."""
    if config.benchmark == "superni":
        return _superni(config)
    if config.benchmark == "longform":
        ds = longform.load_longform(config.data or longform.LONGFORM_HUB_ID)
    else:
        ds = longform.load_dolly_heldout(config.data)
    if config.max_instances is not None:
        ds = ds.select(superni.round_robin(ds["source"], config.max_instances))
    contexts = ds["context"] if "context" in ds.column_names else [""] * len(ds)
    follower = load_prompt(INSTRUCTION_FOLLOWING)
    return Dataset.from_dict(
        {
            "id": ds["id"],
            "source_text": [
                follower.user_turn(instruction=i, input=c) for i, c in zip(ds["input"], contexts, strict=True)
            ],
            "references": [[o] for o in ds["output"]],
            "group": ds["source"],
        }
    )


def render_prompts(texts: list[str], tokenizer, max_prompt_tokens: int) -> list[str]:
    """Truncate each text to `max_prompt_tokens` (as Tk-Instruct does), then wrap it as the user turn of
    the model's chat template (plain text when it has none)."""
    rendered = []
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        if len(ids) > max_prompt_tokens:
            text = tokenizer.decode(ids[:max_prompt_tokens], skip_special_tokens=True)
        if tokenizer.chat_template:
            text = tokenizer.apply_chat_template(
                [{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True
            )
        rendered.append(text)
    return rendered
