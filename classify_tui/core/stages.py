"""Stage names, in order: shared by the pipeline and the CLI without importing the pipeline."""

STAGES = ("search", "download", "verify", "train", "review", "export")
DATA_STAGES = STAGES[:3]
