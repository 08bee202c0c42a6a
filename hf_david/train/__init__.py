"""The SFT recipes: `GeneratorConfig` (`hf-david train-generator`) and `FollowingConfig` (`hf-david train`),
both `trl.SFTConfig` subclasses, and `train(config)`, which writes the model folder and its training record."""

from hf_david.train.config import FollowingConfig, GeneratorConfig, RecipeConfig
from hf_david.train.data import load_generated
from hf_david.train.recipe import make_trainer, train

__all__ = ["FollowingConfig", "GeneratorConfig", "RecipeConfig", "load_generated", "make_trainer", "train"]
