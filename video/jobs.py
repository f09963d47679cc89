"""Video export jobs on disk: one folder per job with its request, then its files.

Any process of the server can answer for a job. Never renders or encodes anything itself.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from video.render import VideoError, VideoSpec

JOB_ID = re.compile(r"^[0-9a-f]{16}$")
KEEP_DAYS = 7  # a job's folder (request and files) is removed a week after it was asked for
STEM = re.compile(r"[^A-Za-z0-9._-]+")
FORMATS = ("mp4", "gif")


@dataclass(frozen=True)
class VideoJob:
    """An export asked for: by whom, what to film, from which server, under what file name."""

    id: str
    owner: str
    base_url: str
    spec: VideoSpec
    stem: str
    created_at: str


def videos_dir(scenario_db: str | Path) -> Path:
    """Where a scenario database's video jobs live: ``<name>-videos/`` beside it."""
    db = Path(scenario_db)
    return db.with_name(f"{db.stem}-videos")


def file_stem(name: str) -> str:
    """A safe file name stem from a run's name: ``madina-<name>``, letters, digits, ``.-_``."""
    cleaned = STEM.sub("-", name).strip("-.")[:60]
    return f"madina-{cleaned or 'timelapse'}"


class VideoJobs:
    """The video jobs under ``root`` (see `videos_dir`)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def create(self, spec: VideoSpec, *, owner: str, base_url: str, name: str) -> VideoJob:
        """Record a new job (its folder and request); returns it with its random id.

        Jobs older than `KEEP_DAYS` are removed first.
        """
        self.prune()
        job = VideoJob(
            id=secrets.token_hex(8),
            owner=owner,
            base_url=base_url,
            spec=spec,
            stem=file_stem(name),
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        folder = self.folder(job.id)
        folder.mkdir(parents=True)
        partial = folder / ".job.json.part"
        partial.write_text(json.dumps(asdict(job)), encoding="utf-8")
        os.replace(partial, folder / "job.json")
        return job

    def prune(self, now: dt.datetime | None = None) -> list[str]:
        """Remove the jobs asked for more than `KEEP_DAYS` ago; their ids."""
        cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=KEEP_DAYS)
        removed = []
        for folder in self.root.glob("*") if self.root.is_dir() else ():
            if not JOB_ID.match(folder.name):
                continue
            try:
                created = dt.datetime.fromisoformat(self.get(folder.name).created_at)
            except VideoError:
                continue  # being written, or not ours: leave it
            if created < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
        return removed

    def get(self, job_id: str) -> VideoJob:
        """The job ``job_id``; `VideoError` naming it if there is no such job."""
        folder = self.folder(job_id)
        try:
            record = json.loads((folder / "job.json").read_text(encoding="utf-8"))
            return VideoJob(**{**record, "spec": VideoSpec(**record["spec"])})
        except (OSError, ValueError, TypeError, KeyError):
            raise VideoError(f"no video job {str(job_id)[:40]!r}") from None

    def folder(self, job_id: str) -> Path:
        """The job's folder; `VideoError` if ``job_id`` is not a job id."""
        if not isinstance(job_id, str) or not JOB_ID.match(job_id):
            raise VideoError(f"{str(job_id)[:40]!r} is not a video job id (16 hex digits)")
        return self.root / job_id

    def file(self, job_id: str, fmt: str) -> Path | None:
        """The job's finished ``fmt`` (mp4 or gif) file, or None while there is none."""
        if fmt not in FORMATS:
            raise VideoError(f"unknown video format {str(fmt)[:10]!r}; known: {', '.join(FORMATS)}")
        job = self.get(job_id)
        path = self.folder(job_id) / f"{job.stem}.{fmt}"
        return path if path.is_file() else None
