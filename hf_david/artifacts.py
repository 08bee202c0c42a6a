"""Names of the files hf_david writes beside its outputs, shared by the modules that write and read them."""

JOB_MANIFEST = "hf_david_job.json"  # written by hf_david.job; read by cards, hub and the seed loaders
TRAINING_MANIFEST = "hf_david_training.json"  # written by hf_david.train; read by generate, cards and hub
GENERATOR_TASK = "instruction-generator"  # the `task` recorded for a trained instruction generator
