from hf_david.job.runner import MANIFEST, Job, JobConfig, JobError

__all__ = ["MANIFEST", "Job", "JobConfig", "JobError"]
