from hf_david.cli.main import main

__all__ = ["main"]
