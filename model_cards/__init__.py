"""Jinja templates for the cards hf_david writes (rendered by `hf_david.publish.cards` with huggingface_hub)."""

from __future__ import annotations

from pathlib import Path

TEMPLATES_DIR = Path(__file__).resolve().parent
DATASET_CARD_TEMPLATE = TEMPLATES_DIR / "dataset_card.md"
MODEL_CARD_TEMPLATE = TEMPLATES_DIR / "model_card.md"

__all__ = ["DATASET_CARD_TEMPLATE", "MODEL_CARD_TEMPLATE", "TEMPLATES_DIR"]
