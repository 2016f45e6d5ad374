"""What the routes work on: one ``Services`` per app, opened once by ``create_app`` (or handed
to it) and kept on ``app.state``; handlers get it through ``Depends`` (``ServicesDep``), so
every router is a plain module-level ``APIRouter`` that can be imported and tested alone."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from service.cases.routing import Router
from service.cases.store import CaseRow, CaseStore
from service.cases.suppressions import RejectReason, Suppression, SuppressionStore
from service.config import Config
from service.edge.health_store import HealthStore, open_health_store
from service.feedback.hard_negatives import HardNegativeExporter
from service.queue import open_queue
from service.queue.base import EventQueue
from service.web.auth import Authenticator
from service.web.evidence_files import EvidenceFiles
from service.web.schemas import CameraStatus
from vision.types import Event

logger = logging.getLogger(__name__)


@dataclass
class Feedback:
    """What a rejection teaches: a suppression per camera/zone and hard-negative samples (as
    the reason's policy says); reopening the case takes both back."""

    suppressions: SuppressionStore
    hard_negatives: HardNegativeExporter

    def rejected(
        self, case: CaseRow, reason: RejectReason | None, note: str, actor: str
    ) -> list[Suppression]:
        reason = reason or RejectReason.OTHER
        events = [Event.model_validate(row.payload) for row in case.events]
        added = []
        if reason.suppresses:
            added = self.suppressions.add_for_events(
                events, reason=reason, note=note, actor=actor, case_id=case.id
            )
        if reason.hard_negative:
            self.hard_negatives.export(case.id, events, reason=reason, note=note, actor=actor)
        return added

    def reopened(self, case_id: str, actor: str) -> None:
        lifted = self.suppressions.lift_for_case(case_id, actor)
        removed = self.hard_negatives.remove(case_id)
        if lifted or removed:
            logger.info(
                "case %s reopened by %s: %d suppressions lifted, %d sample files removed",
                case_id,
                actor,
                lifted,
                removed,
            )


@dataclass
class Services:
    """The stores and settings behind the API and the pages."""

    config: Config
    queue: EventQueue
    cases: CaseStore
    health: HealthStore
    suppressions: SuppressionStore
    feedback: Feedback
    evidence: EvidenceFiles
    auth: Authenticator
    router: Router = field(init=False)

    def __post_init__(self) -> None:
        self.router = Router(self.config.dispatch.routing)

    @classmethod
    def open(cls, config: Config, auth: Authenticator, cases: CaseStore | None = None) -> Services:
        """Open every store ``config`` names (the case store unless one is given)."""
        cases = cases or CaseStore(
            config.cases_url, Router(config.dispatch.routing), config.dispatch.merge_distance_m
        )
        suppressions = SuppressionStore(
            cases.engine,
            default_hours=config.feedback.suppression_hours,
            min_overlap=config.feedback.suppression_min_overlap,
        )
        hard_negatives = HardNegativeExporter(
            config.dataset_path / "hard_negatives", config.evidence_path
        )
        return cls(
            config=config,
            queue=open_queue(config.queue_url),
            cases=cases,
            health=open_health_store(config.queue_url),
            suppressions=suppressions,
            feedback=Feedback(suppressions, hard_negatives),
            evidence=EvidenceFiles(config.evidence_path),
            auth=auth,
        )

    def cameras(self) -> list[CameraStatus]:
        """Every configured camera with the health its worker last reported."""
        stored = self.health.read()
        statuses = []
        for camera in self.config.cameras:
            record = stored.get(camera.id, {})
            fields = {k: v for k, v in record.items() if k in CameraStatus.model_fields}
            fields.pop("id", None)
            statuses.append(CameraStatus(id=camera.id, kind=camera.kind, **fields))
        return statuses


def services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(services)]
