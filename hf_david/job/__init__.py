"""Resumable, sharded generation jobs over a corpus: `Job(JobConfig(...), out).run()`."""

from hf_david.artifacts import JOB_MANIFEST as MANIFEST
from hf_david.job.config import JobConfig, JobError
from hf_david.job.runner import Job

__all__ = ["MANIFEST", "Job", "JobConfig", "JobError"]
