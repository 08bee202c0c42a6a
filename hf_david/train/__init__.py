from hf_david.train.recipe import (
    FollowingConfig,
    GeneratorConfig,
    add_config_arguments,
    config_from_args,
    make_trainer,
    train,
)

__all__ = ["FollowingConfig", "GeneratorConfig", "add_config_arguments", "config_from_args", "make_trainer", "train"]
